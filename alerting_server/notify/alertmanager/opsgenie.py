"""Alertmanager's OpsGenie integration (notify/opsgenie/opsgenie.go, as Alertmanager 0.25 has it).

A firing group creates an alert (`POST v2/alerts`) whose alias is the hash of the group key, and
with `update_alerts` then sets its message and description (`PUT v2/alerts/<alias>/message` and
`.../description`); a resolved group closes it (`POST v2/alerts/<alias>/close`). Config keys are
opsgenie_config's; absent texts take DefaultOpsGenieConfig's templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from alerting_server.notify.alertmanager import gojson
from alerting_server.notify.alertmanager.pagerduty import dedup_key
from alerting_server.notify.alertmanager.render import Renderer, go_path, truncate_in_runes
from alerting_server.notify.message import Message

DEFAULT_API_URL = "https://api.opsgenie.com/"
# https://docs.opsgenie.com/docs/alert-api: 130 characters, meaning runes.
MAX_MESSAGE_RUNES = 130
DEFAULTS: Mapping[str, str] = {
    "message": '{{ template "opsgenie.default.message" . }}',
    "description": '{{ template "opsgenie.default.description" . }}',
    "source": '{{ template "opsgenie.default.source" . }}',
}
RESPONDER_TYPES = ("team", "teams", "user", "escalation", "schedule")


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: bytes


def _get(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key, DEFAULTS.get(key, ""))
    return value if isinstance(value, str) else ""


def _safe_split(s: str) -> list[str]:
    """safeSplit: split on commas after trimming, dropping empty items."""
    return [x for x in s.strip().split(",") if x]


def endpoint(api_url: str, suffix: str, *, by_alias: bool = False) -> str:
    """`api_url` (its path ending in '/', as the loader makes it) with `suffix` added to its path,
    and identifierType=alias in its query (Go's Values.Encode: sorted by key)."""
    parts = urlsplit(api_url)
    path = unquote(parts.path)
    path = path if path.endswith("/") else path + "/"
    query = parts.query
    if by_alias:
        values = dict(parse_qsl(query, keep_blank_values=True))
        values["identifierType"] = "alias"
        query = urlencode(sorted(values.items()))
    return urlunsplit((parts.scheme, parts.netloc, go_path(path + suffix), query, parts.fragment))


def _responders(config: Mapping[str, Any], r: Renderer) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for i, item in enumerate(config.get("responders") or []):
        responder = {
            key: r.text(f"responders[{i}].{key}", str(item.get(key) or ""))
            for key in ("id", "name", "username", "type")
        }
        if not any(responder.values()):
            # Filled from the alerts' labels, and empty for these: left out.
            continue
        if responder["type"] == "teams":
            for team in _safe_split(responder["name"]):
                out.append({"name": r.text(f"responders[{i}].name", team), "type": "team"})
            continue
        out.append({**{k: v for k, v in responder.items() if v and k != "type"}, "type": responder["type"]})
    return out


def opsgenie_requests(
    config: Mapping[str, Any], api_url: str, message: Message, r: Renderer
) -> list[Request]:
    """The requests Alertmanager's createRequests makes for the group; raises TemplateFailed."""
    alias = dedup_key(message.group_key)
    details = dict(r.data.CommonLabels.items())
    for key, text in (config.get("details") or {}).items():
        details[str(key)] = r.text(f"details.{key}", str(text))
    if message.status == "resolved":
        close = {"source": r.text("source", _get(config, "source"))}
        url = endpoint(api_url, f"v2/alerts/{alias}/close", by_alias=True)
        return [Request("POST", url, gojson.encode(close))]
    text = truncate_in_runes(r.text("message", _get(config, "message")), MAX_MESSAGE_RUNES)
    responders = _responders(config, r)
    create: dict[str, Any] = {"alias": alias, "message": text}
    description = r.text("description", _get(config, "description"))
    if description:
        create["description"] = description
    create["details"] = dict(sorted(details.items()))
    create["source"] = r.text("source", _get(config, "source"))
    if responders:
        create["responders"] = responders
    tags = _safe_split(r.text("tags", _get(config, "tags")))
    if tags:
        create["tags"] = tags
    for key in ("note", "priority", "entity"):
        value = r.text(key, _get(config, key))
        if value:
            create[key] = value
    actions = _safe_split(r.text("actions", _get(config, "actions")))
    if actions:
        create["actions"] = actions
    requests = [Request("POST", endpoint(api_url, "v2/alerts"), gojson.encode(create))]
    if config.get("update_alerts"):
        for key, value in (("message", text), ("description", description)):
            url = endpoint(api_url, f"v2/alerts/{alias}/{key}", by_alias=True)
            requests.append(Request("PUT", url, gojson.encode({key: value} if value else {})))
    return requests
