"""The Pushover channel's config: Alertmanager's pushover_config, and `api_url` (Pushover's messages
endpoint unless set). Its texts are Alertmanager's templates (DefaultPushoverConfig's when absent);
the channel sends Alertmanager's request whatever its `style`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from alerting_server.notify.alertmanager.fields import ALERTMANAGER_HTTP_FIELDS
from alerting_server.notify.alertmanager.pushover import DEFAULT_API_URL
from alerting_server.notify.integrations.integration import headers
from alerting_server.validation.fields import FieldSpec, Kind

TEMPLATES = ("title", "message", "url", "url_title", "device", "sound", "priority")

SCHEMA: Mapping[str, FieldSpec] = {
    "user_key": FieldSpec(
        Kind.STRING, required=True, secret=True, hint="the Pushover user (or group) key to notify"
    ),
    "token": FieldSpec(
        Kind.STRING, required=True, secret=True, hint="the API token of a Pushover application"
    ),
    "api_url": FieldSpec(Kind.URL),
    **{name: FieldSpec(Kind.TEMPLATE) for name in TEMPLATES},
    "retry": FieldSpec(Kind.DURATION),
    "expire": FieldSpec(Kind.DURATION),
    "ttl": FieldSpec(Kind.DURATION),
    "html": FieldSpec(Kind.BOOL),
    # Accepted for every channel made from an Alertmanager file: this type has no other style.
    **ALERTMANAGER_HTTP_FIELDS,
}


@dataclass(frozen=True)
class PushoverConfig:
    user_key: str
    token: str
    api_url: str = DEFAULT_API_URL
    headers: Mapping[str, str] = field(default_factory=dict)
    # The whole config: the renderer reads Alertmanager's fields from it.
    fields: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        return cls(
            user_key=config["user_key"],
            token=config["token"],
            api_url=config.get("api_url") or DEFAULT_API_URL,
            headers=headers(config),
            fields=dict(config),
        )
