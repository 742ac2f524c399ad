"""The shape of Alertmanager's time_intervals entries (timeinterval/timeinterval.go), checked field
by field; the documents are kept as the file writes them."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

import yaml

from alerting_server.amconfig.loaded import TimeIntervalSpec
from alerting_server.amconfig.nodes import Reader, to_python

_FIELDS = ("times", "weekdays", "days_of_month", "months", "years", "location")
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
_TIME = re.compile(r"([01]?[0-9]|2[0-4]):([0-5][0-9])")


def read_time_interval(r: Reader, node: yaml.Node, path: str) -> TimeIntervalSpec | None:
    fields = r.mapping(node, path, ("name", "time_intervals"), "a time interval")
    if fields is None:
        return None
    name = r.string(fields["name"], f"{path}.name") if "name" in fields else ""
    if not name:
        r.error(f"{path}.name", node, "missing name in time interval")
    intervals: list[dict[str, Any]] = []
    if "time_intervals" in fields:
        for i, item in enumerate(r.sequence(fields["time_intervals"], f"{path}.time_intervals")):
            checked = _interval(r, item, f"{path}.time_intervals[{i}]")
            if checked is not None:
                intervals.append(checked)
    return TimeIntervalSpec(name, tuple(intervals)) if name else None


def _interval(r: Reader, node: yaml.Node, path: str) -> dict[str, Any] | None:
    fields = r.mapping(node, path, _FIELDS, "a time interval")
    if fields is None:
        return {}
    if "times" in fields:
        for i, item in enumerate(r.sequence(fields["times"], f"{path}.times")):
            _time_range(r, item, f"{path}.times[{i}]")
    for key, check in (
        ("weekdays", _weekday),
        ("days_of_month", _day_of_month),
        ("months", _month),
        ("years", _year),
    ):
        if key in fields:
            for i, text in enumerate(r.strings(fields[key], f"{path}.{key}")):
                problem = _range(text, check)
                if problem:
                    r.error(f"{path}.{key}[{i}]", fields[key], problem)
    if "location" in fields:
        location = r.string(fields["location"], f"{path}.location")
        try:
            # Go's names for UTC and the machine's own zone are taken as they are.
            if location not in ("UTC", "Local"):
                zoneinfo.ZoneInfo(location)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            r.error(f"{path}.location", fields["location"], f"unknown time zone {location!r}")
    data = to_python(node)
    return data if isinstance(data, dict) else {}


def _minutes(text: str) -> int | None:
    m = _TIME.fullmatch(text)
    if m is None:
        return None
    minutes = int(m[1]) * 60 + int(m[2])
    return minutes if minutes <= 24 * 60 else None


def _time_range(r: Reader, node: yaml.Node, path: str) -> None:
    fields = r.mapping(node, path, ("start_time", "end_time"), "a time range")
    if fields is None:
        r.error(path, node, "both start and end times must be provided")
        return
    if "start_time" not in fields or "end_time" not in fields:
        r.error(path, node, "both start and end times must be provided")
        return
    start = _minutes(r.string(fields["start_time"], f"{path}.start_time"))
    end = _minutes(r.string(fields["end_time"], f"{path}.end_time"))
    for key, value in (("start_time", start), ("end_time", end)):
        if value is None:
            r.error(
                f"{path}.{key}", fields[key], "invalid time of day: expected HH:MM between 00:00 and 24:00"
            )
    if start is not None and end is not None and start >= end:
        r.error(path, node, "start time cannot be equal or greater than end time")


def _range(text: str, check: Any) -> str:
    """ "" when `text` is one value or an inclusive `a:b` range that `check` accepts."""
    parts = text.lower().split(":")
    if len(parts) > 2 or not all(parts):
        return f"couldn't parse range {text}, invalid format"
    values = []
    for part in parts:
        value = check(part.strip())
        if isinstance(value, str):
            return value
        values.append(value)
    if len(values) == 2:
        begin, end = values
        if check is _day_of_month and (begin < 0) != (end < 0):
            # Days counted from the end: "1:-1" is the whole month; "-1:1" means nothing.
            return "end day must be negative if start day is negative" if begin < 0 else ""
        if begin > end:
            return f"end of range {text} is before its start"
    return ""


def _weekday(text: str) -> int | str:
    return _WEEKDAYS.index(text) if text in _WEEKDAYS else f"{text} is not a valid weekday"


def _month(text: str) -> int | str:
    if text in _MONTHS:
        return _MONTHS.index(text) + 1
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    return f"{text} is not a valid month"


def _day_of_month(text: str) -> int | str:
    try:
        day = int(text)
    except ValueError:
        return f"{text} is not a valid day of the month"
    if day == 0 or not -31 <= day <= 31:
        return f"{day} is not a valid day of the month: out of range"
    return day


def _year(text: str) -> int | str:
    return int(text) if text.isdigit() and int(text) > 0 else f"{text} is not a valid year"
