from __future__ import annotations

import pytest

from gateway.promparams import PromError, format_time, format_value, parse_step, parse_time


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1435781451.781", 1_435_781_451_781),
        ("1435781451", 1_435_781_451_000),
        ("-1.5", -1500),
        ("1e3", 1_000_000),
        ("2015-07-01T20:10:51.781Z", 1_435_781_451_781),
        ("2015-07-01T22:10:51+02:00", 1_435_781_451_000),
    ],
)
def test_parse_time(text: str, ms: int) -> None:
    assert parse_time(text, "time") == ms


@pytest.mark.parametrize(
    "text", ["", "soon", "2015-07-01T20:10:51", "NaN", "inf", "1e30", "-62135596801", "253402300800"]
)
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(
        PromError, match=f'invalid parameter "time": cannot parse "{text}" to a valid timestamp'
    ):
        parse_time(text, "time")


@pytest.mark.parametrize(("text", "ms"), [("15", 15_000), ("0.25", 250), ("1m30s", 90_000), ("5m", 300_000)])
def test_parse_step(text: str, ms: int) -> None:
    assert parse_step(text) == ms


def test_parse_step_overflow() -> None:
    with pytest.raises(PromError, match="It overflows int64"):
        parse_step("1e20")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (85.5, "85.5"),
        (1.0, "1"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-07"),
        (1e-6, "0.000001"),
        (-2.5e-300, "-2.5e-300"),
        (1e21, "1e+21"),
        (-0.0, "-0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (float("nan"), "NaN"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
    ],
)
def test_format_value_like_go(value: float, text: str) -> None:
    assert format_value(value) == text


def test_format_time_in_seconds() -> None:
    assert format_time(1_435_781_451_000) == 1_435_781_451
    assert format_time(1_435_781_451_781) == 1435781451.781
