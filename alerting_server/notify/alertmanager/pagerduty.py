"""Alertmanager's PagerDuty integration, Events API v2 (notify/pagerduty/pagerduty.go).

Config keys are pagerduty_config's (description, details, severity, class, component, group,
client, client_url, source, images, links), with `routing_key` and `url`. Absent keys take
DefaultPagerdutyConfig's values; `source` defaults to the client's template, `details` get
the default firing/resolved/num_firing/num_resolved entries where not set, as its loader does.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from alerting_server.clock import Clock, SystemClock
from alerting_server.notify.alertmanager import gojson
from alerting_server.notify.alertmanager.data import alertmanager_message
from alerting_server.notify.alertmanager.render import Renderer, TemplateFailed, truncate_in_runes
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.classify import from_response, scrub, url_secrets
from alerting_server.notify.http import post
from alerting_server.notify.message import Message
from alerting_server.notify.notifier import DELIVERED, DeliveryResult

MAX_SUMMARY_RUNES = 1024
MAX_EVENT_BYTES = 512_000
# units.MetricBytes(512000).String() in Alertmanager's message.
_MAX_EVENT_TEXT = "512KB"

DEFAULTS: Mapping[str, str] = {
    "description": '{{ template "pagerduty.default.description" .}}',
    "client": '{{ template "pagerduty.default.client" . }}',
    "client_url": '{{ template "pagerduty.default.clientURL" . }}',
}
DEFAULT_DETAILS: Mapping[str, str] = {
    "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
    "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
    "num_firing": "{{ .Alerts.Firing | len }}",
    "num_resolved": "{{ .Alerts.Resolved | len }}",
}


def _get(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key, DEFAULTS.get(key, ""))
    return value if isinstance(value, str) else ""


def dedup_key(group_key: str) -> str:
    """notify.Key.Hash."""
    return hashlib.sha256(group_key.encode()).hexdigest()


def pagerduty_event(
    config: Mapping[str, Any], routing_key: str, message: Message, r: Renderer
) -> dict[str, Any]:
    """pagerDutyMessage of notifyV2, fields in Go's order."""
    details_config = {**DEFAULT_DETAILS, **dict(config.get("details") or {})}
    details = {k: r.text(f"details.{k}", str(v)) for k, v in sorted(details_config.items())}
    summary = truncate_in_runes(r.text("description", _get(config, "description")), MAX_SUMMARY_RUNES)
    source_text = config.get("source") or _get(config, "client")
    severity_text = config.get("severity") or "error"
    payload: dict[str, Any] = {
        "summary": summary,
        "source": r.text("source", str(source_text)),
        "severity": r.text("severity", str(severity_text)),
    }
    for key in ("class", "component", "group"):
        value = r.text(key, _get(config, key))
        if value:
            payload[key] = value
    if details:
        payload["custom_details"] = details
    event: dict[str, Any] = {}
    key = r.text("routing_key", routing_key)
    if key:
        event["routing_key"] = key
    event["dedup_key"] = dedup_key(message.group_key)
    event["event_action"] = "trigger" if message.status == "firing" else "resolve"
    event["payload"] = payload
    client = r.text("client", _get(config, "client"))
    if client:
        event["client"] = client
    client_url = r.text("client_url", _get(config, "client_url"))
    if client_url:
        event["client_url"] = client_url
    images = []
    for i, item in enumerate(config.get("images") or []):
        image = {k: r.text(f"images[{i}].{k}", str(item.get(k) or "")) for k in ("src", "alt", "href")}
        if image["src"]:
            images.append(image)
    if images:
        event["images"] = images
    links = []
    for i, item in enumerate(config.get("links") or []):
        link = {
            "href": r.text(f"links[{i}].href", str(item.get("href") or "")),
            "text": r.text(f"links[{i}].text", str(item.get("text") or "")),
        }
        if link["href"]:
            links.append(link)
    if links:
        event["links"] = links
    if not key:
        raise TemplateFailed("routing_key", "routing key cannot be empty")
    return event


def pagerduty_v1_event(
    config: Mapping[str, Any], service_key: str, message: Message, r: Renderer
) -> dict[str, Any]:
    """pagerDutyMessage of notifyV1 (Events API v1, a service_key), fields in Go's order."""
    details_config = {**DEFAULT_DETAILS, **dict(config.get("details") or {})}
    details = {k: r.text(f"details.{k}", str(v)) for k, v in sorted(details_config.items())}
    description = truncate_in_runes(r.text("description", _get(config, "description")), MAX_SUMMARY_RUNES)
    key = r.text("service_key", service_key)
    firing = message.status == "firing"
    event: dict[str, Any] = {}
    if key:
        event["service_key"] = key
    event["incident_key"] = dedup_key(message.group_key)
    event["event_type"] = "trigger" if firing else "resolve"
    if description:
        event["description"] = description
    event["event_action"] = ""
    event["payload"] = None
    if firing:
        for name in ("client", "client_url"):
            value = r.text(name, _get(config, name))
            if value:
                event[name] = value
    if details:
        event["details"] = details
    if not key:
        raise TemplateFailed("service_key", "service key cannot be empty")
    return event


def encode_event(event: dict[str, Any]) -> bytes:
    """encodeMessage: over PagerDuty's size limit, the custom details are replaced by a note."""
    body = gojson.encode(event)
    if len(body) > MAX_EVENT_BYTES:
        note = {
            "error": "Custom details have been removed because the original event exceeds the maximum "
            f"size of {_MAX_EVENT_TEXT}"
        }
        if event.get("payload") is None:  # v1
            event["details"] = note
        else:
            event["payload"]["custom_details"] = note
        body = gojson.encode(event)
    return body


@dataclass(frozen=True)
class AlertmanagerPagerDutyNotifier:
    client: httpx.AsyncClient
    routing_key: str
    url: str
    config: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    # An Events API v1 integration key: v1 events (to `url`, v1's) instead of v2.
    service_key: str = ""
    templates: TemplateSet = field(default_factory=TemplateSet)
    clock: Clock = field(default_factory=SystemClock)

    def render(self, message: Message) -> bytes:
        """The body Alertmanager posts; raises TemplateFailed."""
        am = alertmanager_message(message)
        r = Renderer(self.templates, am, self.clock.now_ms())
        if self.service_key:
            return encode_event(pagerduty_v1_event(self.config, self.service_key, am, r))
        return encode_event(pagerduty_event(self.config, self.routing_key, am, r))

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        try:
            body = self.render(message)
        except TemplateFailed as e:
            return e.result()
        return await self._post(body)

    async def acknowledge(self, group_key: str) -> DeliveryResult:
        """Our acknowledgement of the group, told to its incident (Alertmanager has none to send)."""
        if self.service_key:
            v1 = {
                "service_key": self.service_key,
                "incident_key": dedup_key(group_key),
                "event_type": "acknowledge",
            }
            return await self._post(gojson.encode(v1))
        event = {
            "routing_key": self.routing_key,
            "dedup_key": dedup_key(group_key),
            "event_action": "acknowledge",
        }
        return await self._post(gojson.encode(event))

    async def _post(self, body: bytes) -> DeliveryResult:
        sent = await post(self.client, self.url, body, self.headers)
        if isinstance(sent, DeliveryResult):
            return sent
        response, data = sent
        if response.is_success:
            return DELIVERED
        reason = scrub(
            data.decode(errors="replace"), [self.routing_key, self.service_key, *url_secrets(self.url)]
        )
        result = from_response(response, reason, self.clock.now_ms())
        if self.service_key and response.status_code == 403:
            # The v1 API's rate limit, which Alertmanager retries.
            return dataclasses.replace(result, retryable=True)
        return result
