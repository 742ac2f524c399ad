"""What an outbox row asks a channel to send: the contract between the alert pipeline, which writes
it, and the delivery side, which renders it. Stored as JSON; `to_data`/`from_data` are its one codec,
and what they write is what the rows already in an outbox hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from alerting_server.model.alert import Alert
from alerting_server.model.codec import alert_from_data, alert_to_data

# Asks the receiver to acknowledge the group's incident instead of sending the group (PagerDuty's
# `acknowledge`).
ACKNOWLEDGE = "acknowledge"


@dataclass(frozen=True)
class NotificationPayload:
    receiver: str
    group_key: str
    action: str = ""
    group_labels: Mapping[str, str] = field(default_factory=dict)
    route_key: str = ""
    escalation_policy_id: str = ""
    # Set on the notifications of an escalation level only.
    escalation_level: int | None = None
    escalation_repeat: int | None = None
    reason: str = ""
    firing: tuple[Alert, ...] = ()
    resolved: tuple[Alert, ...] = ()
    # Signed acknowledgement links: one per firing alert, and the group's own when it has one alert.
    ack_url: str = ""
    ack_urls: Mapping[str, str] | None = None

    @classmethod
    def acknowledge(cls, receiver: str, group_key: str) -> NotificationPayload:
        return cls(receiver=receiver, group_key=group_key, action=ACKNOWLEDGE)

    @property
    def acknowledges(self) -> bool:
        return self.action == ACKNOWLEDGE

    def to_data(self) -> dict[str, object]:
        if self.acknowledges:
            return {"action": self.action, "receiver": self.receiver, "group_key": self.group_key}
        data: dict[str, object] = {
            "receiver": self.receiver,
            "group_key": self.group_key,
            "group_labels": dict(self.group_labels),
            "route_key": self.route_key,
            "escalation_policy_id": self.escalation_policy_id,
        }
        if self.escalation_level is not None:
            data["escalation_level"] = self.escalation_level
            data["escalation_repeat"] = self.escalation_repeat or 0
        data["reason"] = self.reason
        data["firing"] = [alert_to_data(a) for a in self.firing]
        data["resolved"] = [alert_to_data(a) for a in self.resolved]
        if self.ack_urls is not None:
            data["ack_urls"] = dict(self.ack_urls)
        if self.ack_url:
            data["ack_url"] = self.ack_url
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> NotificationPayload:
        """KeyError/ValueError/TypeError/AttributeError when `data` is not what `to_data` writes."""
        level = data.get("escalation_level")
        repeat = data.get("escalation_repeat")
        urls = data.get("ack_urls")
        return cls(
            receiver=str(data["receiver"]),
            group_key=str(data["group_key"]),
            action=str(data.get("action", "")),
            group_labels={str(k): str(v) for k, v in data.get("group_labels", {}).items()},
            route_key=str(data.get("route_key", "")),
            escalation_policy_id=str(data.get("escalation_policy_id", "")),
            escalation_level=None if level is None else int(level),
            escalation_repeat=None if repeat is None else int(repeat),
            reason=str(data.get("reason", "")),
            firing=tuple(alert_from_data(a) for a in data.get("firing", ())),
            resolved=tuple(alert_from_data(a) for a in data.get("resolved", ())),
            ack_url=str(data.get("ack_url", "")),
            ack_urls=None if urls is None else {str(k): str(v) for k, v in urls.items()},
        )
