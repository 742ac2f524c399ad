"""Acknowledgement as a step of the pipeline: it stops the alert's escalation (escalation/ pauses an
acknowledged alert) and asks each PagerDuty incident of the alert to acknowledge too."""

from __future__ import annotations

from collections.abc import Mapping

from alerting_server.alerts import history
from alerting_server.alerts.dispatch.aggregation import AlertGroup
from alerting_server.alerts.dispatch.receivers import Receivers
from alerting_server.alerts.live import LiveAlerts
from alerting_server.alerts.outbox import Outgoing, idempotency_key, pending_delivery
from alerting_server.alerts.watch import EventType
from alerting_server.errors import FailedPrecondition, NotFound
from alerting_server.model import (
    Ack,
    Alert,
    AlertState,
    Channel,
    ChannelType,
    Escalation,
    NotificationPayload,
)


def open_alert(live: LiveAlerts, fp: str, verb: str) -> Alert:
    return check_ackable(live.by_fingerprint, fp, verb)


def check_ackable(alerts: Mapping[str, Alert], fp: str, verb: str) -> Alert:
    """The alert, if it can be acknowledged or unacknowledged (`verb`): it exists and has not resolved."""
    alert = alerts.get(fp)
    if alert is None:
        raise NotFound(f"alert {fp!r} not found")
    if alert.state is AlertState.RESOLVED:
        raise FailedPrecondition(f"alert {fp!r} is resolved and cannot be {verb}")
    return alert


def acknowledge(
    live: LiveAlerts,
    fp: str,
    ack: Ack,
    *,
    groups: list[AlertGroup],
    escalation: Escalation | None,
    receivers: Receivers,
) -> Alert:
    alert = open_alert(live, fp, "acknowledged")
    acked = live.replace(alert, ack=ack)
    live.events.append((EventType.ACKNOWLEDGED, acked))
    live.history.append(history.acknowledged(fp, ack))
    if alert.ack is None:
        live.outbox.extend(_incidents(acked, ack.at, groups, escalation, receivers))
    return acked


def unacknowledge(live: LiveAlerts, fp: str, by: str, now: int) -> Alert | None:
    """The unacknowledged alert; None when it was not acknowledged (nothing changes)."""
    alert = open_alert(live, fp, "unacknowledged")
    if alert.ack is None:
        return None
    unacked = live.replace(alert, ack=None)
    live.events.append((EventType.UNACKNOWLEDGED, unacked))
    live.history.append(history.unacknowledged(fp, by, now))
    return unacked


# Receivers with incidents of their own, which an acknowledgement reaches.
INCIDENT_TYPES = (ChannelType.PAGERDUTY, ChannelType.OPSGENIE)


def _incidents(
    alert: Alert, now: int, groups: list[AlertGroup], esc: Escalation | None, receivers: Receivers
) -> list[Outgoing]:
    """An `acknowledge` to each PagerDuty channel that has an incident for the alert: those of its
    aggregation groups' receivers, those of the escalation levels it reached, and those of the
    people the escalation paged."""
    targets: list[tuple[str, Channel]] = []
    for group in groups:
        if alert.fingerprint in group.alerts:
            targets.extend((group.key, channel) for channel in receivers.channels(group.receiver) or ())
    if esc is not None:
        levels = esc.policy.levels[: esc.next_step]  # a repeat reaches no level the first pass missed
        for name in sorted({name for level in levels for name in level.channels}):
            targets.extend((esc.group_key, channel) for channel in receivers.channels(name) or ())
        # The people it paged, through their own PagerDuty services.
        targets.extend((esc.group_key, c) for c in map(receivers.get, esc.paged) if c is not None)
    rows: list[Outgoing] = []
    seen = set()
    for group_key, channel in targets:
        if channel.type not in INCIDENT_TYPES or (group_key, channel.id) in seen:
            continue
        seen.add((group_key, channel.id))
        key = idempotency_key("ack", group_key, channel.id, now)
        delivery = pending_delivery(channel, group_key, (alert.fingerprint,), key, now)
        rows.append((delivery, NotificationPayload.acknowledge(channel.receiver or channel.name, group_key)))
    return rows
