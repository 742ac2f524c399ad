"""Alertmanager's Pushover integration (notify/pushover/pushover.go): one message per notification,
its parameters in the query string of a POST with an empty text/plain body, as Alertmanager sends
them. Config keys are pushover_config's; absent ones take DefaultPushoverConfig's values. `device`
and `ttl` (later Alertmanagers' fields) are sent only when set, so that a config without them sends
what Alertmanager 0.25 sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

from alerting_common.durations import parse_duration
from alerting_server.notify.alertmanager.render import Renderer, truncate_in_runes

DEFAULT_API_URL = "https://api.pushover.net/1/messages.json"
# https://pushover.net/api#limits, in characters (runes).
MAX_TITLE_RUNES = 250
MAX_MESSAGE_RUNES = 1024
MAX_URL_RUNES = 512
DEFAULTS: Mapping[str, str] = {
    "title": '{{ template "pushover.default.title" . }}',
    "message": '{{ template "pushover.default.message" . }}',
    "url": '{{ template "pushover.default.url" . }}',
    "priority": '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}',
    "retry": "1m",
    "expire": "1h",
}


def _get(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key, DEFAULTS.get(key, ""))
    return value if isinstance(value, str) else ""


def _seconds(config: Mapping[str, Any], key: str) -> int:
    text = _get(config, key)
    return parse_duration(text) // 1000 if text else 0


def pushover_parameters(config: Mapping[str, Any], token: str, user_key: str, r: Renderer) -> dict[str, str]:
    """The request's parameters; raises TemplateFailed."""
    params = {
        "token": r.text("token", token),
        "user": r.text("user_key", user_key),
        "title": truncate_in_runes(r.text("title", _get(config, "title")), MAX_TITLE_RUNES),
    }
    if config.get("html"):
        params["html"] = "1"
        message = r.html("message", _get(config, "message"))
    else:
        message = r.text("message", _get(config, "message"))
    # Pushover refuses an empty message.
    params["message"] = truncate_in_runes(message, MAX_MESSAGE_RUNES).strip() or "(no details)"
    params["url"] = truncate_in_runes(r.text("url", _get(config, "url")), MAX_URL_RUNES)
    params["url_title"] = r.text("url_title", _get(config, "url_title"))
    params["priority"] = r.text("priority", _get(config, "priority"))
    params["retry"] = str(_seconds(config, "retry"))
    params["expire"] = str(_seconds(config, "expire"))
    if config.get("device"):
        params["device"] = r.text("device", _get(config, "device"))
    params["sound"] = r.text("sound", _get(config, "sound"))
    ttl = _seconds(config, "ttl")
    if ttl > 0:
        params["ttl"] = str(ttl)
    return params


def pushover_url(api_url: str, params: Mapping[str, str]) -> str:
    """`api_url` with the parameters as its query, as Go's url.Values.Encode writes them."""
    parts = urlsplit(api_url)
    query = urlencode(sorted(params.items()), quote_via=quote_plus)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
