"""PagerDuty Events API v2: one incident per aggregation group, keyed by a hash of the group key.

A firing group triggers (again: PagerDuty folds repeats into the open incident by dedup_key), an
all-resolved group resolves, and an acknowledgement is sent on its own with `acknowledge`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from alerting_server.clock import Clock, SystemClock
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.classify import from_response, scrub, url_secrets
from alerting_server.notify.http import encode_json, post
from alerting_server.notify.integrations.pagerduty.config import DEFAULT_SEVERITY, PagerDutyConfig
from alerting_server.notify.message import AlertData, Message
from alerting_server.notify.notifier import DELIVERED, DeliveryResult
from alerting_server.notify.templates import ChannelTemplates, Expander, noting_template_errors
from alerting_server.notify.texts import SEVERITIES, group_severity, subject

EventAction = Literal["trigger", "acknowledge", "resolve"]

CLIENT = "Alerting"
MAX_SUMMARY = 1024
# PagerDuty rejects events over 512 kB; custom details are what grows, and what is dropped.
MAX_EVENT_BYTES = 512_000


def dedup_key(group_key: str) -> str:
    """Alertmanager's notify.Key.Hash: the hex SHA-256 of the group key, so incidents line up with it."""
    return hashlib.sha256(group_key.encode()).hexdigest()


def truncate_summary(text: str) -> str:
    # As Alertmanager's notify.Truncate: an ellipsis marks the cut, within the limit.
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


def event_payload(
    message: Message,
    *,
    routing_key: str,
    default_severity: str = DEFAULT_SEVERITY,
    expander: Expander | None = None,
) -> dict[str, Any]:
    """`expander` renders the channel's `summary`, `severity`, `client` and `client_url` templates
    (Alertmanager's pagerduty_config `description`, `severity`, `client`, `client_url`)."""
    expand = expander or ChannelTemplates().expander(message, 0)
    action: EventAction = "trigger" if message.status == "firing" else "resolve"
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(message.group_key),
    }
    if action == "resolve":
        # PagerDuty needs nothing but the key to resolve; a payload would be ignored.
        return event
    event["payload"] = {
        "summary": truncate_summary(expand.text("summary", lambda: subject(message)) or subject(message)),
        "source": message.common_labels.get("instance") or CLIENT,
        "severity": _severity(message, default_severity, expand),
        "custom_details": {
            "firing": [_details(a) for a in message.firing],
            "resolved": [_details(a) for a in message.resolved],
            "num_firing": len(message.firing),
            "num_resolved": len(message.resolved),
            "truncated_alerts": message.truncated_alerts,
        },
    }
    event["client"] = expand.text("client", lambda: CLIENT)
    client_url = expand.text("client_url", lambda: _client_url(message))
    if client_url:
        event["client_url"] = client_url
    event["links"] = _links(message)
    return event


@dataclass(frozen=True)
class PagerDutyNotifier:
    client: httpx.AsyncClient
    config: PagerDutyConfig
    clock: Clock = field(default_factory=SystemClock)
    # What the channel's templates may call (None: Alertmanager's default templates alone).
    template_set: TemplateSet | None = None

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        # The dedup_key is the idempotency: a retried trigger updates the same incident.
        default = self.config.severity if self.config.severity in SEVERITIES else DEFAULT_SEVERITY
        expander = self.config.templates.expander(message, self.clock.now_ms(), self.template_set)
        event = event_payload(
            message, routing_key=self.config.routing_key, default_severity=default, expander=expander
        )
        return noting_template_errors(await self._send(event), expander)

    async def acknowledge(self, group_key: str) -> DeliveryResult:
        return await self._send(
            {
                "routing_key": self.config.routing_key,
                "event_action": "acknowledge",
                "dedup_key": dedup_key(group_key),
            }
        )

    async def _send(self, event: dict[str, Any]) -> DeliveryResult:
        body = encode_json(event)
        if len(body) > MAX_EVENT_BYTES and "payload" in event:
            event["payload"]["custom_details"] = {
                "error": f"custom details removed: the event exceeded PagerDuty's {MAX_EVENT_BYTES} bytes"
            }
            body = encode_json(event)
        sent = await post(self.client, self.config.url, body, self.config.headers)
        if isinstance(sent, DeliveryResult):
            return sent
        response, data = sent
        if response.is_success:
            return DELIVERED
        reason = scrub(_error_text(data), [self.config.routing_key, *url_secrets(self.config.url)])
        return from_response(response, reason, self.clock.now_ms())


def _severity(message: Message, default: str, expand: Expander) -> str:
    """The `severity` template's answer when it names one of PagerDuty's severities; else the
    most urgent severity label of the group, else the configured default."""
    if "severity" in expand:
        rendered = expand.text("severity", str).strip().lower()
        if rendered in SEVERITIES:
            return rendered
    return group_severity(message) or default


def _client_url(message: Message) -> str:
    if not message.external_url:
        return ""
    return f"{message.external_url}/#/alerts?receiver={quote(message.receiver, safe='')}"


def _details(alert: AlertData) -> dict[str, Any]:
    return {
        "labels": dict(sorted(alert.labels.items())),
        "annotations": dict(sorted(alert.annotations.items())),
    }


def _links(message: Message) -> list[dict[str, str]]:
    links = []
    if message.external_url:
        links.append({"href": message.external_url, "text": "Alerts"})
    if message.ack_url:
        links.append({"href": message.ack_url, "text": "Acknowledge"})
    seen = set()
    for alert in message.firing:
        if alert.generator_url and alert.generator_url not in seen:
            seen.add(alert.generator_url)
            links.append({"href": alert.generator_url, "text": "Source"})
    return links


def _error_text(data: bytes) -> str:
    """PagerDuty's `{"status", "message", "errors": [...]}`, told as Alertmanager's errDetails does."""
    text = data.decode(errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if not isinstance(body, Mapping):
        return text
    errors = body.get("errors")
    details = ", ".join(str(e) for e in errors) if isinstance(errors, list) else ""
    message = str(body.get("message") or body.get("status") or "")
    return f"{message}: {details}" if details else message
