"""Parameters and values of Prometheus' HTTP API, parsed and formatted exactly as Prometheus does.

Times are unix seconds with decimals or RFC 3339; a step is float seconds or a Prometheus duration;
sample values are strings in Go's shortest decimal form ("85.5", "1", "NaN", "+Inf").
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

from alerting_common.durations import parse_duration

_MAX_INT64 = 2**63 - 1
_MIN_TIME_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


class PromError(ValueError):
    """A `bad_data` error, worded like Prometheus'."""


def parse_time(text: str, name: str) -> int:
    """Epoch milliseconds of a `time`/`start`/`end` parameter, within the years 1 to 9999 (what a
    protobuf Timestamp holds)."""
    ms = _time_ms(text)
    if ms is None or not _MIN_TIME_MS <= ms <= _MAX_TIME_MS:
        raise PromError(f'invalid parameter "{name}": cannot parse "{text}" to a valid timestamp')
    return ms


def _time_ms(text: str) -> int | None:
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(seconds):
            whole = math.trunc(seconds)
            return whole * 1000 + round((seconds - whole) * 1000)
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    delta = parsed - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    return delta // datetime.timedelta(milliseconds=1)


def parse_step(text: str, name: str = "step") -> int:
    """Milliseconds of a `step` parameter."""
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        nanos = seconds * 1e9
        if not math.isfinite(nanos) or abs(nanos) > _MAX_INT64:
            raise PromError(
                f'invalid parameter "{name}": cannot parse "{text}" to a valid duration. It overflows int64'
            )
        return round(seconds * 1000)
    try:
        return parse_duration(text)
    except ValueError:
        raise PromError(f'invalid parameter "{name}": cannot parse "{text}" to a valid duration') from None


def parse_limit(text: str) -> int:
    """A `limit` parameter: 0 (unset) for no limit."""
    if not text:
        return 0
    try:
        limit = int(text)
    except ValueError:
        raise PromError(f'invalid parameter "limit": cannot parse "{text}" to an integer') from None
    if limit < 0:
        raise PromError('invalid parameter "limit": limit must be non-negative')
    # More than any listing holds: no limit, within the RPC's int32.
    return min(limit, 2**31 - 1)


def check_range(start_ms: int, end_ms: int, step_ms: int) -> None:
    """The limits Prometheus puts on a range query."""
    if end_ms < start_ms:
        raise PromError("end timestamp must not be before start time")
    if step_ms <= 0:
        raise PromError(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    if (end_ms - start_ms) // step_ms > 11_000:
        raise PromError(
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)"
        )


def format_value(value: float) -> str:
    """Prometheus' jsonutil.MarshalFloat: Go's strconv.FormatFloat(value, 'f', -1, 64), or 'e' for a
    magnitude below 1e-6 or from 1e21 on, plus Prometheus' spelling of the infinities."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        # Python's repr is Go's 'e' with -1 in these ranges: the shortest digits, an exponent of two
        # digits or more (`1e-07`, `1.5e+21`).
        return repr(value)
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_time(ms: int) -> int | float:
    """Unix seconds as a JSON number: integral when it is, milliseconds as decimals otherwise."""
    return ms // 1000 if ms % 1000 == 0 else ms / 1000
