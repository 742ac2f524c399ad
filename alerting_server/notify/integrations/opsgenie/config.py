"""The OpsGenie channel's config: Alertmanager's opsgenie_config. Its texts are Alertmanager's
templates (DefaultOpsGenieConfig's when absent); the channel sends Alertmanager's requests whatever
its `style`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from alerting_server.errors import Violations
from alerting_server.notify.alertmanager.fields import (
    ALERTMANAGER_HTTP_FIELDS,
    TEMPLATE_MAP,
    check_template_value,
)
from alerting_server.notify.alertmanager.opsgenie import DEFAULT_API_URL, RESPONDER_TYPES
from alerting_server.notify.integrations.integration import headers
from alerting_server.validation.fields import FieldSpec, Kind, json_type

TEMPLATES = ("message", "description", "source", "entity", "actions", "tags", "note", "priority")
_RESPONDER_KEYS = ("id", "name", "username", "type")
MAX_RESPONDERS = 50


def check_responders(v: Violations, field: str, value: object) -> None:
    """As opsgenie_config's: each names an id, a name or a username, and its type is one of
    OpsGenie's (or a template)."""
    if not isinstance(value, list):
        v.add(field, f"must be a list of objects, got {json_type(value)}")
        return
    if len(value) > MAX_RESPONDERS:
        v.add(field, f"at most {MAX_RESPONDERS} items, got {len(value)}")
        return
    for i, item in enumerate(value):
        path = f"{field}[{i}]"
        if not isinstance(item, Mapping):
            v.add(path, f"must be an object, got {json_type(item)}")
            continue
        for key, sub in item.items():
            if key not in _RESPONDER_KEYS:
                v.add(f"{path}.{key}", f"unknown field (known: {', '.join(_RESPONDER_KEYS)})")
            elif sub is not None:
                check_template_value(v, f"{path}.{key}", sub)
        if not any(item.get(k) for k in ("id", "name", "username")):
            v.add(path, "has to have at least one of id, username or name specified")
        kind = item.get("type")
        if not isinstance(kind, str) or not kind:
            v.add(f"{path}.type", f"is required: one of {', '.join(RESPONDER_TYPES)} (or a template)")
        elif "{{" not in kind and kind.lower() not in RESPONDER_TYPES:
            v.add(
                f"{path}.type", f"must be one of {', '.join(RESPONDER_TYPES)} (or a template), got {kind!r}"
            )


SCHEMA: Mapping[str, FieldSpec] = {
    "api_key": FieldSpec(
        Kind.STRING, required=True, secret=True, hint="the API key of an OpsGenie API integration"
    ),
    "api_url": FieldSpec(Kind.URL),
    **{name: FieldSpec(Kind.TEMPLATE) for name in TEMPLATES},
    "details": TEMPLATE_MAP,
    "responders": FieldSpec(Kind.STRING, check=check_responders),
    "update_alerts": FieldSpec(Kind.BOOL),
    # Accepted for every channel made from an Alertmanager file: this type has no other style.
    **ALERTMANAGER_HTTP_FIELDS,
}


@dataclass(frozen=True)
class OpsGenieConfig:
    api_key: str
    api_url: str = DEFAULT_API_URL
    headers: Mapping[str, str] = field(default_factory=dict)
    # The whole config: the renderer reads Alertmanager's fields from it.
    fields: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        # A responder's type is sent as written: Alertmanager 0.25 checks it case-insensitively but
        # lower-cases a copy only, so "Teams" is not split into teams either.
        return cls(
            api_key=config["api_key"],
            api_url=config.get("api_url") or DEFAULT_API_URL,
            headers=headers(config),
            fields=dict(config),
        )
