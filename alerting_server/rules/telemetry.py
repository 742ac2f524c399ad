"""The rule engine's own metrics on /metrics, named as Prometheus names its rule-manager metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVALUATIONS = Counter(
    "alerting_rule_evaluations", "Rule evaluations, periodic and write-triggered.", ["rule_group"]
)
FAILURES = Counter("alerting_rule_evaluation_failures", "Rule evaluations that failed.", ["rule_group"])
MISSED = Counter(
    "alerting_rule_group_iterations_missed",
    "Periodic evaluation slots skipped because the previous evaluation overran its interval.",
    ["rule_group"],
)
GROUP_DURATION = Histogram(
    "alerting_rule_group_duration_seconds",
    "Time one evaluation of a rule group took.",
    ["rule_group"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60),
)
TRIGGERED = Counter(
    "alerting_rule_group_triggered_evaluations",
    "Extra evaluations of a rule group caused by writes to the metrics its rules read.",
    ["rule_group"],
)
SKIPPED = Counter(
    "alerting_rule_evaluations_skipped",
    "Periodic rule evaluations skipped: the rule returned nothing, reads nothing written since, and "
    "does not depend on the evaluation time, so it would return nothing again.",
    ["rule_group"],
)
RULES = Gauge("alerting_rules", "Rules loaded into the evaluation engine.")
