"""What the server holds written back as an Alertmanager configuration: the routing tree, the
channels grouped into their receivers, inhibit rules, time intervals and template globs. Secrets are
written as `<secret>` (the channels' configs come in redacted); keys Alertmanager does not have are
left out, and template fields equal to Alertmanager's defaults are not repeated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from alerting_common.durations import format_duration
from alerting_server.amconfig.loaded import DEFAULT_RESOLVE_TIMEOUT_MS
from alerting_server.amconfig.receivers import (
    DEFAULT_EMAIL,
    DEFAULT_EMAIL_SUBJECT,
    DEFAULT_PAGERDUTY,
    DEFAULT_PAGERDUTY_DETAILS,
    DEFAULT_SLACK,
)
from alerting_server.model import Channel, ChannelType, InhibitRule, Route
from alerting_server.notify.alertmanager.opsgenie import DEFAULTS as OPSGENIE_DEFAULTS
from alerting_server.notify.alertmanager.pushover import DEFAULTS as PUSHOVER_DEFAULTS
from alerting_server.notify.alertmanager.victorops import DEFAULTS as VICTOROPS_DEFAULTS
from alerting_server.validation.fields import SECRET_PLACEHOLDER

_KEY = {
    ChannelType.EMAIL: "email_configs",
    ChannelType.SLACK: "slack_configs",
    ChannelType.PAGERDUTY: "pagerduty_configs",
    ChannelType.WEBHOOK: "webhook_configs",
    ChannelType.OPSGENIE: "opsgenie_configs",
    ChannelType.VICTOROPS: "victorops_configs",
    ChannelType.PUSHOVER: "pushover_configs",
}
_SEND_RESOLVED_DEFAULT = {
    ChannelType.EMAIL: False,
    ChannelType.SLACK: False,
    ChannelType.PAGERDUTY: True,
    ChannelType.WEBHOOK: True,
    ChannelType.OPSGENIE: True,
    ChannelType.VICTOROPS: True,
    ChannelType.PUSHOVER: True,
}
# Each of these types' fields, as Alertmanager names them (the secrets written as placeholders),
# and the defaults its loader fills in, which are not repeated.
_OTHERS: Mapping[ChannelType, tuple[tuple[str, ...], Mapping[str, Any], tuple[str, ...]]] = {
    ChannelType.OPSGENIE: (
        (
            "api_url",
            "message",
            "description",
            "source",
            "details",
            "entity",
            "responders",
            "actions",
            "tags",
            "note",
            "priority",
            "update_alerts",
        ),
        {**OPSGENIE_DEFAULTS, "api_url": "https://api.opsgenie.com/"},
        ("api_key",),
    ),
    ChannelType.VICTOROPS: (
        (
            "api_url",
            "routing_key",
            "message_type",
            "state_message",
            "entity_display_name",
            "monitoring_tool",
            "custom_fields",
        ),
        {**VICTOROPS_DEFAULTS, "api_url": "https://alert.victorops.com/integrations/generic/20131114/alert/"},
        ("api_key",),
    ),
    ChannelType.PUSHOVER: (
        (
            "title",
            "message",
            "url",
            "url_title",
            "device",
            "sound",
            "priority",
            "retry",
            "expire",
            "ttl",
            "html",
        ),
        PUSHOVER_DEFAULTS,
        ("user_key", "token"),
    ),
}
_SLACK_KEYS = (
    *DEFAULT_SLACK,
    "channel",
    "message_text",
    "image_url",
    "thumb_url",
    "fields",
    "short_fields",
    "link_names",
    "mrkdwn_in",
    "actions",
    "update_message",
    "timeout",
)
_PAGERDUTY_KEYS = (
    "routing_key",
    "service_key",
    "url",
    *DEFAULT_PAGERDUTY,
    "source",
    "severity",
    "class",
    "component",
    "group",
    "images",
    "links",
    "timeout",
)


def export(
    route: Route | None,
    channels: Sequence[Channel],
    inhibit_rules: Sequence[InhibitRule],
    time_intervals: Sequence[tuple[str, Sequence[Mapping[str, Any]]]],
    settings: Mapping[str, Any],
) -> str:
    """The YAML document; `channels` with their secrets already redacted."""
    by_id = {c.id: c for c in channels}
    receivers: dict[str, list[Channel]] = {}
    for channel in channels:
        receivers.setdefault(channel.receiver or channel.name, []).append(channel)
    for name in settings.get("empty_receivers", ()):
        receivers.setdefault(name, [])

    def receiver_name(ref: str) -> str:
        channel = by_id.get(ref)
        return (channel.receiver or channel.name) if channel is not None else ref

    doc: dict[str, Any] = {}
    resolve_timeout = settings.get("resolve_timeout", DEFAULT_RESOLVE_TIMEOUT_MS)
    if resolve_timeout != DEFAULT_RESOLVE_TIMEOUT_MS:
        doc["global"] = {"resolve_timeout": format_duration(resolve_timeout)}
    if route is not None:
        doc["route"] = _route(route, receiver_name)
        for name in _receivers_of(doc["route"]):
            receivers.setdefault(name, [])
    doc["receivers"] = [_receiver(name, members) for name, members in receivers.items()]
    if inhibit_rules:
        doc["inhibit_rules"] = [
            {
                "source_matchers": list(r.source_matchers),
                "target_matchers": list(r.target_matchers),
                **({"equal": list(r.equal)} if r.equal else {}),
            }
            for r in inhibit_rules
        ]
    if time_intervals:
        doc["time_intervals"] = [
            {"name": name, "time_intervals": [dict(i) for i in intervals]}
            for name, intervals in time_intervals
        ]
    if settings.get("templates"):
        doc["templates"] = list(settings["templates"])
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _receivers_of(route: Mapping[str, Any]) -> list[str]:
    names = [route["receiver"]] if route.get("receiver") else []
    for child in route.get("routes", ()):
        names += _receivers_of(child)
    return names


def _route(route: Route, receiver_name: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if route.receiver:
        out["receiver"] = receiver_name(route.receiver)
    if route.group_by is not None:
        out["group_by"] = list(route.group_by)
    for key in ("group_wait", "group_interval", "repeat_interval"):
        value = getattr(route, key)
        if value is not None:
            out[key] = format_duration(value)
    if route.matchers:
        out["matchers"] = list(route.matchers)
    if route.mute_time_intervals:
        out["mute_time_intervals"] = list(route.mute_time_intervals)
    if route.active_time_intervals:
        out["active_time_intervals"] = list(route.active_time_intervals)
    if route.continue_:
        out["continue"] = True
    if route.routes:
        out["routes"] = [_route(child, receiver_name) for child in route.routes]
    return out


def _receiver(name: str, channels: Sequence[Channel]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    for channel in channels:
        out.setdefault(_KEY[channel.type], []).append(_integration(channel))
    return out


def _integration(channel: Channel) -> dict[str, Any]:
    c = channel.config
    out: dict[str, Any] = {}
    send_resolved = c.get("send_resolved", _SEND_RESOLVED_DEFAULT[channel.type])
    if send_resolved != _SEND_RESOLVED_DEFAULT[channel.type]:
        out["send_resolved"] = bool(send_resolved)
    headers = dict(c.get("headers") or {})
    if channel.type is ChannelType.EMAIL:
        out["to"] = ", ".join(c.get("to") or [])
        for ours, theirs in (("from", "from"), ("smarthost", "smarthost"), ("hello", "hello")):
            if c.get(ours):
                out[theirs] = c[ours]
        if c.get("username"):
            out["auth_username"] = c["username"]
        if c.get("password"):
            out["auth_password"] = SECRET_PLACEHOLDER
        if c.get("auth_secret"):
            out["auth_secret"] = SECRET_PLACEHOLDER
        if c.get("auth_identity"):
            out["auth_identity"] = c["auth_identity"]
        if "starttls" in c:
            out["require_tls"] = bool(c["starttls"])
        if c.get("tls"):
            out["force_implicit_tls"] = True
        for key, default in DEFAULT_EMAIL.items():
            if key in c and c[key] != default:
                out[key] = c[key]
        if c.get("subject") and c["subject"] != DEFAULT_EMAIL_SUBJECT:
            headers["Subject"] = c["subject"]
        if headers:
            out["headers"] = headers
        if c.get("tls_config"):
            out["tls_config"] = dict(c["tls_config"])
        return out
    if channel.type is ChannelType.SLACK:
        out["api_url"] = SECRET_PLACEHOLDER
        for key in _SLACK_KEYS:
            if key in c and c[key] != DEFAULT_SLACK.get(key):
                out[key] = c[key]
    elif channel.type is ChannelType.PAGERDUTY:
        for key in _PAGERDUTY_KEYS:
            if key in c and c[key] != DEFAULT_PAGERDUTY.get(key):
                out[key] = c[key]
        if out.get("source") == c.get("client"):
            out.pop("source", None)
        details = {k: v for k, v in (c.get("details") or {}).items() if DEFAULT_PAGERDUTY_DETAILS.get(k) != v}
        if details:
            out["details"] = details
    elif channel.type in _OTHERS:
        keys, defaults, secrets = _OTHERS[channel.type]
        for key in secrets:
            out[key] = SECRET_PLACEHOLDER
        for key in keys:
            if key in c and c[key] != defaults.get(key):
                out[key] = c[key]
    else:
        out["url"] = SECRET_PLACEHOLDER
        for key in ("max_alerts", "timeout", "payload"):
            if c.get(key):
                out[key] = c[key]
    http: dict[str, Any] = {}
    if "Authorization" in headers:
        http["authorization"] = {"credentials": SECRET_PLACEHOLDER}
    if c.get("tls_config"):
        http["tls_config"] = dict(c["tls_config"])
    if http:
        out["http_config"] = http
    return out
