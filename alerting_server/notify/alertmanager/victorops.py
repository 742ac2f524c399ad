"""Alertmanager's VictorOps integration (notify/victorops/victorops.go, as Alertmanager 0.25 has it):
one incident per group, its entity_id the hash of the group key, posted to
`<api_url><api_key>/<routing_key>`. Config keys are victorops_config's; absent texts take
DefaultVictorOpsConfig's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from alerting_server.notify.alertmanager import gojson
from alerting_server.notify.alertmanager.pagerduty import dedup_key
from alerting_server.notify.alertmanager.render import Renderer, go_path, truncate_in_runes
from alerting_server.notify.message import Message

DEFAULT_API_URL = "https://alert.victorops.com/integrations/generic/20131114/alert/"
# https://help.victorops.com/knowledge-base/incident-fields-glossary/: 20480 characters.
MAX_MESSAGE_RUNES = 20480
DEFAULTS: Mapping[str, str] = {
    "message_type": "CRITICAL",
    "state_message": '{{ template "victorops.default.state_message" . }}',
    "entity_display_name": '{{ template "victorops.default.entity_display_name" . }}',
    "monitoring_tool": '{{ template "victorops.default.monitoring_tool" . }}',
}
# The payload's own fields, which custom fields may not name.
RESERVED_FIELDS = (
    "routing_key",
    "message_type",
    "state_message",
    "entity_display_name",
    "monitoring_tool",
    "entity_id",
    "entity_state",
)
_TRIGGERS = ("INFO", "WARNING", "CRITICAL")


def _get(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key, DEFAULTS.get(key, ""))
    return value if isinstance(value, str) else ""


def victorops_url(api_url: str, api_key: str, routing_key: str) -> str:
    """apiURL.Path += key/routing_key, written as Go's URL.String escapes a path."""
    parts = urlsplit(api_url)
    path = unquote(parts.path)
    path = path if path.endswith("/") else path + "/"
    path = go_path(f"{path}{api_key}/{routing_key}")
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def victorops_payload(config: Mapping[str, Any], message: Message, r: Renderer) -> bytes:
    """createVictorOpsPayload: a JSON object of strings, keys sorted; raises TemplateFailed."""
    message_type = r.text("message_type", _get(config, "message_type"))
    state_message = r.text("state_message", _get(config, "state_message"))
    if message.status == "firing" and message_type not in _TRIGGERS:
        message_type = "CRITICAL"
    if message.status == "resolved":
        message_type = "RECOVERY"
    payload = {
        "message_type": message_type,
        "entity_id": dedup_key(message.group_key),
        "entity_display_name": r.text("entity_display_name", _get(config, "entity_display_name")),
        "state_message": truncate_in_runes(state_message, MAX_MESSAGE_RUNES),
        "monitoring_tool": r.text("monitoring_tool", _get(config, "monitoring_tool")),
    }
    for key, text in (config.get("custom_fields") or {}).items():
        payload[str(key)] = r.text(f"custom_fields.{key}", str(text))
    return gojson.encode(dict(sorted(payload.items())))
