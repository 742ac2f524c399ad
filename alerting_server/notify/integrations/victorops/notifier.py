"""VictorOps' REST endpoint, as Alertmanager posts to it: one incident per group, its entity_id the
hash of the group key, recovered when the group is resolved."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from alerting_server.clock import Clock, SystemClock
from alerting_server.notify.alertmanager.data import alertmanager_message
from alerting_server.notify.alertmanager.render import Renderer, TemplateFailed
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.alertmanager.victorops import victorops_payload, victorops_url
from alerting_server.notify.classify import from_alertmanager_response, scrub, url_secrets
from alerting_server.notify.http import post
from alerting_server.notify.integrations.victorops.config import VictorOpsConfig
from alerting_server.notify.message import Message
from alerting_server.notify.notifier import DELIVERED, DeliveryResult


@dataclass(frozen=True)
class VictorOpsNotifier:
    client: httpx.AsyncClient
    config: VictorOpsConfig
    templates: TemplateSet = field(default_factory=TemplateSet)
    clock: Clock = field(default_factory=SystemClock)

    def request(self, message: Message) -> tuple[str, bytes]:
        """Where Alertmanager posts and what; raises TemplateFailed."""
        am = alertmanager_message(message)
        r = Renderer(self.templates, am, self.clock.now_ms())
        routing_key = r.text("routing_key", self.config.routing_key)
        url = victorops_url(self.config.api_url, self.config.api_key, routing_key)
        return url, victorops_payload(self.config.fields, am, r)

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        # The entity_id is the idempotency: VictorOps folds a repeated alert into its incident.
        try:
            url, body = self.request(message)
        except TemplateFailed as e:
            return e.result()
        sent = await post(self.client, url, body, dict(self.config.headers))
        if isinstance(sent, DeliveryResult):
            return sent
        response, data = sent
        if response.is_success:
            return DELIVERED
        secrets = [self.config.api_key, *url_secrets(url), *self.config.headers.values()]
        reason = scrub(data.decode(errors="replace"), secrets)
        # Alertmanager retries 5xx alone: VictorOps documents no other.
        return from_alertmanager_response(response, reason, self.clock.now_ms())
