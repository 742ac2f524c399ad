"""Texts every integration shares: Alertmanager's default subject line, and the group's severity."""

from __future__ import annotations

from collections.abc import Mapping

from alerting_server.notify.message import Message

# Most urgent first; the names PagerDuty's Events API v2 accepts.
SEVERITIES = ("critical", "error", "warning", "info")


def sorted_pairs(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """Alertmanager's KV.SortedPairs: alertname first, then the rest by name."""
    return sorted(labels.items(), key=lambda kv: (kv[0] != "alertname", kv[0]))


def subject(message: Message) -> str:
    """Alertmanager's `__subject` template: `[FIRING:2] HighCPU (host-a critical)`.

    Group label values, then in brackets the values of the common labels that are not group
    labels, each in SortedPairs order.
    """
    head = message.status.upper()
    if message.status == "firing":
        head += f":{len(message.firing)}"
    text = f"[{head}] " + " ".join(v for _, v in sorted_pairs(message.group_labels))
    if len(message.common_labels) > len(message.group_labels):
        rest = {k: v for k, v in message.common_labels.items() if k not in message.group_labels}
        text += " (" + " ".join(v for _, v in sorted_pairs(rest)) + ")"
    return text.rstrip()


def group_severity(message: Message) -> str | None:
    """The most urgent known `severity` label among the alerts that matter now.

    Those are the firing alerts, or all of them once the group is resolved; None when no alert
    has a severity this module knows.
    """
    alerts = message.firing or message.alerts
    found = {a.labels.get("severity", "").lower() for a in alerts}
    return next((s for s in SEVERITIES if s in found), None)
