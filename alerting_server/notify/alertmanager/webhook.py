"""Alertmanager's webhook integration (notify/webhook/webhook.go): its Message, version "4".

The body is what Alertmanager writes byte for byte: Go's JSON encoding (HTML-safe escapes, a
trailing newline), its order of alerts, the receiver name as a quoted regular expression (as its
template data has it), and the data computed over the alerts kept under `max_alerts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from alerting_server.clock import Clock, SystemClock
from alerting_server.notify.alertmanager import gojson
from alerting_server.notify.alertmanager.data import alertmanager_message
from alerting_server.notify.classify import from_response, scrub, url_secrets
from alerting_server.notify.http import post
from alerting_server.notify.integrations.webhook.notifier import sorted_kv, webhook_alert
from alerting_server.notify.message import Message
from alerting_server.notify.notifier import DELIVERED, DeliveryResult
from alerting_server.notify.template_data import template_data


def webhook_message(message: Message, max_alerts: int = 0) -> dict[str, Any]:
    am = alertmanager_message(message, max_alerts)
    data = template_data(am)
    return {
        "receiver": data.Receiver,
        "status": am.status,
        "alerts": [webhook_alert(a) for a in am.alerts],
        "groupLabels": sorted_kv(am.group_labels),
        "commonLabels": sorted_kv(am.common_labels),
        "commonAnnotations": sorted_kv(am.common_annotations),
        "externalURL": am.external_url,
        "version": "4",
        "groupKey": am.group_key,
        "truncatedAlerts": am.truncated_alerts,
    }


@dataclass(frozen=True)
class AlertmanagerWebhookNotifier:
    client: httpx.AsyncClient
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    max_alerts: int = 0
    timeout: httpx.Timeout | None = None
    # Our addition, as for every webhook channel: an HMAC-SHA256 of the body in a header.
    hmac_secret: str = ""
    clock: Clock = field(default_factory=SystemClock)

    def render(self, message: Message) -> bytes:
        return gojson.encode(webhook_message(message, self.max_alerts))

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        sent = await post(
            self.client, self.url, self.render(message), dict(self.headers), timeouts=self.timeout
        )
        if isinstance(sent, DeliveryResult):
            return sent
        response, data = sent
        if response.is_success:
            return DELIVERED
        secrets = [*url_secrets(self.url), self.hmac_secret, *self.headers.values()]
        reason = scrub(data.decode(errors="replace"), [s for s in secrets if s])
        return from_response(response, reason, self.clock.now_ms())
