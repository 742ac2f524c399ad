"""Alertmanager's Slack integration (notify/slack/slack.go): one attachment, every text a template.

The config keys are slack_config's (title, title_link, pretext, text, fallback, callback_id,
footer, color, fields, short_fields, actions, image_url, thumb_url, mrkdwn_in, channel, username,
icon_emoji, icon_url, link_names), `webhook_url` being its api_url. A key that is absent takes
Alertmanager's default (DefaultSlackConfig), as its configuration loader fills them in.
"""

from __future__ import annotations

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

MAX_TITLE_RUNES = 1024

DEFAULTS: Mapping[str, str] = {
    "color": '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
    "username": '{{ template "slack.default.username" . }}',
    "title": '{{ template "slack.default.title" . }}',
    "title_link": '{{ template "slack.default.titlelink" . }}',
    "icon_emoji": '{{ template "slack.default.iconemoji" . }}',
    "icon_url": '{{ template "slack.default.iconurl" . }}',
    "pretext": '{{ template "slack.default.pretext" . }}',
    "text": '{{ template "slack.default.text" . }}',
    "fallback": '{{ template "slack.default.fallback" . }}',
    "callback_id": '{{ template "slack.default.callbackid" . }}',
    "footer": '{{ template "slack.default.footer" . }}',
}


def _get(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key, DEFAULTS.get(key, ""))
    return value if isinstance(value, str) else ""


def slack_request(config: Mapping[str, Any], r: Renderer) -> dict[str, Any]:
    """The request object of slack.go, its fields in Go's order and omitempty as Go's tags say."""
    att: dict[str, Any] = {}
    title = truncate_in_runes(r.text("title", _get(config, "title")), MAX_TITLE_RUNES)
    _put(att, "title", title)
    _put(att, "title_link", r.text("title_link", _get(config, "title_link")))
    _put(att, "pretext", r.text("pretext", _get(config, "pretext")))
    att["text"] = r.text("text", _get(config, "text"))
    att["fallback"] = r.text("fallback", _get(config, "fallback"))
    att["callback_id"] = r.text("callback_id", _get(config, "callback_id"))
    fields = []
    short_default = config.get("short_fields") is True
    for i, f in enumerate(config.get("fields") or []):
        short = f.get("short")
        item: dict[str, Any] = {}
        _put(item, "title", r.text(f"fields[{i}].title", str(f.get("title") or "")))
        _put(item, "value", r.text(f"fields[{i}].value", str(f.get("value") or "")))
        item["short"] = short if isinstance(short, bool) else short_default
        fields.append(item)
    if fields:
        att["fields"] = fields
    actions = [_action(r, i, a) for i, a in enumerate(config.get("actions") or [])]
    if actions:
        att["actions"] = actions
    image_url = r.text("image_url", _get(config, "image_url"))
    thumb_url = r.text("thumb_url", _get(config, "thumb_url"))
    _put(att, "image_url", image_url)
    _put(att, "thumb_url", thumb_url)
    att["footer"] = r.text("footer", _get(config, "footer"))
    _put(att, "color", r.text("color", _get(config, "color")))
    mrkdwn_in = list(config.get("mrkdwn_in") or []) or ["fallback", "pretext", "text"]
    att["mrkdwn_in"] = mrkdwn_in

    request: dict[str, Any] = {}
    _put(request, "channel", r.text("channel", _get(config, "channel")))
    _put(request, "username", r.text("username", _get(config, "username")))
    _put(request, "icon_emoji", r.text("icon_emoji", _get(config, "icon_emoji")))
    _put(request, "icon_url", r.text("icon_url", _get(config, "icon_url")))
    if config.get("link_names") is True:
        request["link_names"] = True
    request["attachments"] = [att]
    return request


def _action(r: Renderer, i: int, action: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("type", "text", "url", "style", "name", "value"):
        _put(out, key, r.text(f"actions[{i}].{key}", str(action.get(key) or "")))
    confirm = action.get("confirm")
    if isinstance(confirm, Mapping):
        c: dict[str, Any] = {}
        for key in ("text", "title", "ok_text", "dismiss_text"):
            _put(c, key, r.text(f"actions[{i}].confirm.{key}", str(confirm.get(key) or "")))
        out["confirm"] = c
    return out


def _put(target: dict[str, Any], key: str, value: str) -> None:
    # Go's omitempty: an empty string is left out.
    if value:
        target[key] = value


@dataclass(frozen=True)
class AlertmanagerSlackNotifier:
    client: httpx.AsyncClient
    webhook_url: str
    config: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    templates: TemplateSet = field(default_factory=TemplateSet)
    clock: Clock = field(default_factory=SystemClock)

    def render(self, message: Message) -> bytes:
        """The body Alertmanager posts; raises TemplateFailed."""
        r = Renderer(self.templates, alertmanager_message(message), self.clock.now_ms())
        return gojson.encode(slack_request(self.config, r))

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        try:
            body = self.render(message)
        except TemplateFailed as e:
            return e.result()
        sent = await post(self.client, self.webhook_url, body, self.headers)
        if isinstance(sent, DeliveryResult):
            return sent
        response, data = sent
        reason = scrub(data.decode(errors="replace").strip(), url_secrets(self.webhook_url))
        if not response.is_success:
            return from_response(response, reason, self.clock.now_ms())
        return DELIVERED
