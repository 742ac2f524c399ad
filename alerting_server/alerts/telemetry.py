"""The alert pipeline's own metrics on /metrics."""

from __future__ import annotations

from prometheus_client import Counter

UNROUTABLE = Counter(
    "alerting_notifications_unroutable",
    "Notifications whose receiver (of a route or an escalation level) is no channel, by receiver; "
    "outcome: queued to the fallback receiver instead, or dropped when there is none.",
    ["receiver", "outcome"],
)
GROUP_LIMIT_REACHED = Counter(
    "alerting_aggregation_group_limit_reached",
    "Alerts left out of aggregation, and so not notified, because limits.max_aggregation_groups "
    "groups were open.",
)
