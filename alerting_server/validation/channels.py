"""Configuration schema of each channel type, and the handling of the secrets in it.

Secrets are redacted to "<secret>" on read. A client that reads a channel, edits it and
writes it back sends the placeholder; `merge_secrets` swaps the stored secret back in, but only
while the channel still sends to where it did: a secret kept for a new destination would be handed
to that host without anyone having typed it in for it.
Update flow: merge_secrets, then validate; a placeholder left after merging (on create, or
for a secret that was never stored) is then reported as an error.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from alerting_server.errors import Violations
from alerting_server.model import ChannelType
from alerting_server.outbound import OutboundPolicy, literal_address
from alerting_server.templating.names import ALERTMANAGER_FUNCTIONS
from alerting_server.validation.durations import parse_duration_field
from alerting_server.validation.limits import (
    MAX_CONFIG_STRING_LENGTH,
    MAX_HEADER_VALUE_LENGTH,
    MAX_HEADERS,
    MAX_RECIPIENTS,
    MAX_URL_LENGTH,
)
from alerting_server.validation.templates import check_template

SECRET_PLACEHOLDER = "<secret>"
PAGERDUTY_DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")
# The config field naming where each channel type sends, and its value when unset.
DESTINATIONS: dict[ChannelType, tuple[str, str]] = {
    ChannelType.EMAIL: ("smarthost", ""),
    ChannelType.SLACK: ("webhook_url", ""),
    ChannelType.PAGERDUTY: ("url", PAGERDUTY_DEFAULT_URL),
    ChannelType.WEBHOOK: ("url", ""),
}
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Notification templates run longer than other config strings (Alertmanager's HTML is ~10 kB).
MAX_TEMPLATE_LENGTH = 64 * 1024

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")
_NEWLINE = re.compile(r"[\r\n]")


class Kind(enum.Enum):
    STRING = "string"
    BOOL = "bool"
    COUNT = "count"
    URL = "url"
    ADDRESS = "address"
    ADDRESSES = "addresses"
    HOSTPORT = "hostport"
    HEADERS = "headers"
    DURATION = "duration"
    PAGERDUTY_SEVERITY = "pagerduty_severity"
    TEMPLATE = "template"


@dataclass(frozen=True)
class FieldSpec:
    kind: Kind
    required: bool = False
    secret: bool = False
    # Said after "is required" when the field is missing or empty.
    hint: str = ""


SCHEMAS: dict[ChannelType, dict[str, FieldSpec]] = {
    ChannelType.EMAIL: {
        "to": FieldSpec(Kind.ADDRESSES, required=True),
        "from": FieldSpec(Kind.ADDRESS, required=True),
        "smarthost": FieldSpec(Kind.HOSTPORT, required=True, hint='the SMTP server as "host:port"'),
        "username": FieldSpec(Kind.STRING),
        "password": FieldSpec(Kind.STRING, secret=True),
        "starttls": FieldSpec(Kind.BOOL),
        "tls": FieldSpec(Kind.BOOL),
        "reply_to": FieldSpec(Kind.ADDRESS),
        "headers": FieldSpec(Kind.HEADERS),
        "send_resolved": FieldSpec(Kind.BOOL),
        # Go templates over Alertmanager's notification data, as in its email_config.
        "subject": FieldSpec(Kind.TEMPLATE),
        "text": FieldSpec(Kind.TEMPLATE),
        "html": FieldSpec(Kind.TEMPLATE),
    },
    ChannelType.SLACK: {
        "webhook_url": FieldSpec(Kind.URL, required=True, secret=True, hint="the Slack incoming webhook URL"),
        "channel": FieldSpec(Kind.STRING),
        "username": FieldSpec(Kind.STRING),
        "icon_emoji": FieldSpec(Kind.STRING),
        "send_resolved": FieldSpec(Kind.BOOL),
        "title": FieldSpec(Kind.TEMPLATE),
        "text": FieldSpec(Kind.TEMPLATE),
        "pretext": FieldSpec(Kind.TEMPLATE),
        "footer": FieldSpec(Kind.TEMPLATE),
    },
    ChannelType.PAGERDUTY: {
        "routing_key": FieldSpec(
            Kind.STRING,
            required=True,
            secret=True,
            hint="the 32-character integration key of a PagerDuty Events API v2 integration",
        ),
        "url": FieldSpec(Kind.URL),
        "severity": FieldSpec(Kind.PAGERDUTY_SEVERITY),
        "send_resolved": FieldSpec(Kind.BOOL),
        # Alertmanager's pagerduty_config `description`: the incident's summary line.
        "summary": FieldSpec(Kind.TEMPLATE),
        "client": FieldSpec(Kind.TEMPLATE),
        "client_url": FieldSpec(Kind.TEMPLATE),
    },
    ChannelType.WEBHOOK: {
        # A secret as in Alertmanager (SecretURL): webhook URLs often carry tokens.
        "url": FieldSpec(Kind.URL, required=True, secret=True),
        "headers": FieldSpec(Kind.HEADERS),
        "hmac_secret": FieldSpec(Kind.STRING, secret=True),
        "max_alerts": FieldSpec(Kind.COUNT),
        "timeout": FieldSpec(Kind.DURATION),
        "send_resolved": FieldSpec(Kind.BOOL),
    },
}


def secret_fields(type: ChannelType) -> set[str]:
    """Top-level config keys holding secrets; every header value is one too (API keys travel in
    headers of any name, so no list of names can tell which ones are credentials)."""
    return {name for name, spec in SCHEMAS[type].items() if spec.secret}


def redact(type: ChannelType, config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `config` fit to show: every secret set is replaced by "<secret>"."""
    out = dict(config)
    for name in secret_fields(type):
        if out.get(name):
            out[name] = SECRET_PLACEHOLDER
    headers = out.get("headers")
    if isinstance(headers, Mapping):
        out["headers"] = {k: SECRET_PLACEHOLDER if val else val for k, val in headers.items()}
    return out


def destination(type: ChannelType, config: Mapping[str, Any]) -> tuple[str, str, int] | None:
    """Scheme, host and port the channel sends to; None when the config names none that parses."""
    name, default = DESTINATIONS[type]
    value = config.get(name) or default
    if not isinstance(value, str):
        return None
    if type is ChannelType.EMAIL:
        host, _, digits = value.rpartition(":")
        return ("smtp", host.lower(), int(digits)) if host and digits.isdigit() else None
    try:
        parts = urlsplit(value)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    return (parts.scheme.lower(), parts.hostname or "", port) if parts.hostname else None


def merge_secrets(
    type: ChannelType, new_config: Mapping[str, Any], stored_config: Mapping[str, Any]
) -> dict[str, Any]:
    """`new_config` with each "<secret>" replaced by the stored value it stands for.

    INVALID_ARGUMENT naming every placeholder when the destination (scheme, host or port) differs
    from the stored one: the secrets were given for the old host and must be given again.
    """
    out = dict(new_config)
    where, default = DESTINATIONS[type]
    if out.get(where) == SECRET_PLACEHOLDER:
        out[where] = stored_config.get(where, default)
    moved = destination(type, out) != destination(type, stored_config)
    v = Violations()
    for name in secret_fields(type):
        if out.get(name) == SECRET_PLACEHOLDER and name in stored_config:
            if moved:
                v.add(f"config.{name}", _MOVED)
            else:
                out[name] = stored_config[name]
    headers, stored_headers = out.get("headers"), stored_config.get("headers")
    if isinstance(headers, Mapping) and isinstance(stored_headers, Mapping):
        stored_by_name = {str(k).lower(): val for k, val in stored_headers.items()}
        merged = {}
        for k, val in headers.items():
            if val == SECRET_PLACEHOLDER and str(k).lower() in stored_by_name:
                if moved:
                    v.add(f"config.headers.{k}", _MOVED)
                else:
                    val = stored_by_name[str(k).lower()]
            merged[k] = val
        out["headers"] = merged
    v.raise_if_any()
    return out


_MOVED = (
    f'"{SECRET_PLACEHOLDER}" stands for a secret given for another host; re-enter: the destination changed'
)


def check_channel_config(
    v: Violations, type: ChannelType, config: Mapping[str, Any], field: str = "config"
) -> None:
    schema = SCHEMAS[type]
    for key in config:
        if key not in schema:
            known = ", ".join(sorted(schema))
            v.add(f"{field}.{key}", f"unknown field for a {type.value} channel (known: {known})")
    for key, spec in schema.items():
        path = f"{field}.{key}"
        value = config.get(key)
        if value is None or value == "" or value == []:
            if spec.required:
                v.add(path, f"is required: {spec.hint}" if spec.hint else "is required")
            continue
        if spec.secret and value == SECRET_PLACEHOLDER:
            v.add(path, f'"{SECRET_PLACEHOLDER}" is the redacted form of a secret: send the secret itself')
            continue
        _CHECKS[spec.kind](v, path, value)
    if config.get("tls") is True and config.get("starttls") is True:
        v.add(f"{field}.tls", "tls (implicit TLS, usually port 465) and starttls are mutually exclusive")


def check_destinations(
    v: Violations, type: ChannelType, config: Mapping[str, Any], policy: OutboundPolicy, field: str = "config"
) -> None:
    """Destinations written as addresses the outbound policy denies. A name is checked on every
    connection instead, for what it resolves to then (and may later resolve to) is what counts."""
    for key, spec in SCHEMAS[type].items():
        value = config.get(key)
        if not isinstance(value, str) or spec.kind not in (Kind.URL, Kind.HOSTPORT):
            continue
        try:
            host = urlsplit(value).hostname if spec.kind is Kind.URL else value.rpartition(":")[0]
        except ValueError:
            continue  # reported by check_channel_config
        address = literal_address(host or "")
        if address is not None and policy.denies(address):
            v.add(f"{field}.{key}", f"destination {address} is denied by the outbound policy")


def _check_string(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be a string, got {_json_type(value)}")
    elif len(value) > MAX_CONFIG_STRING_LENGTH:
        v.add(field, f"must be at most {MAX_CONFIG_STRING_LENGTH} characters")


def _check_bool(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, bool):
        v.add(field, f"must be a boolean, got {_json_type(value)}")


def _check_count(v: Violations, field: str, value: object) -> None:
    # JSON numbers that went through a protobuf Struct arrive as floats.
    if isinstance(value, bool) or not isinstance(value, int | float):
        v.add(field, f"must be an integer, got {_json_type(value)}")
    elif isinstance(value, float) and not value.is_integer():
        v.add(field, f"must be an integer, got {value}")
    elif value < 0:
        v.add(field, f"must not be negative, got {value:g}")


def _check_url(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be a URL string, got {_json_type(value)}")
        return
    if len(value) > MAX_URL_LENGTH:
        v.add(field, f"must be at most {MAX_URL_LENGTH} characters")
        return
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a port out of range
    except ValueError as e:
        v.add(field, f"invalid URL: {e}")
        return
    if parts.scheme not in ("http", "https"):
        v.add(
            field,
            f"must be an http or https URL, got scheme {parts.scheme!r}"
            if parts.scheme
            else "must be an absolute http or https URL",
        )
    elif not parts.hostname:
        v.add(field, "URL has no host")
    elif re.search(r"\s", value):
        v.add(field, "URL must not contain whitespace")


def _check_address(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be an email address string, got {_json_type(value)}")
    elif _NEWLINE.search(value) or not _ADDRESS.fullmatch(parseaddr(value)[1]):
        v.add(field, f"invalid email address {value!r}")


def _check_addresses(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, list):
        v.add(field, f"must be a list of email addresses, got {_json_type(value)}")
    elif len(value) > MAX_RECIPIENTS:
        v.add(field, f"at most {MAX_RECIPIENTS} addresses, got {len(value)}")
    else:
        for i, item in enumerate(value):
            _check_address(v, f"{field}[{i}]", item)


def _check_hostport(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f'must be a "host:port" string, got {_json_type(value)}')
        return
    host, sep, port = value.rpartition(":")
    if not sep or not host or host in ("[]",):
        v.add(field, f'must be "host:port", got {value!r}')
    elif not port.isdigit() or not 0 < int(port) < 65536:
        v.add(field, f"invalid port {port!r}: must be 1..65535")
    elif ":" in host and not (host.startswith("[") and host.endswith("]")):
        v.add(field, f'an IPv6 host must be in brackets, as "[::1]:25"; got {value!r}')
    elif re.search(r"\s", host):
        v.add(field, f"invalid host {host!r}")


def _check_headers(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, Mapping):
        v.add(field, f"must be an object of header names to values, got {_json_type(value)}")
        return
    if len(value) > MAX_HEADERS:
        v.add(field, f"at most {MAX_HEADERS} headers, got {len(value)}")
        return
    for name, header_value in value.items():
        path = f"{field}.{name}"
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            v.add(path, f"invalid header name {name!r}")
        elif not isinstance(header_value, str):
            v.add(path, f"header value must be a string, got {_json_type(header_value)}")
        elif header_value == SECRET_PLACEHOLDER:
            v.add(path, f'"{SECRET_PLACEHOLDER}" is the redacted form of a secret: send the secret itself')
        elif _NEWLINE.search(header_value):
            v.add(path, "header value must not contain line breaks")
        elif len(header_value) > MAX_HEADER_VALUE_LENGTH:
            v.add(path, f"header value must be at most {MAX_HEADER_VALUE_LENGTH} characters")


def _check_duration(v: Violations, field: str, value: object) -> None:
    parse_duration_field(v, field, value, positive=True)


def _check_pagerduty_severity(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be a string, got {_json_type(value)}")
    elif "{{" in value:
        # Rendered per notification, like Alertmanager's templates, with its functions.
        check_template(v, field, value, "severity", ALERTMANAGER_FUNCTIONS)
    elif value not in PAGERDUTY_SEVERITIES:
        v.add(field, f"must be one of {', '.join(PAGERDUTY_SEVERITIES)} (or a template), got {value!r}")


def _check_template(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be a template string, got {_json_type(value)}")
    elif len(value) > MAX_TEMPLATE_LENGTH:
        v.add(field, f"must be at most {MAX_TEMPLATE_LENGTH} characters")
    else:
        check_template(v, field, value, funcs=ALERTMANAGER_FUNCTIONS)


_CHECKS: dict[Kind, Callable[[Violations, str, object], None]] = {
    Kind.STRING: _check_string,
    Kind.BOOL: _check_bool,
    Kind.COUNT: _check_count,
    Kind.URL: _check_url,
    Kind.ADDRESS: _check_address,
    Kind.ADDRESSES: _check_addresses,
    Kind.HOSTPORT: _check_hostport,
    Kind.HEADERS: _check_headers,
    Kind.DURATION: _check_duration,
    Kind.PAGERDUTY_SEVERITY: _check_pagerduty_severity,
    Kind.TEMPLATE: _check_template,
}


def _json_type(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list() | tuple():
            return "array"
        case Mapping():
            return "object"
    return type(value).__name__
