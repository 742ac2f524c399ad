from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from alerting_server.model import Rule, RuleType
from alerting_server.validation.resources import validate_rule
from tests.validation.helpers import violations_of

ALERT = Rule(
    name="high_cpu_alert",
    query="avg(cpu_usage) > 80",
    duration=300_000,
    keep_firing_for=0,
    severity="warning",
    labels={"team": "infra", "instance": "{{ $labels.host }}"},
    annotations={
        "summary": "High CPU usage detected",
        "description": "CPU usage is {{ $value }}% on {{ $labels.host }} ({{ humanize $value }})",
    },
    group="default",
    interval=15_000,
    escalation_policy_id="p1",
)
RECORDING = Rule(
    name="job:cpu_usage:avg",
    query="avg by (job) (cpu_usage)",
    type=RuleType.RECORDING,
    labels={"source": "recorded"},
)


def errors(rule: Rule, **changes: Any) -> dict[str, str]:
    return violations_of(lambda: validate_rule(dataclasses.replace(rule, **changes)))


@pytest.mark.parametrize(
    "rule",
    [
        ALERT,
        RECORDING,
        dataclasses.replace(ALERT, name="Disk almost full (90%)", query="vector(1)", duration=0),
        dataclasses.replace(ALERT, query="scalar(up) > bool 0", labels={}, annotations={}, severity=""),
        dataclasses.replace(RECORDING, query="sum(rate(http_requests_total[5m]))"),
        dataclasses.replace(ALERT, interval=None),
    ],
)
def test_valid_rules(rule: Rule) -> None:
    validate_rule(rule)


@pytest.mark.parametrize(
    ("rule", "changes", "field", "reason"),
    [
        (ALERT, {"name": ""}, "name", "must not be empty"),
        (ALERT, {"name": "x" * 257}, "name", "must be at most 256 characters"),
        (ALERT, {"name": "bad\nname"}, "name", "must not contain control characters"),
        (RECORDING, {"name": "job-cpu"}, "name", "invalid metric name 'job-cpu'"),
        (ALERT, {"query": ""}, "query", "must not be empty"),
        (
            ALERT,
            {"query": "avg(cpu_usage > 80"},
            "query",
            "invalid PromQL: 1:19: parse error: unclosed left parenthesis",
        ),
        (
            ALERT,
            {"query": "cpu_usage[5m]"},
            "query",
            "must evaluate to an instant vector or a scalar, got a matrix",
        ),
        (ALERT, {"query": '"text"'}, "query", "must evaluate to an instant vector or a scalar, got a string"),
        (
            RECORDING,
            {"query": "up[5m]"},
            "query",
            "must evaluate to an instant vector or a scalar, got a matrix",
        ),
        (ALERT, {"duration": -1}, "duration", "must not be negative"),
        (ALERT, {"keep_firing_for": -60_000}, "keep_firing_for", "must not be negative, got -1m"),
        (ALERT, {"interval": 0}, "interval", "must be greater than zero"),
        (ALERT, {"group": ""}, "group", "must not be empty"),
        (ALERT, {"datasource": ""}, "datasource", "must not be empty"),
        (ALERT, {"severity": "\udc80"}, "severity", "label value must be valid UTF-8"),
        (ALERT, {"labels": {"bad-name": "x"}}, "labels.bad-name", "invalid label name 'bad-name'"),
        (ALERT, {"labels": {"__reserved": "x"}}, "labels.__reserved", "is reserved"),
        (ALERT, {"labels": {"alertname": "x"}}, "labels.alertname", "the alertname label is the rule's name"),
        (ALERT, {"labels": {"severity": "page"}}, "labels.severity", "comes from the `severity` field"),
        (ALERT, {"labels": {"team": "{{ nosuchfn }}"}}, "labels.team", 'function "nosuchfn" not defined'),
        (ALERT, {"labels": {f"l{i}": "v" for i in range(65)}}, "labels", "at most 64 labels, got 65"),
        (
            ALERT,
            {"annotations": {"summary": "{{ $value "}},
            "annotations.summary",
            "template: __alert_high_cpu_alert:1: unclosed action",
        ),
        (ALERT, {"annotations": {"runbook-url": "x"}}, "annotations.runbook-url", "invalid label name"),
        (
            ALERT,
            {"annotations": {"big": "x" * 70_000}},
            "annotations.big",
            "must be at most 65536 characters",
        ),
        (ALERT, {"annotations": {f"a{i}": "v" for i in range(65)}}, "annotations", "at most 64 annotations"),
        (RECORDING, {"duration": 60_000}, "duration", "only alerting rules have this field"),
        (RECORDING, {"keep_firing_for": 60_000}, "keep_firing_for", "only alerting rules have this field"),
        (RECORDING, {"annotations": {"summary": "x"}}, "annotations", "only alerting rules have this field"),
        (RECORDING, {"severity": "page"}, "severity", "only alerting rules have this field"),
        (
            RECORDING,
            {"escalation_policy_id": "p1"},
            "escalation_policy_id",
            "only alerting rules have this field",
        ),
        (RECORDING, {"labels": {"__name__": "x"}}, "labels.__name__", "is reserved"),
    ],
)
def test_invalid_rules(rule: Rule, changes: dict[str, Any], field: str, reason: str) -> None:
    found = errors(rule, **changes)
    assert list(found) == [field]
    assert reason in found[field]


def test_recording_rule_labels_are_not_templates() -> None:
    # Prometheus copies a recording rule's labels verbatim.
    validate_rule(dataclasses.replace(RECORDING, labels={"note": "{{ not a template"}))


def test_every_bad_field_is_reported() -> None:
    found = errors(
        ALERT,
        name="",
        query="sum(",
        duration=-1,
        labels={"1x": "v"},
        annotations={"summary": "{{ end }}"},
    )
    assert set(found) == {"name", "query", "duration", "labels.1x", "annotations.summary"}
