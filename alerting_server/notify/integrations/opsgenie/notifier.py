"""OpsGenie's Alert API v2, as Alertmanager calls it: create (and update) or close the group's alert,
whose alias is the hash of the group key."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from alerting_server.clock import Clock, SystemClock
from alerting_server.notify.alertmanager import gojson
from alerting_server.notify.alertmanager.data import alertmanager_message
from alerting_server.notify.alertmanager.opsgenie import Request, endpoint, opsgenie_requests
from alerting_server.notify.alertmanager.pagerduty import dedup_key
from alerting_server.notify.alertmanager.render import Renderer, TemplateFailed
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.classify import from_alertmanager_response, scrub, url_secrets
from alerting_server.notify.http import post
from alerting_server.notify.integrations.opsgenie.config import OpsGenieConfig
from alerting_server.notify.message import Message
from alerting_server.notify.notifier import DELIVERED, DeliveryResult

# Alertmanager retries OpsGenie's 429 besides 5xx.
RETRY_CODES = (429,)


@dataclass(frozen=True)
class OpsGenieNotifier:
    client: httpx.AsyncClient
    config: OpsGenieConfig
    templates: TemplateSet = field(default_factory=TemplateSet)
    clock: Clock = field(default_factory=SystemClock)

    def requests(self, message: Message) -> tuple[list[Request], str]:
        """The requests Alertmanager sends, and the rendered API key; raises TemplateFailed."""
        am = alertmanager_message(message)
        r = Renderer(self.templates, am, self.clock.now_ms())
        requests = opsgenie_requests(self.config.fields, self.config.api_url, am, r)
        return requests, r.text("api_key", self.config.api_key)

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        # The alias is the idempotency: OpsGenie folds a repeated create into the open alert.
        try:
            requests, api_key = self.requests(message)
        except TemplateFailed as e:
            return e.result()
        return await self._send(requests, api_key)

    async def acknowledge(self, group_key: str) -> DeliveryResult:
        """Our acknowledgement of the group, told to the alert Alertmanager's create opened for it."""
        if "{{" in self.config.api_key:
            # The key is rendered from a group's data, which an acknowledgement does not carry.
            return DeliveryResult(ok=False, retryable=False, reason="a templated api_key cannot acknowledge")
        url = endpoint(self.config.api_url, f"v2/alerts/{dedup_key(group_key)}/acknowledge", by_alias=True)
        body = gojson.encode({"source": "alerting", "note": "Acknowledged"})
        return await self._send([Request("POST", url, body)], self.config.api_key)

    async def _send(self, requests: list[Request], api_key: str) -> DeliveryResult:
        headers = {**self.config.headers, "Authorization": f"GenieKey {api_key}"}
        for request in requests:
            sent = await post(self.client, request.url, request.body, headers, method=request.method)
            if isinstance(sent, DeliveryResult):
                return sent
            response, data = sent
            if not response.is_success:
                secrets = [api_key, self.config.api_key, *url_secrets(self.config.api_url)]
                secrets += self.config.headers.values()
                reason = scrub(data.decode(errors="replace"), secrets)
                return from_alertmanager_response(response, reason, self.clock.now_ms(), RETRY_CODES)
        return DELIVERED
