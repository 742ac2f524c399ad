"""An outbox row's payload (written by the alert pipeline) as the Message a channel sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerting_server.alerts.codec import alert_from_data, alert_to_data
from alerting_server.alerts.fingerprint import fingerprint
from alerting_server.model import Alert, AlertState
from alerting_server.notify.message import Message, build_message

# A payload with this action asks the receiver to acknowledge the group's incident instead of
# sending the group (PagerDuty's `acknowledge`); the escalation stage enqueues such rows.
ACTION = "action"
ACKNOWLEDGE = "acknowledge"

TEST_ALERTNAME = "TestNotification"


class BadPayload(ValueError):
    """The row is not what the alert pipeline writes: no attempt can ever send it."""


def render(payload: Mapping[str, Any], *, external_url: str, send_resolved: bool) -> Message | None:
    """The message, or None when there is nothing this channel sends (only resolved alerts, and it
    does not send resolved ones), as Alertmanager skips such a notification."""
    try:
        firing = [alert_from_data(a) for a in payload.get("firing", ())]
        resolved = [alert_from_data(a) for a in payload.get("resolved", ())] if send_resolved else []
        receiver = str(payload["receiver"])
        group_key = str(payload["group_key"])
        group_labels = {str(k): str(v) for k, v in payload.get("group_labels", {}).items()}
        # Signed acknowledgement links: one per firing alert, and the group's own when it has one alert.
        ack_url = str(payload.get("ack_url", ""))
        ack_urls = {str(k): str(v) for k, v in payload.get("ack_urls", {}).items()}
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        raise BadPayload(f"unreadable notification payload ({type(e).__name__}: {e})") from None
    if not firing and not resolved:
        return None
    return build_message(
        receiver=receiver,
        group_key=group_key,
        group_labels=group_labels,
        firing=firing,
        resolved=resolved,
        external_url=external_url,
        ack_url=ack_url,
        ack_urls=ack_urls,
    )


def synthetic_payload(receiver: str, now: int) -> dict[str, Any]:
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
    return {
        "receiver": receiver,
        "group_key": f'{{}}:{{alertname="{TEST_ALERTNAME}"}}',
        "group_labels": {"alertname": TEST_ALERTNAME},
        "reason": "test",
        "firing": [alert_to_data(alert)],
        "resolved": [],
    }
