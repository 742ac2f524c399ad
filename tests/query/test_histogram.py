"""FloatHistogram against the results of Prometheus' model/histogram tests."""

import math

import pytest

from alerting_server.query.histogram import (
    NAN_RESULT,
    CounterResetHint,
    FloatHistogram,
    HistogramError,
    exponential_bound,
    histogram_fraction,
    histogram_quantile,
    histogram_variance,
    parse_histogram,
    trim_buckets,
)


def test_parse_and_print_round_trip() -> None:
    text = (
        "{{schema:1 count:9 sum:5 z_bucket:1 z_bucket_w:0.001 counter_reset_hint:gauge"
        " offset:-1 buckets:[1 0 2] n_buckets:[3 2]}}"
    )
    h = parse_histogram(text)
    assert h.schema == 1
    assert h.positive == {-1: 1.0, 0: 0.0, 1: 2.0}
    assert h.negative == {0: 3.0, 1: 2.0}
    assert h.counter_reset_hint == CounterResetHint.GAUGE
    assert h.test_expression() == text
    assert parse_histogram(h.test_expression()).equals(h)


def test_string_form_lists_buckets_from_lowest() -> None:
    h = parse_histogram("{{count:4 sum:5 z_bucket:1 z_bucket_w:0.5 buckets:[1 0 1] n_buckets:[1]}}")
    assert str(h) == "{count:4, sum:5, [-1,-0.5):1, [-0.5,0.5]:1, (0.5,1]:1, (2,4]:1}"


def test_exponential_bounds() -> None:
    assert exponential_bound(0, 0) == 1
    assert exponential_bound(1, 0) == 2
    assert exponential_bound(-1, 0) == 0.5
    assert exponential_bound(1, 1) == pytest.approx(math.sqrt(2))
    assert exponential_bound(1, -1) == 4


def test_add_reduces_to_the_lower_schema_and_merges_zero_buckets() -> None:
    a = parse_histogram("{{schema:1 count:3 sum:3 buckets:[1 1 1]}}")
    b = parse_histogram("{{schema:0 count:2 sum:1 buckets:[2]}}")
    res, collision, reconciled = a.add(b)
    assert not collision
    assert not reconciled
    assert res.schema == 0
    # Schema 1 buckets 0,1,2 become schema 0 buckets 0,1,1.
    assert res.compact().positive == {0: 3.0, 1: 2.0}
    assert res.count == 5
    assert res.sum == 4
    assert a.positive == {0: 1.0, 1: 1.0, 2: 1.0}, "operands stay unchanged"


def test_sub_and_scaling() -> None:
    a = parse_histogram("{{count:5 sum:10 buckets:[3 2]}}")
    b = parse_histogram("{{count:1 sum:2 buckets:[1]}}")
    diff, _, _ = a.sub(b)
    assert diff.compact().positive == {0: 2.0, 1: 2.0}
    assert diff.count == 4
    assert a.mul(2).positive == {0: 6.0, 1: 4.0}
    assert a.mul(-1).counter_reset_hint == CounterResetHint.GAUGE
    by_zero = a.div(0)
    assert by_zero.positive == {}
    assert math.isinf(by_zero.count)


def test_zero_threshold_reconciliation() -> None:
    a = parse_histogram("{{count:2 sum:1 z_bucket:1 z_bucket_w:0.5 buckets:[1]}}")
    b = parse_histogram("{{count:2 sum:1 z_bucket:1 z_bucket_w:1 buckets:[0 1]}}")
    res, _, _ = a.add(b)
    # The wider zero bucket (threshold 1) takes a's bucket (0.5,1].
    assert res.zero_threshold == 1
    assert res.zero_count == 3
    assert res.compact().positive == {1: 1.0}


def test_custom_buckets_mismatch_intersects_bounds() -> None:
    a = parse_histogram("{{schema:-53 count:3 sum:3 custom_values:[1 2 3] buckets:[1 1 1]}}")
    b = parse_histogram("{{schema:-53 count:1 sum:1 custom_values:[2] buckets:[1]}}")
    res, _, reconciled = a.add(b)
    assert reconciled
    assert res.custom_values == (2.0,)
    assert res.positive == {0: 3.0, 1: 1.0}
    exponential = parse_histogram("{{count:1 sum:1 buckets:[1]}}")
    with pytest.raises(HistogramError):
        a.add(exponential)


def test_counter_reset_hint_collision() -> None:
    reset = FloatHistogram(counter_reset_hint=CounterResetHint.COUNTER_RESET)
    not_reset = FloatHistogram(counter_reset_hint=CounterResetHint.NOT_COUNTER_RESET)
    res, collision, _ = reset.add(not_reset)
    assert collision
    assert res.counter_reset_hint == CounterResetHint.UNKNOWN
    _, collision, _ = reset.add(FloatHistogram())
    assert not collision


def test_detect_reset() -> None:
    prev = parse_histogram("{{count:3 sum:3 buckets:[1 2]}}")
    assert not parse_histogram("{{count:4 sum:4 buckets:[2 2]}}").detect_reset(prev)
    assert parse_histogram("{{count:4 sum:4 buckets:[3 1]}}").detect_reset(prev)
    assert parse_histogram("{{count:2 sum:4 buckets:[1 1]}}").detect_reset(prev)
    # A higher schema than before is a reset; a lower one compares merged buckets.
    assert parse_histogram("{{schema:1 count:3 sum:3 buckets:[1 2]}}").detect_reset(prev)
    assert not parse_histogram("{{schema:-1 count:3 sum:3 buckets:[1 2]}}").detect_reset(prev)
    assert parse_histogram("{{schema:-1 count:3 sum:3 buckets:[3]}}").detect_reset(prev)
    hinted = parse_histogram("{{count:4 sum:4 buckets:[3 1] counter_reset_hint:not_reset}}")
    assert not hinted.detect_reset(prev)


def test_equality_ignores_empty_buckets_only() -> None:
    a = parse_histogram("{{count:1 sum:1 buckets:[0 1 0]}}")
    b = parse_histogram("{{count:1 sum:1 offset:1 buckets:[1]}}")
    assert a.equals(b)
    assert not a.equals(parse_histogram("{{count:1 sum:1 buckets:[1]}}"))
    assert a.reduce_resolution(-1).positive == {0: 0.0, 1: 1.0}


@pytest.mark.parametrize(
    "text",
    [
        "{{count:1 sum}}",
        "{{foo:1}}",
        "{{buckets:1}}",
        "{{count:x}}",
        "{{counter_reset_hint:maybe}}",
        "count:1",
    ],
)
def test_bad_descriptions_are_refused(text: str) -> None:
    with pytest.raises(HistogramError):
        parse_histogram(text)


def test_quantile_interpolates_exponentially_and_fraction_counts_whole_buckets() -> None:
    h = parse_histogram("{{count:4 sum:6 buckets:[1 2 1]}}")
    value, note = histogram_quantile(0.5, h)
    assert value == pytest.approx(math.sqrt(2))
    assert note is None
    assert histogram_quantile(2, h)[0] == math.inf
    assert histogram_fraction(0, 2, h) == (0.75, None)
    assert histogram_fraction(2, 1, h) == (0.0, None)
    custom = parse_histogram("{{schema:-53 count:2 sum:3 custom_values:[1 2] buckets:[0 2]}}")
    assert histogram_quantile(0.5, custom)[0] == pytest.approx(1.5)
    nan = parse_histogram("{{count:3 sum:NaN buckets:[1]}}")
    value, note = histogram_quantile(0.9, nan)
    assert math.isnan(value)
    assert note == NAN_RESULT


def test_variance_uses_geometric_midpoints() -> None:
    # One observation in (1,2] and one in (2,4]: midpoints √2 and √8, mean 1.5 as the sum says.
    h = parse_histogram("{{count:2 sum:3 offset:1 buckets:[1 1]}}")
    expected = ((math.sqrt(2) - 1.5) ** 2 + (math.sqrt(8) - 1.5) ** 2) / 2
    assert histogram_variance(h) == pytest.approx(expected)
    assert math.isnan(histogram_variance(FloatHistogram()))


def test_trim_interpolates_and_leaves_its_operand_unchanged() -> None:
    text = "{{schema:0 sum:123.75 count:34 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]}}"
    h = parse_histogram(text)
    upper = trim_buckets(h, math.sqrt(2), True)
    # Half of the bucket (1,2] on the exponential scale, the zero bucket and the negative ones stay.
    assert upper.positive == {0: 2.0, 1: pytest.approx(2.0)}
    assert upper.count == pytest.approx(8)
    assert h.equals(parse_histogram(text))
    assert trim_buckets(h, -math.inf, False).equals(h)
    nothing = trim_buckets(h, math.inf, False)
    assert (nothing.count, nothing.sum, nothing.positive, nothing.negative) == (0, 0, {}, {})


def test_trim_of_custom_buckets_takes_the_first_bucket_from_zero() -> None:
    h = parse_histogram("{{schema:-53 sum:33 count:101 custom_values:[5] buckets:[1 100]}}")
    lower = trim_buckets(h, 1, False)
    assert lower.positive == {0: pytest.approx(0.8), 1: 100.0}
    assert lower.sum == pytest.approx(0.8 * 3 + 100 * 5)
