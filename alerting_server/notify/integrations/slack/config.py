"""The Slack channel's config: Alertmanager's slack_config, its incoming webhook URL a secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from alerting_server.notify.http import check_tls_config
from alerting_server.notify.templates import ChannelTemplates
from alerting_server.validation.fields import FieldSpec, Kind

TEMPLATES = ("title", "text", "pretext", "footer")

SCHEMA: Mapping[str, FieldSpec] = {
    "webhook_url": FieldSpec(Kind.URL, required=True, secret=True, hint="the Slack incoming webhook URL"),
    "channel": FieldSpec(Kind.STRING),
    "username": FieldSpec(Kind.STRING),
    "icon_emoji": FieldSpec(Kind.STRING),
    "send_resolved": FieldSpec(Kind.BOOL),
    # What HTTPS connections trust and present (notify/http.py).
    "tls_config": FieldSpec(Kind.STRING, check=check_tls_config),
    **{name: FieldSpec(Kind.TEMPLATE) for name in TEMPLATES},
}


@dataclass(frozen=True)
class SlackConfig:
    webhook_url: str
    # "": the webhook's own.
    channel: str = ""
    username: str = ""
    icon_emoji: str = ""
    templates: ChannelTemplates = field(default_factory=ChannelTemplates)

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        return cls(
            webhook_url=config["webhook_url"],
            channel=config.get("channel") or "",
            username=config.get("username") or "",
            icon_emoji=config.get("icon_emoji") or "",
            templates=ChannelTemplates.from_config(TEMPLATES, config),
        )
