"""An outbox row's payload (model.NotificationPayload, written by the alert pipeline) as the Message a
channel sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerting_server.alerts.fingerprint import fingerprint
from alerting_server.model import Alert, AlertState, NotificationPayload
from alerting_server.notify.message import Message, build_message

TEST_ALERTNAME = "TestNotification"


class BadPayload(ValueError):
    """The row is not what the alert pipeline writes: no attempt can ever send it."""


def decode(data: Mapping[str, Any]) -> NotificationPayload:
    try:
        return NotificationPayload.from_data(data)
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        raise BadPayload(f"unreadable notification payload ({type(e).__name__}: {e})") from None


def render(payload: NotificationPayload, *, external_url: str, send_resolved: bool) -> Message | None:
    """The message, or None when there is nothing this channel sends (only resolved alerts, and it
    does not send resolved ones), as Alertmanager skips such a notification."""
    firing = list(payload.firing)
    resolved = list(payload.resolved) if send_resolved else []
    if not firing and not resolved:
        return None
    return build_message(
        receiver=payload.receiver,
        group_key=payload.group_key,
        group_labels=dict(payload.group_labels),
        firing=firing,
        resolved=resolved,
        external_url=external_url,
        ack_url=payload.ack_url,
        ack_urls=dict(payload.ack_urls or {}),
    )


def synthetic_payload(receiver: str, now: int) -> NotificationPayload:
    """A synthetic firing group of one alert, `alertname=TestNotification`, for TestChannel."""
    labels = {"alertname": TEST_ALERTNAME, "severity": "info"}
    alert = Alert(
        fingerprint=fingerprint(labels),
        labels=labels,
        annotations={"summary": "A test notification from the alerting server", "description": ""},
        state=AlertState.FIRING,
        started_at=now,
        fired_at=now,
        updated_at=now,
    )
    return NotificationPayload(
        receiver=receiver,
        group_key=f'{{}}:{{alertname="{TEST_ALERTNAME}"}}',
        group_labels={"alertname": TEST_ALERTNAME},
        reason="test",
        firing=(alert,),
    )
