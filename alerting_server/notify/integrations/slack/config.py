"""The Slack channel's config: Alertmanager's slack_config, its incoming webhook URL a secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from alerting_server.notify import proxy
from alerting_server.notify.alertmanager.fields import (
    SLACK_ACTIONS,
    SLACK_FIELDS,
    STRING_LIST,
    STYLE_FIELD,
    is_alertmanager_style,
)
from alerting_server.notify.http import check_tls_config
from alerting_server.notify.integrations.integration import headers
from alerting_server.notify.templates import ChannelTemplates
from alerting_server.validation.fields import FieldSpec, Kind

TEMPLATES = ("title", "text", "pretext", "footer", "channel", "username", "icon_emoji")
# Sent as they are unless they hold a template (a plain name renders as itself anyway).
_NAMES = ("channel", "username", "icon_emoji")
# slack_config's other texts, which only channels of style "alertmanager" render.
ALERTMANAGER_TEMPLATES = (
    "title_link",
    "fallback",
    "callback_id",
    "color",
    "icon_url",
    "image_url",
    "thumb_url",
)

SCHEMA: Mapping[str, FieldSpec] = {
    "webhook_url": FieldSpec(Kind.URL, required=True, secret=True, hint="the Slack incoming webhook URL"),
    "send_resolved": FieldSpec(Kind.BOOL),
    # What HTTPS connections trust and present (notify/http.py).
    "tls_config": FieldSpec(Kind.STRING, check=check_tls_config),
    # Prometheus' http_config proxy (notify/proxy.py).
    **proxy.FIELDS,
    # Sent with each request (an http_config's Authorization, a Slack app's bearer token); secrets.
    "headers": FieldSpec(Kind.HEADERS),
    **{name: FieldSpec(Kind.TEMPLATE) for name in TEMPLATES},
    # "alertmanager": the message Alertmanager's slack_config sends (notify/alertmanager/slack.py).
    "style": STYLE_FIELD,
    **{name: FieldSpec(Kind.TEMPLATE) for name in ALERTMANAGER_TEMPLATES},
    "link_names": FieldSpec(Kind.BOOL),
    "short_fields": FieldSpec(Kind.BOOL),
    "mrkdwn_in": STRING_LIST,
    "fields": SLACK_FIELDS,
    "actions": SLACK_ACTIONS,
}


@dataclass(frozen=True)
class SlackConfig:
    webhook_url: str
    # "": the webhook's own.
    channel: str = ""
    username: str = ""
    icon_emoji: str = ""
    templates: ChannelTemplates = field(default_factory=ChannelTemplates)
    headers: Mapping[str, str] = field(default_factory=dict)
    # The whole config of a channel of style "alertmanager"; None for this server's own messages.
    alertmanager: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        return cls(
            webhook_url=config["webhook_url"],
            channel=config.get("channel") or "",
            username=config.get("username") or "",
            icon_emoji=config.get("icon_emoji") or "",
            templates=ChannelTemplates.from_config(
                TEMPLATES, {k: v for k, v in config.items() if k not in _NAMES or "{{" in str(v)}
            ),
            headers=headers(config),
            alertmanager=dict(config) if is_alertmanager_style(config) else None,
        )
