"""Alertmanager's webhook integration: its JSON message, version "4", so existing receivers work.

Additions that receivers may ignore: an `Idempotency-Key` header stable across retries of one
notification, and with a shared secret an HMAC-SHA256 of the body in `X-Alerting-Signature`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from alerting_server.clock import Clock, SystemClock
from alerting_server.notify.classify import from_response, scrub, url_secrets
from alerting_server.notify.http import encode_json, post
from alerting_server.notify.integrations.webhook.config import WebhookConfig
from alerting_server.notify.message import AlertData, Message, go_time, truncate
from alerting_server.notify.notifier import DELIVERED, DeliveryResult

SIGNATURE_HEADER = "X-Alerting-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def webhook_payload(message: Message) -> dict[str, Any]:
    """The JSON object of webhook.go's Message, fields in the order Go writes them."""
    return {
        "receiver": message.receiver,
        "status": message.status,
        "alerts": [webhook_alert(a) for a in message.alerts],
        "groupLabels": sorted_kv(message.group_labels),
        "commonLabels": sorted_kv(message.common_labels),
        "commonAnnotations": sorted_kv(message.common_annotations),
        "externalURL": message.external_url,
        "version": "4",
        "groupKey": message.group_key,
        "truncatedAlerts": message.truncated_alerts,
    }


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookNotifier:
    client: httpx.AsyncClient
    config: WebhookConfig
    clock: Clock = field(default_factory=SystemClock)

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        body = encode_json(webhook_payload(truncate(message, self.config.max_alerts)))
        headers = {**self.config.headers, IDEMPOTENCY_HEADER: idempotency_key}
        if self.config.hmac_secret:
            headers[SIGNATURE_HEADER] = signature(self.config.hmac_secret, body)
        sent = await post(self.client, self.config.url, body, headers, timeouts=self.config.timeout)
        if isinstance(sent, DeliveryResult):
            return sent
        response, data = sent
        if response.is_success:
            return DELIVERED
        reason = scrub(data.decode(errors="replace"), self._secrets())
        return from_response(response, reason, self.clock.now_ms())

    def _secrets(self) -> list[str]:
        # Every header value is a secret, as the API treats them (validation/channels.py).
        return [*url_secrets(self.config.url), self.config.hmac_secret, *self.config.headers.values()]


def webhook_alert(alert: AlertData) -> dict[str, Any]:
    """One alert of Alertmanager's webhook body."""
    return {
        "status": alert.status,
        "labels": sorted_kv(alert.labels),
        "annotations": sorted_kv(alert.annotations),
        "startsAt": go_time(alert.starts_at),
        "endsAt": go_time(alert.ends_at),
        "generatorURL": alert.generator_url,
        "fingerprint": alert.fingerprint,
    }


def sorted_kv(labels: Mapping[str, str]) -> dict[str, str]:
    # Go marshals maps with sorted keys.
    return dict(sorted(labels.items()))
