"""Alertmanager's time intervals (`time_intervals` of alertmanager.yml), with its semantics.

A named time interval is a list of specs; the interval holds at an instant when one of its specs
does. A spec holds when each of its fields holds, each evaluated on the wall clock of its
`location` (an IANA zone name, default UTC; "Local" is the server's zone, as Go's time package
has it):

    times          [{start_time: "HH:MM", end_time: "HH:MM"}]   minutes of the day, end exclusive,
                                                                 end up to "24:00"
    weekdays       ["monday:friday", "sunday"]                  inclusive, Sunday first, no wrap
    days_of_month  ["1:5", "-3:-1", "15"]                       inclusive; negative counts from the
                                                                 month's end (-1 is its last day)
    months         ["january:march", "12"]                      inclusive, by name or number
    years          ["2025:2027"]                                inclusive

A field that is absent (or null) places no constraint; a field that is present but empty (`[]`)
is never satisfied, as a non-nil empty slice in Alertmanager. Names of weekdays and months are
case-insensitive; range members given as YAML/JSON integers are read as their text, as
Alertmanager's YAML decoder does. Out-of-range days of the month are clamped to the month as
Alertmanager's timeinterval.ContainsTime does: a range starting after the month's last day holds
on no day of that month, and one ending after it ends on the last day.

The public API (the alertmanager.yml loader depends on it; keep these stable):

    parse_time_interval(name: str, specs: object, path: str = "") -> TimeInterval
        `specs` is the list under the interval's `time_intervals` key, as decoded from YAML or
        JSON. Raises InvalidArgument naming every bad field: `name`,
        `time_intervals[0].times[1].end_time`, `time_intervals[2].location`, ... each under
        `path.` when `path` is given (e.g. path="time_intervals[3]" for the fourth interval of a
        file).
    parse_specs(specs: object, field: str = "time_intervals") -> tuple[TimeIntervalSpec, ...]
    TimeInterval.contains(now_ms: int) -> bool
    TimeInterval.to_json() -> list[dict[str, object]]     the specs, in the shape parsed
    mutes(intervals: Mapping[str, TimeInterval], names: Sequence[str], now_ms: int) -> list[str]
        Alertmanager's Intervener.Mutes: the names among `names` whose interval holds at now_ms;
        raises UnknownTimeInterval for a name `intervals` lacks.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerting_server.errors import InvalidArgument, Violations

__all__ = [
    "MAX_RANGES",
    "MAX_SPECS",
    "InclusiveRange",
    "TimeInterval",
    "TimeIntervalSpec",
    "TimeRange",
    "UnknownTimeInterval",
    "mutes",
    "parse_specs",
    "parse_time_interval",
]

# This server's bounds on one interval (Alertmanager has none): what an API caller may store.
MAX_SPECS = 100
MAX_RANGES = 100
MAX_NAME_LENGTH = 255

_FIELDS = ("times", "weekdays", "days_of_month", "months", "years", "location")
_VALID_TIME = re.compile(r"^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)")
# Go's strconv.Atoi: an optional sign and ASCII digits, nothing else (Python's int() takes more).
_ATOI = re.compile(r"^[+-]?[0-9]+$")

_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
T = TypeVar("T")

_WEEKDAY_NUMBERS = {name: i for i, name in enumerate(_WEEKDAYS)}
_MONTH_NUMBERS = {name: i + 1 for i, name in enumerate(_MONTHS)}


class UnknownTimeInterval(Exception):
    """A route names a time interval the configuration lacks (Alertmanager: an error of the stage)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"time interval {name} doesn't exist in config")
        self.name = name


@dataclass(frozen=True)
class TimeRange:
    """Minutes of the day, start inclusive, end exclusive (0 <= start < end <= 1440)."""

    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class InclusiveRange:
    begin: int
    end: int


@dataclass(frozen=True)
class TimeIntervalSpec:
    """One of Alertmanager's TimeInterval documents; None: the field is absent (no constraint)."""

    times: tuple[TimeRange, ...] | None = None
    weekdays: tuple[InclusiveRange, ...] | None = None
    days_of_month: tuple[InclusiveRange, ...] | None = None
    months: tuple[InclusiveRange, ...] | None = None
    years: tuple[InclusiveRange, ...] | None = None
    location: str | None = None

    def contains(self, now_ms: int) -> bool:
        """Alertmanager's TimeInterval.ContainsTime."""
        t = _wall_clock(now_ms, self.location)
        if self.times is not None:
            minute = t.hour * 60 + t.minute
            if not any(r.start_minute <= minute < r.end_minute for r in self.times):
                return False
        if self.days_of_month is not None and not _in_days_of_month(self.days_of_month, t):
            return False
        if self.months is not None and not any(r.begin <= t.month <= r.end for r in self.months):
            return False
        if self.weekdays is not None:
            weekday = (t.weekday() + 1) % 7  # Go's time.Weekday: Sunday is 0
            if not any(r.begin <= weekday <= r.end for r in self.weekdays):
                return False
        return self.years is None or any(r.begin <= t.year <= r.end for r in self.years)

    def to_json(self) -> dict[str, object]:
        """The document as Alertmanager marshals it: weekdays by name, other ranges by number,
        a single member alone. Absent fields are left out; an empty one stays (it never holds)."""
        out: dict[str, object] = {}
        if self.times is not None:
            out["times"] = [
                {"start_time": _clock(r.start_minute), "end_time": _clock(r.end_minute)} for r in self.times
            ]
        if self.weekdays is not None:
            out["weekdays"] = [_range_text(r, _WEEKDAYS[r.begin], _WEEKDAYS[r.end]) for r in self.weekdays]
        for field in ("days_of_month", "months", "years"):
            ranges: tuple[InclusiveRange, ...] | None = getattr(self, field)
            if ranges is not None:
                out[field] = [_range_text(r, str(r.begin), str(r.end)) for r in ranges]
        if self.location is not None:
            out["location"] = self.location
        return out


@dataclass(frozen=True)
class TimeInterval:
    """A named time interval; `source` is "" when the API owns it, else the file it was loaded from."""

    name: str
    specs: tuple[TimeIntervalSpec, ...] = ()
    id: str = ""
    source: str = ""
    created_at: int = 0
    updated_at: int = 0

    def contains(self, now_ms: int) -> bool:
        return any(spec.contains(now_ms) for spec in self.specs)

    def to_json(self) -> list[dict[str, object]]:
        return [spec.to_json() for spec in self.specs]


def mutes(intervals: Mapping[str, TimeInterval], names: Sequence[str], now_ms: int) -> list[str]:
    """The names among `names` whose time interval holds at `now_ms`, in their order, each once."""
    holding: list[str] = []
    for name in names:
        interval = intervals.get(name)
        if interval is None:
            raise UnknownTimeInterval(name)
        if interval.contains(now_ms) and name not in holding:
            holding.append(name)
    return holding


# ---------------------------------------------------------------------------------------------
# Evaluation


@lru_cache(maxsize=256)
def _zone(location: str) -> tzinfo | None:
    """The zone of a location name already validated; None: the server's local zone."""
    if location in ("", "UTC"):
        return UTC
    if location == "Local":
        return None
    return ZoneInfo(location)


def _wall_clock(now_ms: int, location: str | None) -> datetime:
    seconds = now_ms // 1000
    if location is None:
        return datetime.fromtimestamp(seconds, UTC)
    zone = _zone(location)
    if zone is None:
        return datetime.fromtimestamp(seconds).astimezone()
    return datetime.fromtimestamp(seconds, zone)


def _clamp(n: int, low: int, high: int) -> int:
    if n <= low:
        return low
    if n >= high:
        return high
    return n


def _in_days_of_month(ranges: tuple[InclusiveRange, ...], t: datetime) -> bool:
    days = calendar.monthrange(t.year, t.month)[1]
    for r in ranges:
        begin = days + r.begin + 1 if r.begin < 0 else r.begin
        end = days + r.end + 1 if r.end < 0 else r.end
        # A range starting after the month's last day holds on no day of this month.
        if begin > days:
            continue
        # Clamped to the month so that a range does not run into the next one.
        begin = _clamp(begin, -days, days)
        end = _clamp(end, -days, days)
        if begin <= t.day <= end:
            return True
    return False


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _range_text(r: InclusiveRange, begin: str, end: str) -> str:
    return begin if r.begin == r.end else f"{begin}:{end}"


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_time_interval(name: str, specs: object, path: str = "") -> TimeInterval:
    """One named interval from Alertmanager's shape (`name`, `time_intervals`): see the module."""
    v = Violations()
    _check_name(v, "name", name)
    parsed = _parse_specs(v, specs, "time_intervals")
    if v.items:
        error = InvalidArgument(v.items)
        raise error.prefixed(path) if path else error
    return TimeInterval(name=name, specs=parsed)


def parse_specs(specs: object, field: str = "time_intervals") -> tuple[TimeIntervalSpec, ...]:
    """The specs of an interval (the list under `time_intervals`); violations are named under `field`."""
    v = Violations()
    parsed = _parse_specs(v, specs, field)
    v.raise_if_any()
    return parsed


def _check_name(v: Violations, field: str, name: object) -> None:
    if not isinstance(name, str):
        v.add(field, "must be a string")
    elif not name:
        # Alertmanager: "missing name in time interval".
        v.add(field, "missing name in time interval")
    elif len(name) > MAX_NAME_LENGTH:
        v.add(field, f"must be at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    elif any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        v.add(field, "must not contain control characters")


def _parse_specs(v: Violations, specs: object, field: str) -> tuple[TimeIntervalSpec, ...]:
    if specs is None:
        return ()
    if not isinstance(specs, list | tuple):
        v.add(field, "must be a list of time intervals")
        return ()
    if len(specs) > MAX_SPECS:
        v.add(field, f"at most {MAX_SPECS} time intervals, got {len(specs)}")
        return ()
    out = []
    for i, spec in enumerate(specs):
        parsed = _parse_spec(v, spec, f"{field}[{i}]")
        if parsed is not None:
            out.append(parsed)
    return tuple(out)


def _parse_spec(v: Violations, spec: object, field: str) -> TimeIntervalSpec | None:
    if spec is None:
        # A null list item decodes to the zero TimeInterval in Alertmanager: it always holds.
        return TimeIntervalSpec()
    if not isinstance(spec, Mapping):
        v.add(field, "must be an object with times, weekdays, days_of_month, months, years, location")
        return None
    before = len(v.items)
    for key in spec:
        if key not in _FIELDS:
            v.add(f"{field}.{key}", f"field {key} not found in type timeinterval.TimeInterval")
    times = _list(v, spec.get("times"), f"{field}.times", _parse_time_range)
    weekdays = _list(v, spec.get("weekdays"), f"{field}.weekdays", _parse_weekdays)
    days = _list(v, spec.get("days_of_month"), f"{field}.days_of_month", _parse_days_of_month)
    months = _list(v, spec.get("months"), f"{field}.months", _parse_months)
    years = _list(v, spec.get("years"), f"{field}.years", _parse_years)
    location = _parse_location(v, spec.get("location"), f"{field}.location")
    if len(v.items) > before:
        return None
    return TimeIntervalSpec(
        times=times, weekdays=weekdays, days_of_month=days, months=months, years=years, location=location
    )


def _list(v: Violations, value: object, field: str, parse: Callable[[object], T]) -> tuple[T, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        v.add(field, "must be a list")
        return None
    if len(value) > MAX_RANGES:
        v.add(field, f"at most {MAX_RANGES} entries, got {len(value)}")
        return None
    out: list[T] = []
    for i, item in enumerate(value):
        try:
            out.append(parse(item))
        except _Bad as bad:
            v.add(f"{field}[{i}]{bad.subfield}", bad.reason)
    return tuple(out)


class _Bad(Exception):
    def __init__(self, reason: str, subfield: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.subfield = subfield


def _text(value: object) -> str:
    """A range as text; YAML/JSON integers read as their digits (Alertmanager's YAML decoder)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Bad("must be a string")
    return str(value)


def _atoi(text: str) -> int:
    if not _ATOI.match(text):
        raise ValueError(text)
    return int(text)


def _parse_time(text: str, subfield: str) -> int:
    if not _VALID_TIME.match(text):
        raise _Bad(f"couldn't parse timestamp {text}, invalid format", subfield)
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _parse_time_range(item: object) -> TimeRange:
    if not isinstance(item, Mapping):
        raise _Bad("must be an object with start_time and end_time")
    for key in item:
        if key not in ("start_time", "end_time"):
            raise _Bad(f"field {key} not found in type timeinterval.yamlTimeRange", f".{key}")
    start, end = item.get("start_time") or "", item.get("end_time") or ""
    for key, value in (("start_time", start), ("end_time", end)):
        if not isinstance(value, str):
            # YAML 1.1 readers (PyYAML) take an unquoted 17:00 for the number 1020.
            raise _Bad('must be a string "HH:MM" (quote it in YAML)', f".{key}")
    if not start or not end:
        missing = ".start_time" if not start else ".end_time"
        raise _Bad("both start and end times must be provided", missing)
    start_minute = _parse_time(start, ".start_time")
    end_minute = _parse_time(end, ".end_time")
    if start_minute >= end_minute:
        raise _Bad("start time cannot be equal or greater than end time", ".end_time")
    return TimeRange(start_minute, end_minute)


def _split(text: str, member: Callable[[str], int]) -> InclusiveRange:
    """Alertmanager's stringableRangeFromString: "a:b" or "a", lower-cased."""
    text = text.lower()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 2:
            raise _Bad(f"couldn't parse range {text}, invalid format")
        return InclusiveRange(member(parts[0]), member(parts[1]))
    value = member(text)
    return InclusiveRange(value, value)


def _weekday(text: str) -> int:
    if text not in _WEEKDAY_NUMBERS:
        raise _Bad(f"{text} is not a valid weekday")
    return _WEEKDAY_NUMBERS[text]


def _month(text: str) -> int:
    if text in _MONTH_NUMBERS:
        return _MONTH_NUMBERS[text]
    try:
        return _atoi(text)
    except ValueError:
        raise _Bad(f"{text} is not a valid month") from None


def _number(text: str) -> int:
    try:
        return _atoi(text)
    except ValueError:
        raise _Bad(f'strconv.Atoi: parsing "{text}": invalid syntax') from None


def _parse_weekdays(item: object) -> InclusiveRange:
    text = _text(item)
    r = _split(text, _weekday)
    if r.begin > r.end:
        # Alertmanager's words, though it is the end day that comes before the start day.
        raise _Bad("start day cannot be before end day")
    return r


def _parse_days_of_month(item: object) -> InclusiveRange:
    r = _split(_text(item), _number)
    for day in (r.begin, r.end):
        if day == 0 or day < -31 or day > 31:
            raise _Bad(f"{day} is not a valid day of the month: out of range")
    if r.begin < 0 and r.end > 0:
        raise _Bad("end day must be negative if start day is negative")
    # Negative days are checked against the shortest month (28 days): what is always wrong.
    check_begin = 28 + r.begin if r.begin < 0 else r.begin
    check_end = 28 + r.end if r.end < 0 else r.end
    if check_begin > check_end:
        raise _Bad(f"end day {r.end} is always before start day {r.begin}")
    return r


def _parse_months(item: object) -> InclusiveRange:
    r = _split(_text(item), _month)
    if r.begin > r.end:
        begin = _MONTHS[r.begin - 1] if 1 <= r.begin <= 12 else ""
        end = _MONTHS[r.end - 1] if 1 <= r.end <= 12 else ""
        raise _Bad(f"end month {end} is before start month {begin}")
    return r


def _parse_years(item: object) -> InclusiveRange:
    r = _split(_text(item), _number)
    if r.begin > r.end:
        raise _Bad(f"end year {r.end} is before start year {r.begin}")
    return r


def _parse_location(v: Violations, value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        v.add(field, "must be a string")
        return None
    if value in ("", "UTC", "Local"):
        # Go's time.LoadLocation: "" is UTC, "Local" the server's zone.
        return "UTC" if value == "" else value
    try:
        _zone(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        v.add(field, f"unknown time zone {value}")
        return None
    return value
