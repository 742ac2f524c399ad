"""A channel's config checked against its integration's fields (notify/integrations/), and the
handling of the secrets in it.

Secrets are redacted to "<secret>" on read. A client that reads a channel, edits it and
writes it back sends the placeholder; `merge_secrets` swaps the stored secret back in, but only
while the channel still sends to where it did: a secret kept for a new destination would be handed
to that host without anyone having typed it in for it.
Update flow: merge_secrets, then validate; a placeholder left after merging (on create, or
for a secret that was never stored) is then reported as an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from alerting_server.errors import Violations
from alerting_server.model import ChannelType

# A module, not its names: the integrations declare their fields with validation/fields.py, so
# this package may be imported while they still are.
from alerting_server.notify import integrations, proxy
from alerting_server.outbound import OutboundPolicy, literal_address
from alerting_server.validation.fields import REDACTED_SENT, SECRET_PLACEHOLDER, Kind

_DEFAULT_PORTS = {"http": 80, "https": 443}


def secret_fields(type: ChannelType) -> set[str]:
    """Top-level config keys holding secrets; every header value is one too (API keys travel in
    headers of any name, so no list of names can tell which ones are credentials)."""
    return set(integrations.integration(type).secret_fields())


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
    spec = integrations.integration(type)
    value = config.get(spec.destination) or spec.destination_default
    if not isinstance(value, str):
        return None
    if spec.schema[spec.destination].kind is Kind.HOSTPORT:
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
    spec = integrations.integration(type)
    where = spec.destination
    if out.get(where) == SECRET_PLACEHOLDER:
        out[where] = stored_config.get(where, spec.destination_default)
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
    spec = integrations.integration(type)
    for key in config:
        if key not in spec.schema:
            known = ", ".join(sorted(spec.schema))
            v.add(f"{field}.{key}", f"unknown field for a {type.value} channel (known: {known})")
    for key, field_spec in spec.schema.items():
        path = f"{field}.{key}"
        value = config.get(key)
        if value is None or value == "" or value == []:
            if field_spec.required:
                v.add(path, f"is required: {field_spec.hint}" if field_spec.hint else "is required")
            continue
        if field_spec.secret and value == SECRET_PLACEHOLDER:
            v.add(path, REDACTED_SENT)
            continue
        field_spec.check_value(v, path, value)
    if "proxy_url" in spec.schema:
        proxy.check(v, config, field)
    spec.check(v, config, field)


def check_destinations(
    v: Violations, type: ChannelType, config: Mapping[str, Any], policy: OutboundPolicy, field: str = "config"
) -> None:
    """Destinations written as addresses the outbound policy denies. A name is checked on every
    connection instead, for what it resolves to then (and may later resolve to) is what counts."""
    for key, spec in integrations.integration(type).schema.items():
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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-")


def derived_name(type: ChannelType, config: Mapping[str, Any]) -> str:
    """A readable name for a channel created without one: its type and where it sends ("slack-alerts",
    "email-oncall-example-org", "webhook-hooks-example-com"); never a secret (a PagerDuty routing key,
    a webhook URL's path). The store makes it unique."""
    where = ""
    if type is ChannelType.SLACK:
        where = str(config.get("channel") or "")
    elif type is ChannelType.EMAIL:
        to = config.get("to")
        where = str(to[0]) if isinstance(to, list) and to else ""
    elif type is ChannelType.WEBHOOK:
        found = destination(type, config)
        where = found[1] if found is not None else ""
    slug = _slug(where)
    return f"{type.value}-{slug}" if slug else type.value
