"""Durations: milliseconds from the API layer, Prometheus strings from rule files and YAML."""

from __future__ import annotations

from alerting_common.durations import format_duration, parse_duration
from alerting_server.errors import Violations

# What fits in Go's time.Duration, as Prometheus checks, so exported rules stay loadable.
MAX_DURATION_MS = 2**63 // 1_000_000


def check_duration_ms(v: Violations, field: str, ms: int | None, *, positive: bool = False) -> None:
    """A duration in ms: not negative (not zero either when `positive`), not beyond Go's range.

    None means unset and is always accepted; callers requiring a value check that themselves.
    """
    if ms is None:
        return
    if ms < 0:
        v.add(field, f"must not be negative, got {format_duration(ms)}")
    elif positive and ms == 0:
        v.add(field, "must be greater than zero")
    elif ms > MAX_DURATION_MS:
        v.add(field, f"out of range: at most {format_duration(MAX_DURATION_MS)}")


def parse_duration_field(v: Violations, field: str, text: object, *, positive: bool = False) -> int | None:
    """The ms of a duration string such as "5m", or None after recording why it is not one."""
    if not isinstance(text, str):
        v.add(field, f'must be a duration string such as "5m", got {type(text).__name__}')
        return None
    try:
        ms = parse_duration(text)
    except ValueError as e:
        v.add(field, str(e))
        return None
    before = len(v.items)
    check_duration_ms(v, field, ms, positive=positive)
    return ms if len(v.items) == before else None
