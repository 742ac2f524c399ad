"""Names of resources, rules, labels and metrics, with Prometheus' rules where they apply."""

from __future__ import annotations

import re

from alerting_server.errors import Violations
from alerting_server.validation.limits import (
    MAX_LABEL_NAME_LENGTH,
    MAX_LABEL_VALUE_LENGTH,
    MAX_NAME_LENGTH,
)

LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
METRIC_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_valid_utf8(text: str) -> bool:
    """False for strings holding lone surrogates, which JSON decoding lets through."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_name(v: Violations, field: str, name: str, *, max_length: int = MAX_NAME_LENGTH) -> None:
    """A resource name: 1..256 characters, printable, valid UTF-8."""
    if not name:
        v.add(field, "must not be empty")
    elif len(name) > max_length:
        v.add(field, f"must be at most {max_length} characters, got {len(name)}")
    elif not is_valid_utf8(name):
        v.add(field, "must be valid UTF-8")
    elif _CONTROL.search(name):
        v.add(field, "must not contain control characters")
    elif name != name.strip():
        v.add(field, "must not start or end with whitespace")


def check_alert_name(v: Violations, field: str, name: str) -> None:
    """An alerting rule's name becomes the `alertname` label: any printable text."""
    check_name(v, field, name)


def check_metric_name(v: Violations, field: str, name: str) -> None:
    """A recording rule's name is the metric it writes."""
    if not name:
        v.add(field, "must not be empty")
    elif len(name) > MAX_NAME_LENGTH:
        v.add(field, f"must be at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    elif not METRIC_NAME_RE.fullmatch(name):
        v.add(field, f"invalid metric name {name!r}: must match [a-zA-Z_:][a-zA-Z0-9_:]*")


def check_label_name(
    v: Violations,
    field: str,
    name: str,
    *,
    allow_reserved: bool = True,
    max_length: int = MAX_LABEL_NAME_LENGTH,
) -> None:
    if not name:
        v.add(field, "label name must not be empty")
    elif len(name) > max_length:
        v.add(field, f"label name must be at most {max_length} characters")
    elif not LABEL_NAME_RE.fullmatch(name):
        v.add(field, f"invalid label name {name!r}: must match [a-zA-Z_][a-zA-Z0-9_]*")
    elif not allow_reserved and name.startswith("__"):
        v.add(field, f"label name {name!r} is reserved: names starting with __ are for internal use")


def check_label_value(
    v: Violations, field: str, value: str, *, max_length: int = MAX_LABEL_VALUE_LENGTH
) -> None:
    if not is_valid_utf8(value):
        v.add(field, "label value must be valid UTF-8")
    elif len(value) > max_length:
        v.add(field, f"must be at most {max_length} characters, got {len(value)}")
