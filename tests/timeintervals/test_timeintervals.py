"""Alertmanager's time intervals: parsing, validation and ContainsTime, against an injected instant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from alerting_server.errors import InvalidArgument
from alerting_server.timeintervals import (
    TimeInterval,
    UnknownTimeInterval,
    mutes,
    parse_specs,
    parse_time_interval,
)


def ms(text: str) -> int:
    """An instant written in UTC: "2025-03-30T00:59"."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def holds(spec: dict[str, Any], at: str) -> bool:
    return parse_time_interval("t", [spec]).contains(ms(at))


CASES = [
    # times: the end is exclusive, 24:00 ends the day
    ({"times": [{"start_time": "09:00", "end_time": "17:00"}]}, "2025-01-06T09:00", True),
    ({"times": [{"start_time": "09:00", "end_time": "17:00"}]}, "2025-01-06T16:59:59", True),
    ({"times": [{"start_time": "09:00", "end_time": "17:00"}]}, "2025-01-06T17:00", False),
    ({"times": [{"start_time": "09:00", "end_time": "17:00"}]}, "2025-01-06T08:59:59", False),
    ({"times": [{"start_time": "23:00", "end_time": "24:00"}]}, "2025-01-06T23:59:59", True),
    ({"times": [{"start_time": "23:00", "end_time": "24:00"}]}, "2025-01-07T00:00", False),
    ({"times": [{"start_time": "00:00", "end_time": "24:00"}]}, "2025-01-07T00:00", True),
    (
        {
            "times": [
                {"start_time": "00:00", "end_time": "01:00"},
                {"start_time": "22:00", "end_time": "24:00"},
            ]
        },
        "2025-01-07T22:30",
        True,
    ),
    # weekdays: Sunday is day 0, ranges are inclusive; 2025-01-06 is a Monday
    ({"weekdays": ["monday:friday"]}, "2025-01-06T00:00", True),
    ({"weekdays": ["monday:friday"]}, "2025-01-10T23:59", True),
    ({"weekdays": ["monday:friday"]}, "2025-01-11T00:00", False),
    ({"weekdays": ["saturday", "sunday"]}, "2025-01-12T12:00", True),
    ({"weekdays": ["Sunday:Monday"]}, "2025-01-06T12:00", True),
    # days of the month, negative from the end
    ({"days_of_month": ["1:5"]}, "2025-01-05T23:59", True),
    ({"days_of_month": ["1:5"]}, "2025-01-06T00:00", False),
    ({"days_of_month": ["-1"]}, "2025-01-31T12:00", True),
    ({"days_of_month": ["-1"]}, "2025-01-30T12:00", False),
    ({"days_of_month": ["-1"]}, "2025-04-30T12:00", True),
    ({"days_of_month": ["-3:-1"]}, "2025-02-26T00:00", True),
    ({"days_of_month": ["-3:-1"]}, "2025-02-25T23:59", False),
    # February of a leap year: its last day is the 29th, and -3 the 27th
    ({"days_of_month": ["-1"]}, "2024-02-29T12:00", True),
    ({"days_of_month": ["-1"]}, "2024-02-28T12:00", False),
    ({"days_of_month": ["-1"]}, "2025-02-28T12:00", True),
    ({"days_of_month": ["-3:-1"]}, "2024-02-27T00:00", True),
    ({"days_of_month": ["-3:-1"]}, "2024-02-26T23:59", False),
    # a range beyond the month's end: skipped when it starts after the last day, else clamped
    ({"days_of_month": ["29:31"]}, "2025-02-28T12:00", False),
    ({"days_of_month": ["29:31"]}, "2024-02-29T12:00", True),
    ({"days_of_month": ["29:31"]}, "2025-03-01T12:00", False),
    ({"days_of_month": ["31"]}, "2025-04-30T12:00", False),
    ({"days_of_month": ["28:31"]}, "2025-02-28T12:00", True),
    ({"days_of_month": ["1:-1"]}, "2025-02-28T12:00", True),
    # -31:-29 is days 1..3 of a 31-day month, and no day of a 28-day February
    ({"days_of_month": ["-31:-29"]}, "2025-03-03T12:00", True),
    ({"days_of_month": ["-31:-29"]}, "2025-03-04T12:00", False),
    ({"days_of_month": ["-31:-29"]}, "2025-02-01T12:00", False),
    # months by name or number, years, inclusive
    ({"months": ["january:march"]}, "2025-03-31T23:59", True),
    ({"months": ["january:march"]}, "2025-04-01T00:00", False),
    ({"months": ["12"]}, "2025-12-01T00:00", True),
    ({"months": ["11:12", "february"]}, "2025-02-10T00:00", True),
    ({"years": ["2024:2025"]}, "2025-12-31T23:59", True),
    ({"years": ["2024:2025"]}, "2026-01-01T00:00", False),
    ({"years": ["2026"]}, "2026-06-01T00:00", True),
    # integers in the document are read as text, as Alertmanager's YAML decoder does
    ({"days_of_month": [1], "years": [2025]}, "2025-05-01T10:00", True),
    # every field must hold
    (
        {"weekdays": ["monday"], "times": [{"start_time": "09:00", "end_time": "10:00"}]},
        "2025-01-06T09:30",
        True,
    ),
    (
        {"weekdays": ["tuesday"], "times": [{"start_time": "09:00", "end_time": "10:00"}]},
        "2025-01-06T09:30",
        False,
    ),
    # an absent field places no constraint; an empty one never holds
    ({}, "2025-01-06T09:30", True),
    ({"times": None}, "2025-01-06T09:30", True),
    ({"times": []}, "2025-01-06T09:30", False),
    ({"weekdays": []}, "2025-01-06T09:30", False),
    # the location's wall clock: 2025-01-06T23:30Z is Tuesday 08:30 in Tokyo
    ({"weekdays": ["tuesday"], "location": "Asia/Tokyo"}, "2025-01-06T23:30", True),
    ({"weekdays": ["monday"], "location": "Asia/Tokyo"}, "2025-01-06T23:30", False),
    ({"days_of_month": ["-1"], "location": "Asia/Tokyo"}, "2025-01-31T15:00", False),
    ({"days_of_month": ["1"], "location": "Asia/Tokyo"}, "2025-01-31T15:00", True),
    ({"months": ["february"], "location": "America/New_York"}, "2025-03-01T04:59", True),
    ({"years": ["2024"], "location": "America/Los_Angeles"}, "2025-01-01T07:59", True),
    # Europe/Berlin skips 02:00-03:00 on 2025-03-30 (01:00Z): 00:59Z is 01:59 CET, 01:00Z is 03:00 CEST
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"},
        "2025-03-30T00:59",
        False,
    ),
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"},
        "2025-03-30T01:00",
        False,
    ),
    (
        {"times": [{"start_time": "01:00", "end_time": "02:00"}], "location": "Europe/Berlin"},
        "2025-03-30T00:59",
        True,
    ),
    (
        {"times": [{"start_time": "03:00", "end_time": "04:00"}], "location": "Europe/Berlin"},
        "2025-03-30T01:00",
        True,
    ),
    # ... and repeats 02:00-03:00 on 2025-10-26: 00:00-01:00Z (CEST) and 01:00-02:00Z (CET)
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"},
        "2025-10-25T23:59",
        False,
    ),
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"},
        "2025-10-26T00:00",
        True,
    ),
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"},
        "2025-10-26T00:59",
        True,
    ),
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"},
        "2025-10-26T01:00",
        True,
    ),
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"},
        "2025-10-26T01:59",
        True,
    ),
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"},
        "2025-10-26T02:00",
        False,
    ),
    # America/New_York: 02:00 EST jumps to 03:00 EDT at 2025-03-09T07:00Z; 01:00-02:00 repeats on 2025-11-02
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "America/New_York"},
        "2025-03-09T06:59",
        False,
    ),
    (
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "America/New_York"},
        "2025-03-09T07:00",
        False,
    ),
    (
        {"times": [{"start_time": "09:00", "end_time": "17:00"}], "location": "America/New_York"},
        "2025-03-09T13:00",
        True,
    ),
    (
        {"times": [{"start_time": "09:00", "end_time": "17:00"}], "location": "America/New_York"},
        "2025-03-08T13:30",
        False,
    ),
    (
        {"times": [{"start_time": "01:00", "end_time": "02:00"}], "location": "America/New_York"},
        "2025-11-02T05:00",
        True,
    ),
    (
        {"times": [{"start_time": "01:00", "end_time": "02:00"}], "location": "America/New_York"},
        "2025-11-02T06:30",
        True,
    ),
    (
        {"times": [{"start_time": "01:00", "end_time": "02:00"}], "location": "America/New_York"},
        "2025-11-02T07:00",
        False,
    ),
    # a negative day across a DST change: the last day of March in Berlin
    ({"days_of_month": ["-1"], "location": "Europe/Berlin"}, "2025-03-30T22:00", True),
    ({"days_of_month": ["-1"], "location": "Europe/Berlin"}, "2025-03-30T21:59", False),
    # "" is UTC
    ({"times": [{"start_time": "00:00", "end_time": "01:00"}], "location": ""}, "2025-01-06T00:30", True),
    ({"times": [{"start_time": "00:00", "end_time": "01:00"}], "location": "UTC"}, "2025-01-06T01:00", False),
]


@pytest.mark.parametrize(("spec", "at", "expected"), CASES)
def test_contains(spec: dict[str, Any], at: str, expected: bool) -> None:
    assert holds(spec, at) is expected


def test_an_interval_holds_when_one_of_its_specs_does() -> None:
    interval = parse_time_interval(
        "off-hours",
        [{"weekdays": ["saturday", "sunday"]}, {"times": [{"start_time": "00:00", "end_time": "08:00"}]}],
    )
    assert interval.contains(ms("2025-01-11T12:00"))
    assert interval.contains(ms("2025-01-06T07:59"))
    assert not interval.contains(ms("2025-01-06T08:00"))
    # an interval without specs never holds
    assert not parse_time_interval("never", []).contains(ms("2025-01-06T08:00"))


def test_mutes_names_the_intervals_that_hold_and_refuses_unknown_names() -> None:
    intervals = {
        "weekend": parse_time_interval("weekend", [{"weekdays": ["saturday", "sunday"]}]),
        "night": parse_time_interval("night", [{"times": [{"start_time": "00:00", "end_time": "06:00"}]}]),
    }
    assert mutes(intervals, ["weekend", "night"], ms("2025-01-11T03:00")) == ["weekend", "night"]
    assert mutes(intervals, ["night", "weekend"], ms("2025-01-11T12:00")) == ["weekend"]
    assert mutes(intervals, ["weekend"], ms("2025-01-06T12:00")) == []
    assert mutes(intervals, [], ms("2025-01-06T12:00")) == []
    with pytest.raises(UnknownTimeInterval, match="time interval nope doesn't exist in config"):
        mutes(intervals, ["weekend", "nope"], ms("2025-01-06T12:00"))


def test_to_json_gives_the_shape_parsed_back() -> None:
    specs: list[Any] = [
        {
            "times": [{"start_time": "9:00", "end_time": "17:30"}],
            "weekdays": ["Monday:Friday", "sunday"],
            "days_of_month": ["1:5", "-3:-1", 15],
            "months": ["january:march", "12"],
            "years": ["2025:2027"],
            "location": "Europe/Berlin",
        },
        {"times": []},
        {},
        None,
    ]
    specs[0]["times"] = [{"start_time": "09:00", "end_time": "17:30"}]
    interval = parse_time_interval("business", specs)
    assert interval.to_json() == [
        {
            "times": [{"start_time": "09:00", "end_time": "17:30"}],
            "weekdays": ["monday:friday", "sunday"],
            "days_of_month": ["1:5", "-3:-1", "15"],
            "months": ["1:3", "12"],
            "years": ["2025:2027"],
            "location": "Europe/Berlin",
        },
        {"times": []},
        {},
        {},
    ]
    assert parse_specs(interval.to_json()) == interval.specs
    assert parse_time_interval("x", [{"location": ""}]).to_json() == [{"location": "UTC"}]


def test_name_and_specs_are_kept() -> None:
    interval = parse_time_interval("n", [{"years": ["2025"]}])
    assert interval == TimeInterval(name="n", specs=interval.specs)
    assert interval.specs[0].years is not None


INVALID = [
    ({"times": [{"start_time": "09:00"}]}, "time_intervals[0].times[0].end_time", "both start and end times"),
    ({"times": [{"end_time": "09:00"}]}, "time_intervals[0].times[0].start_time", "both start and end times"),
    (
        {"times": [{"start_time": "9:00", "end_time": "10:00"}]},
        "time_intervals[0].times[0].start_time",
        "invalid",
    ),
    (
        {"times": [{"start_time": "09:00", "end_time": "24:01"}]},
        "time_intervals[0].times[0].end_time",
        "invalid",
    ),
    (
        {"times": [{"start_time": "09:60", "end_time": "10:00"}]},
        "time_intervals[0].times[0].start_time",
        "invalid",
    ),
    (
        {"times": [{"start_time": "10:00", "end_time": "10:00"}]},
        "time_intervals[0].times[0].end_time",
        "equal or greater",
    ),
    (
        {"times": [{"start_time": "24:00", "end_time": "24:00"}]},
        "time_intervals[0].times[0].end_time",
        "equal or greater",
    ),
    (
        {"times": [{"start_time": "11:00", "end_time": "10:00"}]},
        "time_intervals[0].times[0].end_time",
        "equal or greater",
    ),
    (
        {"times": [{"start_time": "09:00", "end_time": "10:00", "x": 1}]},
        "time_intervals[0].times[0].x",
        "not found",
    ),
    ({"times": "09:00"}, "time_intervals[0].times", "must be a list"),
    # what PyYAML makes of an unquoted 17:00
    (
        {"times": [{"start_time": "09:00", "end_time": 1020}]},
        "time_intervals[0].times[0].end_time",
        "quote it",
    ),
    # weekday ranges do not wrap around the week
    ({"weekdays": ["friday:monday"]}, "time_intervals[0].weekdays[0]", "start day cannot be before end day"),
    (
        {"weekdays": ["saturday:sunday"]},
        "time_intervals[0].weekdays[0]",
        "start day cannot be before end day",
    ),
    ({"weekdays": ["1:5"]}, "time_intervals[0].weekdays[0]", "1 is not a valid weekday"),
    ({"weekdays": ["mon"]}, "time_intervals[0].weekdays[0]", "mon is not a valid weekday"),
    ({"weekdays": ["monday:tuesday:friday"]}, "time_intervals[0].weekdays[0]", "invalid format"),
    ({"weekdays": [True]}, "time_intervals[0].weekdays[0]", "must be a string"),
    ({"days_of_month": ["0"]}, "time_intervals[0].days_of_month[0]", "0 is not a valid day of the month"),
    ({"days_of_month": ["32"]}, "time_intervals[0].days_of_month[0]", "32 is not a valid day of the month"),
    ({"days_of_month": ["-32:-1"]}, "time_intervals[0].days_of_month[0]", "-32 is not a valid day"),
    ({"days_of_month": ["-1:5"]}, "time_intervals[0].days_of_month[0]", "end day must be negative"),
    (
        {"days_of_month": ["10:5"]},
        "time_intervals[0].days_of_month[0]",
        "end day 5 is always before start day 10",
    ),
    ({"days_of_month": ["25:-5"]}, "time_intervals[0].days_of_month[0]", "end day -5 is always before"),
    ({"days_of_month": ["-1:-3"]}, "time_intervals[0].days_of_month[0]", "end day -3 is always before"),
    ({"days_of_month": ["1 "]}, "time_intervals[0].days_of_month[0]", "invalid syntax"),
    ({"days_of_month": ["1_0"]}, "time_intervals[0].days_of_month[0]", "invalid syntax"),
    (
        {"months": ["march:january"]},
        "time_intervals[0].months[0]",
        "end month january is before start month march",
    ),
    ({"months": ["jan"]}, "time_intervals[0].months[0]", "jan is not a valid month"),
    ({"years": ["2026:2025"]}, "time_intervals[0].years[0]", "end year 2025 is before start year 2026"),
    ({"years": ["twenty"]}, "time_intervals[0].years[0]", "invalid syntax"),
    ({"location": "Mars/Olympus_Mons"}, "time_intervals[0].location", "unknown time zone"),
    ({"location": "../../etc/passwd"}, "time_intervals[0].location", "unknown time zone"),
    ({"location": "Europe"}, "time_intervals[0].location", "unknown time zone"),
    ({"location": 1}, "time_intervals[0].location", "must be a string"),
    ({"weekday": ["monday"]}, "time_intervals[0].weekday", "not found"),
]


@pytest.mark.parametrize(("spec", "field", "reason"), INVALID)
def test_invalid_specs_are_refused_naming_the_field(spec: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_time_interval("t", [spec])
    assert [v.field for v in caught.value.violations] == [field]
    assert reason in caught.value.violations[0].description


def test_every_bad_field_is_named_under_the_path() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_time_interval(
            "",
            [{"weekdays": ["monday"]}, {"months": ["smarch"], "years": ["x"]}, "weekends"],
            path="time_intervals[4]",
        )
    assert [v.field for v in caught.value.violations] == [
        "time_intervals[4].name",
        "time_intervals[4].time_intervals[1].months[0]",
        "time_intervals[4].time_intervals[1].years[0]",
        "time_intervals[4].time_intervals[2]",
    ]
    assert "missing name" in caught.value.violations[0].description


def test_specs_must_be_a_list() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_specs({"weekdays": ["monday"]})
    assert caught.value.violations[0].field == "time_intervals"
