"""Pushover's messages API, as Alertmanager calls it: the parameters in the query string of a POST
whose body is empty."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from alerting_server.clock import Clock, SystemClock
from alerting_server.notify.alertmanager.data import alertmanager_message
from alerting_server.notify.alertmanager.pushover import pushover_parameters, pushover_url
from alerting_server.notify.alertmanager.render import Renderer, TemplateFailed
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.classify import from_alertmanager_response, scrub, url_secrets
from alerting_server.notify.http import post
from alerting_server.notify.integrations.pushover.config import PushoverConfig
from alerting_server.notify.message import Message
from alerting_server.notify.notifier import DELIVERED, DeliveryResult


@dataclass(frozen=True)
class PushoverNotifier:
    client: httpx.AsyncClient
    config: PushoverConfig
    templates: TemplateSet = field(default_factory=TemplateSet)
    clock: Clock = field(default_factory=SystemClock)

    def url(self, message: Message) -> str:
        """The URL Alertmanager posts to, parameters and all; raises TemplateFailed."""
        am = alertmanager_message(message)
        r = Renderer(self.templates, am, self.clock.now_ms())
        params = pushover_parameters(self.config.fields, self.config.token, self.config.user_key, r)
        return pushover_url(self.config.api_url, params)

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        try:
            url = self.url(message)
        except TemplateFailed as e:
            return e.result()
        headers = {**self.config.headers, "Content-Type": "text/plain"}
        sent = await post(self.client, url, b"", headers)
        if isinstance(sent, DeliveryResult):
            return sent
        response, data = sent
        if response.is_success:
            return DELIVERED
        secrets = [self.config.token, self.config.user_key, *url_secrets(url), *self.config.headers.values()]
        reason = scrub(data.decode(errors="replace"), secrets)
        # Alertmanager retries 5xx alone.
        return from_alertmanager_response(response, reason, self.clock.now_ms())
