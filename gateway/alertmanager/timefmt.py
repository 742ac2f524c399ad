"""RFC 3339 times as Alertmanager's API writes and reads them."""

from __future__ import annotations

import datetime
import re

from google.protobuf import timestamp_pb2

# Go's zero time: what Alertmanager's JSON shows for a time that is not set.
ZERO_TIME = "0001-01-01T00:00:00.000Z"
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})",
)


def format_ms(ms: int) -> str:
    """strfmt.DateTime's form (RFC 3339 with milliseconds, UTC as Z): "2023-10-08T18:20:34.567Z"."""
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def format_timestamp(ts: timestamp_pb2.Timestamp, present: bool) -> str:
    return format_ms(ts.ToMilliseconds()) if present else ZERO_TIME


def parse_ms(text: str) -> int:
    """Epoch milliseconds of an RFC 3339 time; fractions finer than a millisecond are truncated.

    ValueError names the text. Go's zero time reads as 0, which the callers treat as unset.
    """
    m = _RFC3339.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"parsing time {text!r} as RFC 3339")
    date, clock, fraction, zone = m.groups()
    micros = (fraction or "").ljust(6, "0")[:6]
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        moment = datetime.datetime.fromisoformat(f"{date}T{clock}.{micros}{zone}")
    except ValueError:
        raise ValueError(f"parsing time {text!r}: out of range") from None
    if moment.year == 1 and moment.replace(tzinfo=None) == datetime.datetime(1, 1, 1):
        return 0
    delta = moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
