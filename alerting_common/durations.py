"""Prometheus duration strings ("5m", "1h30m", "250ms", "2d") to and from milliseconds.

Same grammar as Prometheus' model.ParseDuration: one or more <number><unit> terms, units
among y w d h m s ms, each at most once and in descending order; "0" alone is zero.
"""

from __future__ import annotations

import re

_UNITS: list[tuple[str, int]] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
]
_UNIT_MS = dict(_UNITS)
_ORDER = {unit: i for i, (unit, _) in enumerate(_UNITS)}
_TERM = re.compile(r"([0-9]+)(ms|[ywdhms])")
_MAX_MS = 2**63 // 1_000_000  # what fits in Go's time.Duration, as Prometheus checks


def parse_duration(text: str) -> int:
    """Milliseconds of a Prometheus duration; ValueError with the reason when malformed."""
    if text == "0":
        return 0
    if not text:
        raise ValueError("empty duration string")
    pos = 0
    total = 0
    last = -1
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None:
            raise ValueError(f"not a valid duration string: {text!r}")
        order = _ORDER[m.group(2)]
        if order <= last:
            raise ValueError(f"not a valid duration string: {text!r} (units must be in descending order)")
        last = order
        digits = m.group(1).lstrip("0")
        # Out of range long before Python's limit on the digits of an int is reached.
        if len(digits) > len(str(_MAX_MS)):
            raise ValueError(f"duration out of range: {text[:40]!r}")
        total += int(digits or "0") * _UNIT_MS[m.group(2)]
        pos = m.end()
    if total > _MAX_MS:
        raise ValueError(f"duration out of range: {text!r}")
    return total


def format_duration(ms: int) -> str:
    """The Prometheus string of a duration in milliseconds: 5400000 -> "1h30m", 0 -> "0s"."""
    if ms == 0:
        return "0s"
    sign = ""
    if ms < 0:
        sign, ms = "-", -ms
    parts = []
    for unit, size in _UNITS:
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return sign + "".join(parts)
