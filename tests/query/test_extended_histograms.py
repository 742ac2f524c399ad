"""Anchored and smoothed selectors over native histograms (promql/functions.go
extendedHistogramRate, promql/engine.go smoothSeries): the whole histograms, not only their counts
and sums that extended_vectors.test looks at."""

from collections.abc import Sequence

import numpy as np
import pytest

from alerting_server.query import extended
from alerting_server.query.engine import Engine
from alerting_server.query.errors import QueryError
from alerting_server.query.extended import FEATURE
from alerting_server.query.extrapolated import MIXED_SCHEMAS, NOT_GAUGE
from alerting_server.query.histogram import CounterResetHint, FloatHistogram, parse_histogram
from alerting_server.query.labels import Matcher, from_mapping, get
from alerting_server.query.result import Result, ValueKind
from alerting_server.query.storage import SeriesData

S = 1000
Point = tuple[int, float | FloatHistogram]


class _Store:
    """Series of floats and histograms, as the store gives them to the engine."""

    def __init__(self, series: dict[str, list[Point]]) -> None:
        self.series = {from_mapping({"__name__": name}): points for name, points in series.items()}

    def select(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> list[SeriesData]:
        found = []
        for labels, points in sorted(self.series.items()):
            if not all(m.matches(get(labels, m.name)) for m in matchers):
                continue
            inside = [(t, v) for t, v in points if mint_ms <= t <= maxt_ms]
            if not inside:
                continue
            found.append(
                SeriesData(
                    labels,
                    np.array([t for t, _ in inside], dtype=np.int64),
                    np.array([v if isinstance(v, float) else np.nan for _, v in inside]),
                    histograms=tuple(v if isinstance(v, FloatHistogram) else None for _, v in inside),
                )
            )
        return found


def _h(text: str) -> FloatHistogram:
    return parse_histogram("{{" + text + "}}")


def _engine(series: dict[str, list[Point]]) -> Engine:
    return Engine(_Store(series), features=frozenset({FEATURE}))


def _histogram(result: Result) -> FloatHistogram:
    assert result.kind is ValueKind.VECTOR
    assert len(result.series) == 1
    found = result.series[0].histogram_at(0)
    assert found is not None
    return found


# A counter of two buckets: 15s apart, bucket 1 grows by 1, bucket 2 by 2.
COUNTER: list[Point] = [
    (i * 15 * S, _h(f"count:{3 * (i + 1)} sum:{3 * (i + 1)} buckets:[{i + 1} {2 * (i + 1)}]"))
    for i in range(8)
]


def test_smoothed_increase_interpolates_every_bucket() -> None:
    # Window (-10s, 50s]: left is the sample at 0s (1, 2), right 1/3 of the way from 45s (4, 8)
    # to 60s (5, 10).
    got = _histogram(_engine({"h": COUNTER}).instant("increase(h[1m] smoothed)", 50 * S))
    assert got.count == pytest.approx(10)
    assert got.sum == pytest.approx(10)
    assert [got.positive[i] for i in sorted(got.positive)] == pytest.approx([10 / 3, 20 / 3])
    assert got.counter_reset_hint is CounterResetHint.GAUGE


def test_anchored_rate_divides_the_whole_histogram_by_the_range() -> None:
    # Window (50s, 110s]: from the sample at 45s (4, 8) to the one at 105s (8, 16).
    got = _histogram(_engine({"h": COUNTER}).instant("rate(h[1m] anchored)", 110 * S))
    assert [got.positive[i] for i in sorted(got.positive)] == pytest.approx([4 / 60, 8 / 60])
    assert got.count == pytest.approx(12 / 60)


def test_a_reset_inside_the_window_adds_the_histogram_before_it() -> None:
    points: list[Point] = [
        (0, _h("count:3 sum:3 buckets:[1 2]")),
        (15 * S, _h("count:9 sum:9 buckets:[3 6]")),
        (30 * S, _h("count:3 sum:3 buckets:[1 2] counter_reset_hint:reset")),
        (45 * S, _h("count:6 sum:6 buckets:[2 4]")),
    ]
    got = _histogram(_engine({"h": points}).instant("increase(h[45s] anchored)", 45 * S))
    # 6 - 3 + 9 (the histogram before the reset), bucket by bucket.
    assert [got.positive[i] for i in sorted(got.positive)] == pytest.approx([4, 8])
    assert got.count == pytest.approx(12)


def test_smoothed_range_query_gives_a_histogram_at_every_step() -> None:
    result = _engine({"h": COUNTER}).range("h smoothed", 0, 30 * S, 7500)
    hists = result.series[0].histograms
    assert hists is not None
    counts = [h.count for h in hists if h is not None]
    assert counts == pytest.approx([3, 4.5, 6, 7.5, 9])


def test_smoothed_gauges_are_interpolated_on_a_straight_line_through_a_decrease() -> None:
    points: list[Point] = [
        (0, _h("count:10 sum:10 buckets:[10] counter_reset_hint:gauge")),
        (10 * S, _h("count:4 sum:4 buckets:[4] counter_reset_hint:gauge")),
    ]
    got = _histogram(_engine({"g": points}).instant("g smoothed", 5 * S))
    assert got.count == pytest.approx(7)
    # A counter (no gauge hint) would start over from zero at the decrease instead.
    counter = [(t, h.copy()) for t, h in points if isinstance(h, FloatHistogram)]
    for _, h in counter:
        h.counter_reset_hint = CounterResetHint.UNKNOWN
    assert _histogram(_engine({"c": list(counter)}).instant("c smoothed", 5 * S)).count == pytest.approx(2)


def test_delta_of_gauge_histograms_has_no_warning() -> None:
    points: list[Point] = [
        (0, _h("count:10 sum:10 buckets:[10] counter_reset_hint:gauge")),
        (30 * S, _h("count:4 sum:4 buckets:[4] counter_reset_hint:gauge")),
    ]
    result = _engine({"g": points}).instant("delta(g[30s] anchored)", 30 * S)
    assert _histogram(result).count == pytest.approx(-6)
    assert result.warnings == []


def test_a_bare_extended_range_selector_refuses_histograms_as_prometheus() -> None:
    for modifier in ("anchored", "smoothed"):
        with pytest.raises(QueryError, match=f"{modifier} modifier is not supported with histograms"):
            _engine({"h": COUNTER}).instant(f"h[1m] {modifier}", 60 * S)


def test_anchored_changes_count_a_switch_between_float_and_histogram() -> None:
    points: list[Point] = [(0, 1.0), (60 * S, 1.0), (120 * S, _h("count:1 sum:1 buckets:[1]"))]
    engine = _engine({"m": points})
    assert engine.instant("changes(m[1m] anchored)", 120 * S).series[0].values[0] == 1.0
    assert engine.instant("resets(m[1m] anchored)", 120 * S).series[0].values[0] == 1.0


def test_a_window_mixing_floats_and_histograms_gives_nothing_and_a_warning() -> None:
    points: list[Point] = [
        (0, 1.0),
        (15 * S, _h("count:1 sum:1 buckets:[1]")),
        (30 * S, _h("count:2 sum:2 buckets:[2]")),
    ]
    result = _engine({"m": points}).instant("rate(m[20s] anchored)", 30 * S)
    assert result.series == []
    assert result.warnings == [
        'PromQL warning: encountered a mix of histograms and floats for metric name "m" (1:6)'
    ]


def test_interpolation_across_exponential_and_custom_buckets_is_refused() -> None:
    exponential = _h("count:1 sum:1 buckets:[1]")
    custom = _h("schema:-53 count:1 sum:1 custom_values:[5] buckets:[1]")
    notes: set[str] = set()
    found = extended.extended_histogram_rate(
        [0, 10 * S],
        [exponential, custom],
        5 * S,
        10 * S,
        smoothed=True,
        is_counter=True,
        range_s=None,
        notes=notes,
    )
    assert found is None
    assert notes == {MIXED_SCHEMAS}


def test_delta_tells_of_ends_that_are_not_gauges() -> None:
    notes: set[str] = set()
    found = extended.extended_histogram_rate(
        [0, 10 * S],
        [_h("count:1 sum:1 buckets:[1]"), _h("count:3 sum:3 buckets:[3]")],
        0,
        10 * S,
        smoothed=False,
        is_counter=False,
        range_s=None,
        notes=notes,
    )
    assert found is not None
    assert found.count == 2
    assert notes == {NOT_GAUGE}


def test_interpolated_histogram_at_either_sample_is_that_sample() -> None:
    a, b = _h("count:1 sum:1 buckets:[1]"), _h("count:5 sum:5 buckets:[5]")
    notes: set[str] = set()
    assert extended.interpolate_histograms(a, 0, b, 10, 0, True, notes).equals(a)
    assert extended.interpolate_histograms(a, 0, b, 10, 10, True, notes).equals(b)
    assert extended.interpolate_histograms(a, 0, b, 10, 5, True, notes).count == 3
    assert notes == set()
