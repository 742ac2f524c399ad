"""The VictorOps channel's config: Alertmanager's victorops_config. Its texts are Alertmanager's
templates (DefaultVictorOpsConfig's when absent); the channel sends Alertmanager's incident
whatever its `style`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from alerting_server.errors import Violations
from alerting_server.notify.alertmanager.fields import ALERTMANAGER_HTTP_FIELDS, template_map
from alerting_server.notify.alertmanager.victorops import DEFAULT_API_URL, RESERVED_FIELDS
from alerting_server.notify.integrations.integration import headers
from alerting_server.validation.fields import FieldSpec, Kind

TEMPLATES = ("routing_key", "message_type", "entity_display_name", "state_message", "monitoring_tool")


def check_custom_fields(v: Violations, field: str, value: object) -> None:
    template_map(v, field, value)
    if isinstance(value, Mapping):
        for key in value:
            if key in RESERVED_FIELDS:
                v.add(
                    f"{field}.{key}", "conflicts with a fixed field of VictorOps' incident; use another name"
                )


SCHEMA: Mapping[str, FieldSpec] = {
    "api_key": FieldSpec(
        Kind.STRING, required=True, secret=True, hint="the API key of a VictorOps REST integration"
    ),
    "api_url": FieldSpec(Kind.URL),
    "routing_key": FieldSpec(
        Kind.TEMPLATE, required=True, hint="the VictorOps routing key (a template) naming where incidents go"
    ),
    **{name: FieldSpec(Kind.TEMPLATE) for name in TEMPLATES if name != "routing_key"},
    "custom_fields": FieldSpec(Kind.STRING, check=check_custom_fields),
    # Accepted for every channel made from an Alertmanager file: this type has no other style.
    **ALERTMANAGER_HTTP_FIELDS,
}


@dataclass(frozen=True)
class VictorOpsConfig:
    api_key: str
    routing_key: str
    api_url: str = DEFAULT_API_URL
    headers: Mapping[str, str] = field(default_factory=dict)
    # The whole config: the renderer reads Alertmanager's fields from it.
    fields: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        return cls(
            api_key=config["api_key"],
            routing_key=config["routing_key"],
            api_url=config.get("api_url") or DEFAULT_API_URL,
            headers=headers(config),
            fields=dict(config),
        )
