import io
import math
from pathlib import Path

import pytest

from alerting_server.query.storage import is_stale
from alerting_server.tools.promqltest import HISTOGRAM, almost_equal, parse_values, run_files


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0+10x3", [0.0, 10.0, 20.0, 30.0]),
        ("1x2", [1.0, 1.0, 1.0]),
        ("-2+3x2", [-2.0, 1.0, 4.0]),
        ("5-1x2", [5.0, 4.0, 3.0]),
        ("1e3 Inf -Inf", [1000.0, math.inf, -math.inf]),
        ("_ 1 _x2 2", [None, 1.0, None, None, 2.0]),
        ("0x59", [0.0] * 60),
    ],
)
def test_expanding_notation(text: str, expected: list[float | None]) -> None:
    assert parse_values(text, 1) == expected


def test_special_values() -> None:
    nan, stale, hist = parse_values("NaN stale {{schema:0 sum:1 count:1}}", 1)
    assert isinstance(nan, float)
    assert math.isnan(nan)
    assert not is_stale(nan)
    assert isinstance(stale, float)
    assert is_stale(stale)
    assert hist is HISTOGRAM


def test_float_tolerance_is_relative() -> None:
    assert almost_equal(1.0, 1.0 + 1e-9)
    assert not almost_equal(1.0, 1.001)
    assert almost_equal(math.nan, math.nan)
    assert not almost_equal(0.0, 1e-300)


CASES = """
load 1m
    metric{a="x"} 0+1x10
    hist {{schema:0 sum:1 count:1}}x3

eval instant at 5m metric
    metric{a="x"} 5

eval range from 0 to 2m step 1m metric * 2
    {a="x"} 0 2 4

eval instant at 5m metric
    metric{a="x"} 6

eval instant at 1m hist

eval_fail instant at 0 sum(
"""


def test_runner_counts_passed_failed_and_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "cases.test"
    path.write_text(CASES)
    out = io.StringIO()
    assert run_files([str(path)], out, {}) == 1
    report = out.getvalue()
    assert "passed 3, failed 1 (0 known), unsupported 1" in report
    assert "FAIL cases.test:12: metric" in report
    assert "expected 6.0" in report
    assert run_files([str(path)], io.StringIO(), {"cases.test:12": "reason"}) == 0
