"""An alert's history: the events the pipeline records.

The pipeline appends a row per change in the transaction that makes the change. A notification
row names its outbox row; its outcome and attempts are read from that row when the history is
read (api/alerts.py), so the delivery side never writes history and the two never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerting_server.model import Ack, Alert, AlertHistoryEvent, HistoryEventType

DEFAULT_RETENTION = 30 * 24 * 3_600_000
DELIVERY_PREFIX = "delivery "


def state_change(alert: Alert, at: int) -> AlertHistoryEvent:
    return AlertHistoryEvent(
        alert.fingerprint, HistoryEventType.STATE_CHANGE, at, state=alert.state, value=alert.value
    )


def notification(
    fingerprint: str, channel: str, delivery_id: str, at: int, level: int = 0
) -> AlertHistoryEvent:
    return AlertHistoryEvent(
        fingerprint,
        HistoryEventType.NOTIFICATION,
        at,
        channel=channel,
        outcome="pending",
        level=level,
        message=DELIVERY_PREFIX + delivery_id,
    )


def escalation(
    fingerprint: str, level: int, channels: Sequence[str], message: str, at: int
) -> AlertHistoryEvent:
    return AlertHistoryEvent(
        fingerprint, HistoryEventType.ESCALATION, at, level=level, channel=",".join(channels), message=message
    )


def acknowledged(fingerprint: str, ack: Ack) -> AlertHistoryEvent:
    return AlertHistoryEvent(
        fingerprint, HistoryEventType.ACKNOWLEDGED, ack.at, by=ack.by, comment=ack.comment
    )


def unacknowledged(fingerprint: str, by: str, at: int, message: str = "") -> AlertHistoryEvent:
    return AlertHistoryEvent(fingerprint, HistoryEventType.UNACKNOWLEDGED, at, by=by, message=message)


def muting(old: Alert, new: Alert, at: int) -> list[AlertHistoryEvent]:
    """Silenced/unsilenced, inhibited/uninhibited and muted/unmuted, with the ids (time intervals: the
    names) of what mutes it now."""
    events = []
    fp = new.fingerprint
    if set(old.silenced_by) != set(new.silenced_by):
        kind = HistoryEventType.SILENCED if new.silenced_by else HistoryEventType.UNSILENCED
        events.append(AlertHistoryEvent(fp, kind, at, message=",".join(new.silenced_by or old.silenced_by)))
    if set(old.inhibited_by) != set(new.inhibited_by):
        kind = HistoryEventType.INHIBITED if new.inhibited_by else HistoryEventType.UNINHIBITED
        events.append(AlertHistoryEvent(fp, kind, at, message=",".join(new.inhibited_by or old.inhibited_by)))
    if set(old.muted_by) != set(new.muted_by):
        kind = HistoryEventType.MUTED if new.muted_by else HistoryEventType.UNMUTED
        events.append(AlertHistoryEvent(fp, kind, at, message=",".join(new.muted_by or old.muted_by)))
    return events
