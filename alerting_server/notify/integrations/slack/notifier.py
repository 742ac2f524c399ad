"""Slack incoming webhooks: a Block Kit message, coloured by severity through an attachment.

Slack answers 200 "ok" on success and a short text otherwise (`invalid_payload`,
`channel_not_found`, `no_service`, ...): those are permanent; 429 and 5xx are retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from alerting_server.clock import Clock, SystemClock
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.classify import from_response, scrub, url_secrets
from alerting_server.notify.http import encode_json, post
from alerting_server.notify.integrations.slack.config import SlackConfig
from alerting_server.notify.message import AlertData, Message
from alerting_server.notify.notifier import DELIVERED, DeliveryResult
from alerting_server.notify.templates import ChannelTemplates, Expander, noting_template_errors
from alerting_server.notify.texts import group_severity, sorted_pairs

RED = "#E01E5A"
ORANGE = "#F2952F"
BLUE = "#1D9BD1"
GREEN = "#2EB67D"
SEVERITY_COLOURS = {"critical": RED, "error": RED, "warning": ORANGE}

# Slack's limits: 50 blocks a message, 150 characters of header, 3000 of section text.
MAX_ALERT_SECTIONS = 20
MAX_HEADER = 150
MAX_SECTION = 3000


def colour(message: Message) -> str:
    if message.status == "resolved":
        return GREEN
    return SEVERITY_COLOURS.get(group_severity(message) or "", BLUE)


def slack_payload(
    message: Message,
    *,
    channel: str = "",
    username: str = "",
    icon_emoji: str = "",
    expander: Expander | None = None,
) -> dict[str, Any]:
    """`expander` renders the channel's `title`, `text`, `pretext` and `footer` templates, as
    Alertmanager's slack_config has them; an overridden text replaces the alert sections."""
    expand = expander or ChannelTemplates().expander(message, 0)
    # A header is plain text on one line.
    title = " ".join(expand.text("title", lambda: _title(message)).split()) or _title(message)
    payload: dict[str, Any] = {}
    for key, value in (("channel", channel), ("username", username), ("icon_emoji", icon_emoji)):
        if value:
            payload[key] = value
    payload["text"] = title  # what notifications and clients without Block Kit show
    payload["blocks"] = [{"type": "header", "text": _plain(title[:MAX_HEADER])}]
    attachment: dict[str, Any] = {"color": colour(message), "fallback": title}
    pretext = expand.text("pretext", str)
    if pretext:
        attachment["pretext"] = pretext
    text = expand.text("text", str)
    blocks = [{"type": "section", "text": _mrkdwn(text[:MAX_SECTION])}] if text else _alert_blocks(message)
    attachment["blocks"] = blocks + _action_blocks(message)
    footer = expand.text("footer", str)
    if footer:
        attachment["footer"] = footer
    payload["attachments"] = [attachment]
    return payload


@dataclass(frozen=True)
class SlackNotifier:
    client: httpx.AsyncClient
    config: SlackConfig
    clock: Clock = field(default_factory=SystemClock)
    # What the channel's templates may call (None: Alertmanager's default templates alone).
    template_set: TemplateSet | None = None

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        expander = self.config.templates.expander(message, self.clock.now_ms(), self.template_set)
        # Slack has no idempotency key: a retry after a lost answer may post twice.
        payload = slack_payload(
            message,
            # Templates too, as in Alertmanager's slack_config; a plain name renders as itself.
            channel=expander.text("channel", lambda: self.config.channel),
            username=expander.text("username", lambda: self.config.username),
            icon_emoji=expander.text("icon_emoji", lambda: self.config.icon_emoji),
            expander=expander,
        )
        return noting_template_errors(await self._post(payload), expander)

    async def _post(self, payload: dict[str, Any]) -> DeliveryResult:
        sent = await post(self.client, self.config.webhook_url, encode_json(payload), self.config.headers)
        if isinstance(sent, DeliveryResult):
            return sent
        response, data = sent
        reason = scrub(_error_text(data), url_secrets(self.config.webhook_url))
        if not response.is_success:
            return from_response(response, reason, self.clock.now_ms())
        if reason and reason != "ok":
            # A 200 that is not "ok" is how Slack-compatible receivers report a rejected message.
            return DeliveryResult(ok=False, retryable=False, status_code=response.status_code, reason=reason)
        return DELIVERED


def _title(message: Message) -> str:
    counts = [f"FIRING:{len(message.firing)}"] if message.firing else []
    if message.resolved:
        counts.append(f"RESOLVED:{len(message.resolved)}")
    name = " ".join(v for _, v in sorted_pairs(message.group_labels))
    return f"[{', '.join(counts)}] {name or message.common_labels.get('alertname', message.receiver)}"


def _alert_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    shown = message.alerts[:MAX_ALERT_SECTIONS]
    for alert in shown:
        blocks.append({"type": "section", "text": _mrkdwn(_alert_text(alert)[:MAX_SECTION])})
    hidden = len(message.alerts) - len(shown) + message.truncated_alerts
    if hidden:
        blocks.append({"type": "context", "elements": [_mrkdwn(f"and {hidden} more alerts")]})
    return blocks


def _action_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    buttons = []
    if message.external_url:
        buttons.append({"type": "button", "text": _plain("View alerts"), "url": message.external_url})
    if message.ack_url and message.status == "firing":
        buttons.append(
            {"type": "button", "text": _plain("Acknowledge"), "url": message.ack_url, "style": "primary"}
        )
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def _alert_text(alert: AlertData) -> str:
    icon = ":red_circle:" if alert.status == "firing" else ":large_green_circle:"
    lines = [f"{icon} *{_escape(alert.annotations.get('summary') or alert.labels.get('alertname', ''))}*"]
    description = alert.annotations.get("description")
    if description:
        lines.append(_escape(description))
    labels = ", ".join(f"`{_escape(k)}={_escape(v)}`" for k, v in sorted_pairs(alert.labels))
    lines.append(f"*Labels:* {labels}")
    others = {k: v for k, v in alert.annotations.items() if k not in ("summary", "description")}
    for key, value in sorted(others.items()):
        lines.append(f"*{_escape(key)}:* {_escape(value)}")
    if alert.generator_url:
        lines.append(f"<{alert.generator_url}|Source>")
    if alert.ack_url:
        lines.append(f"<{alert.ack_url}|Acknowledge>")
    return "\n".join(lines)


def _error_text(data: bytes) -> str:
    text = data.decode(errors="replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text
    # The Web API's shape, which some Slack-compatible webhooks answer with.
    if isinstance(body, Mapping) and body.get("ok") is False:
        return str(body.get("error") or "error")
    if isinstance(body, Mapping) and body.get("ok") is True:
        return "ok"
    return text


def _escape(text: str) -> str:
    # The three characters Slack's mrkdwn wants escaped; everything else is literal.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}
