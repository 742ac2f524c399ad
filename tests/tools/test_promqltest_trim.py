"""The native-histogram trim operators `</` and `>/` (Prometheus 3), as promqltest cases: their
precedence, their place among comparisons in one query, their operands of the wrong type and the
bool modifier they refuse."""

import io
from pathlib import Path

from alerting_server.query.analysis import analyse
from alerting_server.query.features import KNOWN_FEATURES
from alerting_server.tools.promqltest import run_files

CASES = r"""
load 1m
    h {{schema:0 sum:123.75 count:34 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]}}
    f 3

eval instant at 1m h >/ 1 + 1
    h {{count:24 sum:113.13708498984761 z_bucket_w:0.001 offset:2 buckets:[8 16]}}

eval instant at 1m (h </ 2) >/ 1
    h {{count:4 sum:5.656854249492381 z_bucket_w:0.001 offset:1 buckets:[4]}}

eval instant at 1m sum(f >= 3) + histogram_count(h </ 1) + sum(f <= 2 or vector(4))
    {} 13

eval instant at 1m f >/ 1
    expect info regex: incompatible sample types encountered for binary operator ">/": float >/ float
    expect no_warn

eval instant at 1m 1 </ h
    expect info regex: binary operator "</": float </ histogram \(1:1\)

eval instant at 1m histogram_count(h </ on() f)
    expect no_info
    {} 14.679700005769249

eval instant at 1m histogram_count(sum_over_time((h >/ 2)[2m:1m]))
    {} 48

eval_fail instant at 1m h >/ bool 1
    expected_fail_message 1:3: parse error: bool modifier can only be used on comparison operators
"""


def test_trim_operators(tmp_path: Path) -> None:
    path = tmp_path / "trim.test"
    path.write_text(CASES)
    out = io.StringIO()
    assert run_files([str(path)], out, {}, KNOWN_FEATURES) == 0, out.getvalue()
    assert "passed 8, failed 0" in out.getvalue()


def test_only_the_trims_are_marked_and_such_queries_are_not_shared() -> None:
    found = analyse("sum(a >= 1) + histogram_count(b </ 2) + count(c <= 3 >/ 4)")
    assert sorted(found.trims.values()) == ["</", ">/"]
    assert found.plan is None
    assert analyse("a >= 1 <= 2").trims == {}
