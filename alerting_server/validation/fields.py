"""The kinds of field a channel config is made of, and how each is checked; the integrations
(notify/integrations/) declare their configs with them."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

from alerting_server.errors import Violations
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
REDACTED_SENT = f'"{SECRET_PLACEHOLDER}" is the redacted form of a secret: send the secret itself'

# Notification templates run longer than other config strings (Alertmanager's HTML is ~10 kB).
MAX_TEMPLATE_LENGTH = 64 * 1024

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")
_NEWLINE = re.compile(r"[\r\n]")

Check = Callable[[Violations, str, object], None]


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
    TEMPLATE = "template"


@dataclass(frozen=True)
class FieldSpec:
    kind: Kind
    required: bool = False
    secret: bool = False
    # Said after "is required" when the field is missing or empty.
    hint: str = ""
    # Checks the value instead of the kind's check, for a field only one integration has.
    check: Check | None = None

    def check_value(self, v: Violations, field: str, value: object) -> None:
        (self.check or _CHECKS[self.kind])(v, field, value)


def check_string(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be a string, got {json_type(value)}")
    elif len(value) > MAX_CONFIG_STRING_LENGTH:
        v.add(field, f"must be at most {MAX_CONFIG_STRING_LENGTH} characters")


def _check_bool(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, bool):
        v.add(field, f"must be a boolean, got {json_type(value)}")


def _check_count(v: Violations, field: str, value: object) -> None:
    # JSON numbers that went through a protobuf Struct arrive as floats.
    if isinstance(value, bool) or not isinstance(value, int | float):
        v.add(field, f"must be an integer, got {json_type(value)}")
    elif isinstance(value, float) and not value.is_integer():
        v.add(field, f"must be an integer, got {value}")
    elif value < 0:
        v.add(field, f"must not be negative, got {value:g}")


def _check_url(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be a URL string, got {json_type(value)}")
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
        v.add(field, f"must be an email address string, got {json_type(value)}")
    elif _NEWLINE.search(value) or not _ADDRESS.fullmatch(parseaddr(value)[1]):
        v.add(field, f"invalid email address {value!r}")


def _check_addresses(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, list):
        v.add(field, f"must be a list of email addresses, got {json_type(value)}")
    elif len(value) > MAX_RECIPIENTS:
        v.add(field, f"at most {MAX_RECIPIENTS} addresses, got {len(value)}")
    else:
        for i, item in enumerate(value):
            _check_address(v, f"{field}[{i}]", item)


def _check_hostport(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f'must be a "host:port" string, got {json_type(value)}')
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
        v.add(field, f"must be an object of header names to values, got {json_type(value)}")
        return
    if len(value) > MAX_HEADERS:
        v.add(field, f"at most {MAX_HEADERS} headers, got {len(value)}")
        return
    for name, header_value in value.items():
        path = f"{field}.{name}"
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            v.add(path, f"invalid header name {name!r}")
        elif not isinstance(header_value, str):
            v.add(path, f"header value must be a string, got {json_type(header_value)}")
        elif header_value == SECRET_PLACEHOLDER:
            v.add(path, REDACTED_SENT)
        elif _NEWLINE.search(header_value):
            v.add(path, "header value must not contain line breaks")
        elif len(header_value) > MAX_HEADER_VALUE_LENGTH:
            v.add(path, f"header value must be at most {MAX_HEADER_VALUE_LENGTH} characters")


def _check_duration(v: Violations, field: str, value: object) -> None:
    parse_duration_field(v, field, value, positive=True)


def _check_template(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be a template string, got {json_type(value)}")
    elif len(value) > MAX_TEMPLATE_LENGTH:
        v.add(field, f"must be at most {MAX_TEMPLATE_LENGTH} characters")
    else:
        check_template(v, field, value, funcs=ALERTMANAGER_FUNCTIONS)


_CHECKS: dict[Kind, Check] = {
    Kind.STRING: check_string,
    Kind.BOOL: _check_bool,
    Kind.COUNT: _check_count,
    Kind.URL: _check_url,
    Kind.ADDRESS: _check_address,
    Kind.ADDRESSES: _check_addresses,
    Kind.HOSTPORT: _check_hostport,
    Kind.HEADERS: _check_headers,
    Kind.DURATION: _check_duration,
    Kind.TEMPLATE: _check_template,
}


def json_type(value: object) -> str:
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
