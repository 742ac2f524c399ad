"""Classic-histogram functions of Prometheus 3, as promqltest cases: histogram_quantiles, `le` in
mixed formats, histogram_fraction over a first bucket with a negative bound."""

import io
from pathlib import Path

from alerting_server.query.features import KNOWN_FEATURES
from alerting_server.query.mathx import go_parse_float, openmetrics_float
from alerting_server.tools.promqltest import run_files

CASES = r"""
load 5m
    lat_bucket{le="0.1"} 0+1x10
    lat_bucket{le="1"} 0+2x10
    lat_bucket{le="+Inf"} 0+4x10
    mixed_bucket{le="0.1"} 0+1x10
    mixed_bucket{le="1"} 0+1x10
    mixed_bucket{le="1.0"} 0+1x10
    mixed_bucket{le="+Inf"} 0+4x10
    neg_bucket{le="-1"} 2x10
    neg_bucket{le="1"} 6x10
    neg_bucket{le="+Inf"} 8x10
    hex_bucket{le="0x1p-1"} 2x10
    hex_bucket{le="+Inf"} 4x10
    bad_bucket{le=" 1"} 2x10
    bad_bucket{le="+Inf"} 4x10
    fixed_bucket{le="1"} 5x10
    fixed_bucket{le="10"} 2x10
    fixed_bucket{le="100"} 4x10
    fixed_bucket{le="+Inf"} 8x10

eval instant at 50m histogram_quantiles(lat_bucket, "q", 0.25, 0.5, 1)
    expect no_warn
    {q="0.25"} 0.1
    {q="0.5"} 1
    {q="1.0"} 1

eval range from 0 to 10m step 5m histogram_quantiles(lat_bucket, "quantile", 0.5)
    {quantile="0.5"} NaN 1 1

eval instant at 50m histogram_quantiles(lat_bucket, "q", 2)
    expect warn msg: PromQL warning: quantile value should be between 0 and 1, got 2 (1:38)
    {q="2.0"} +Inf

eval instant at 50m histogram_quantile(0.5, mixed_bucket)
    {} 1

eval instant at 50m histogram_quantiles(mixed_bucket, "q", 0.25)
    {q="0.25"} 0.1

eval instant at 50m histogram_fraction(-Inf, 0, neg_bucket)
    {} 0.5

eval instant at 50m histogram_fraction(-5, 0, neg_bucket)
    {} 0.25

eval instant at 50m histogram_fraction(0, 1, neg_bucket)
    {} 0.25

eval instant at 50m histogram_quantile(0.5, hex_bucket)
    {} 0.5

eval instant at 50m histogram_quantile(0.5, bad_bucket)
    expect warn regex: "le" is missing or has a malformed value of " 1" for metric name "bad_bucket" \(1:25\)$
    {} NaN

eval range from 5m to 10m step 5m histogram_quantile(0.5, fixed_bucket)
    expect info msg: MONOTONICITY
    {} 0.8 0.8
""".replace(
    "MONOTONICITY",
    "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see "
    "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric "
    'name "fixed_bucket", from buckets 10 to 100, with a max diff of 3, over 2 samples from '
    "1970-01-01T00:05:00Z to 1970-01-01T00:10:00Z (1:25)",
)


def test_classic_histogram_functions(tmp_path: Path) -> None:
    path = tmp_path / "histograms.test"
    path.write_text(CASES)
    out = io.StringIO()
    assert run_files([str(path)], out, {}, KNOWN_FEATURES) == 0, out.getvalue()
    assert "passed 11, failed 0" in out.getvalue()


def test_histogram_quantiles_is_experimental(tmp_path: Path) -> None:
    path = tmp_path / "histograms.test"
    path.write_text(CASES)
    out = io.StringIO()
    assert run_files([str(path)], out, {}) == 1
    assert 'function "histogram_quantiles" is not enabled' in out.getvalue()


def test_go_float_parsing_and_openmetrics_format() -> None:
    assert go_parse_float("1.0") == go_parse_float("1") == go_parse_float("1e0") == 1.0
    assert go_parse_float("0x1p-2") == 0.25
    assert go_parse_float("+Inf") == float("inf")
    for bad in (" 1", "1_0", "", "one"):
        try:
            go_parse_float(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} parsed")
    assert [openmetrics_float(f) for f in (0.5, 1.0, 0.0, -1.0, 2.0, 1e21, float("inf"))] == [
        "0.5",
        "1.0",
        "0.0",
        "-1.0",
        "2.0",
        "1e+21",
        "+Inf",
    ]
