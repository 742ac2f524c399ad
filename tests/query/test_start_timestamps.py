"""Start timestamps: stored per sample, read by rate, increase, irate, resets and start_timestamp()."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from alerting_server.query import start_times
from alerting_server.query.engine import Engine
from alerting_server.query.features import EXPERIMENTAL_FUNCTIONS, USE_START_TIMESTAMPS
from alerting_server.query.histogram import FloatHistogram
from alerting_server.query.labels import Matcher, from_mapping
from alerting_server.query.result import ValueKind
from alerting_server.query.storage import SeriesData
from alerting_server.query.tsdb import TSDB, Sample

MIN = 60_000
ON = frozenset({USE_START_TIMESTAMPS, EXPERIMENTAL_FUNCTIONS})
OFF = frozenset({EXPERIMENTAL_FUNCTIONS})
RESET = from_mapping({"__name__": "c_total", "kind": "reset"})
DELTA = from_mapping({"__name__": "c_total", "kind": "delta"})
PLAIN = from_mapping({"__name__": "c_total", "kind": "plain"})


@pytest.fixture
def db() -> TSDB:
    """Three counters sampled every minute from 1m to 10m: one growing by 60 a minute whose start time
    jumps past the previous sample at 6m (a reset its values do not show), one of deltas (60 each,
    starting at the previous sample), one without start times."""
    db = TSDB()
    batch = []
    for k in range(1, 11):
        t = k * MIN
        batch.append(Sample(RESET, t, 60.0 * k, st_ms=1 if k < 6 else 6 * MIN - 30_000))
        batch.append(Sample(DELTA, t, 60.0, st_ms=t - MIN))
        batch.append(Sample(PLAIN, t, 60.0 * k))
    db.append(batch)
    return db


def by_kind(engine: Engine, query: str, t_ms: int) -> dict[str, float]:
    result = engine.instant(query, t_ms)
    assert result.kind is ValueKind.VECTOR
    return {dict(s.labels)["kind"]: float(s.values[0]) for s in result.series}


def test_a_start_time_after_the_previous_sample_is_a_reset() -> None:
    assert start_times.is_reset(0, 60_000, 90_000, 120_000)
    # Before the previous sample: the same cumulative run.
    assert not start_times.is_reset(1, 60_000, 1, 120_000)
    # Unknown, at or after the sample itself: never a reset.
    assert not start_times.is_reset(1, 60_000, 0, 120_000)
    assert not start_times.is_reset(1, 60_000, 120_000, 120_000)
    assert not start_times.is_reset(1, 60_000, 130_000, 120_000)


def test_a_start_time_at_the_previous_sample_is_a_reset_only_after_a_known_start() -> None:
    # Deltas: each sample starts where the previous one was taken, and that one had a start time.
    assert start_times.is_reset(1, 60_000, 60_000, 120_000)
    # OTel's cumulative series of unknown start: the previous start unknown (0) or at its sample.
    assert not start_times.is_reset(0, 60_000, 60_000, 120_000)
    assert not start_times.is_reset(60_000, 60_000, 60_000, 120_000)
    # A previous start after its own sample is invalid: treated as unknown.
    assert not start_times.is_reset(120_000, 60_000, 60_000, 120_000)


def test_overlap_is_a_start_before_the_previous_sample_not_shared_with_it() -> None:
    assert start_times.overlaps(0, 120_000, 60_000)
    assert not start_times.overlaps(60_000, 120_000, 60_000)  # a cumulative run
    assert not start_times.overlaps(60_000, 120_000, 120_000)  # a delta
    assert not start_times.overlaps(60_000, 120_000, 0)


def test_a_single_sample_with_its_start_in_the_window_has_an_increase() -> None:
    # One sample of 60 at 2m that started at 1m, window (0, 3m]: 60 over 60s, no extrapolation.
    value, overlap = start_times.extrapolated_rate([2 * MIN], [60.0], [MIN], 0, 3 * MIN, 3 * MIN, False)
    assert value == 60.0
    assert not overlap
    # Its start outside the window: as without a start time, too few samples.
    assert start_times.extrapolated_rate([2 * MIN], [60.0], [-MIN], 0, 3 * MIN, 3 * MIN, False)[0] is None


def test_the_store_keeps_start_times_per_sample(db: TSDB) -> None:
    found = {dict(s.labels)["kind"]: s for s in db.select([], 0, 20 * MIN)}
    assert found["plain"].start_timestamps is None
    delta = found["delta"].start_timestamps
    assert delta is not None
    assert delta.tolist() == [k * MIN - MIN for k in range(1, 11)]
    flat = db.select_flat([], 2 * MIN, 3 * MIN)
    assert flat.start_timestamps is not None
    # Series are sorted by labels: delta, plain (no start times: 0), reset.
    assert flat.start_timestamps.tolist() == [MIN, 2 * MIN, 0, 0, 1, 1]


def test_retention_drops_the_start_times_of_dropped_samples() -> None:
    db = TSDB(retention_ms=5 * MIN)
    db.append([Sample(DELTA, k * MIN, 1.0, st_ms=k * MIN - MIN) for k in range(1, 11)])
    db.enforce_retention(10 * MIN)
    (series,) = db.select([], 0, 20 * MIN)
    assert series.timestamps.tolist() == [k * MIN for k in range(5, 11)]
    assert series.start_timestamps is not None
    assert series.start_timestamps.tolist() == [k * MIN - MIN for k in range(5, 11)]


def test_increase_and_resets_read_start_times_when_enabled(db: TSDB) -> None:
    on, off = Engine(db, features=ON), Engine(db, features=OFF)
    # Window (5m, 10m]: samples 6m..10m, 300 -> 600; the start time of 6m (5m30s) is inside it,
    # so a zero sample is assumed there instead of extrapolating to the left.
    assert by_kind(on, "increase(c_total[5m])", 10 * MIN)["reset"] == pytest.approx(600.0)
    assert by_kind(off, "increase(c_total[5m])", 10 * MIN)["reset"] == pytest.approx(300.0)
    # Deltas: each sample is a reset, the increase is their sum.
    assert by_kind(on, "increase(c_total[5m])", 10 * MIN)["delta"] == pytest.approx(300.0)
    assert by_kind(on, "rate(c_total[5m])", 10 * MIN)["delta"] == pytest.approx(1.0)
    assert by_kind(off, "increase(c_total[5m])", 10 * MIN)["delta"] == 0.0
    assert by_kind(on, "increase(c_total[5m])", 10 * MIN)["plain"] == pytest.approx(300.0)
    # The reset at 6m, seen from 5m: inside the window (1m, 6m].
    assert by_kind(on, "resets(c_total[5m])", 6 * MIN) == {"reset": 1.0, "delta": 4.0, "plain": 0.0}
    assert by_kind(off, "resets(c_total[5m])", 6 * MIN) == {"reset": 0.0, "delta": 0.0, "plain": 0.0}
    assert by_kind(on, "irate(c_total[5m])", 6 * MIN)["reset"] == pytest.approx(360.0 / 60)
    assert by_kind(off, "irate(c_total[5m])", 6 * MIN)["reset"] == pytest.approx(1.0)


def test_delta_and_subqueries_see_no_start_times(db: TSDB) -> None:
    on = Engine(db, features=ON)
    assert by_kind(on, "delta(c_total[5m])", 10 * MIN)["delta"] == 0.0
    assert by_kind(on, "increase(c_total[5m:1m])", 10 * MIN)["delta"] == 0.0


def test_overlapping_start_times_warn_once_per_metric() -> None:
    db = TSDB()
    overlap = from_mapping({"__name__": "o_total"})
    db.append([Sample(overlap, k * MIN, 60.0 * k, st_ms=k * MIN - 2 * MIN) for k in range(1, 5)])
    result = Engine(db, features=ON).instant("rate(o_total[3m])", 4 * MIN)
    assert result.warnings == [
        "PromQL warning: sample has start time that overlaps with previous sample timestamp "
        'for metric "o_total" (1:6)'
    ]
    assert Engine(db, features=OFF).instant("rate(o_total[3m])", 4 * MIN).warnings == []
    # Once per step where a window holds the overlap, counted as Prometheus merges it.
    ranged = Engine(db, features=ON).range("rate(o_total[3m])", 3 * MIN, 4 * MIN, MIN)
    assert ranged.warnings == [
        "PromQL warning: sample has start time that overlaps with previous sample timestamp "
        'for metric "o_total" (2 occurrences) (1:6)'
    ]


def test_start_timestamp_of_a_selector(db: TSDB) -> None:
    result = Engine(db, features=ON).range("start_timestamp(c_total)", 2 * MIN, 3 * MIN, MIN)
    got = {dict(s.labels)["kind"]: s.values.tolist() for s in result.series}
    assert got == {"delta": [60.0, 120.0], "plain": [0.0, 0.0], "reset": [0.001, 0.001]}
    assert all("__name__" not in dict(s.labels) for s in result.series)
    # Of an expression, or with start times not enabled: nothing.
    assert Engine(db, features=ON).instant("start_timestamp(c_total * 1)", 2 * MIN).series == []
    assert Engine(db, features=OFF).instant("start_timestamp(c_total)", 2 * MIN).series == []


class _Histograms:
    """A store of one series of delta histograms (60 observations each, each sample starting 30s
    before it: a reset since the previous sample), from 1m to 10m."""

    def select(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> list[SeriesData]:
        times = [k * MIN for k in range(1, 11) if mint_ms <= k * MIN <= maxt_ms]
        return [
            SeriesData(
                from_mapping({"__name__": "h"}),
                np.array(times, dtype=np.int64),
                np.full(len(times), math.nan),
                histograms=tuple(FloatHistogram(count=60.0, sum=60.0) for _ in times),
                start_timestamps=np.array([t - 30_000 for t in times], dtype=np.int64),
            )
        ]


def test_histogram_rates_read_start_times() -> None:
    on, off = Engine(_Histograms(), features=ON), Engine(_Histograms(), features=OFF)
    (increase,) = on.instant("increase(h[5m])", 10 * MIN).series
    assert increase.histograms is not None
    got = increase.histograms[0]
    assert got is not None
    assert got.count == pytest.approx(300.0)
    assert got.sum == pytest.approx(300.0)
    (flat,) = off.instant("increase(h[5m])", 10 * MIN).series
    assert flat.histograms is not None
    assert flat.histograms[0] is not None
    assert flat.histograms[0].count == 0.0
    (irate,) = on.instant("irate(h[5m])", 10 * MIN).series
    assert irate.histograms is not None
    assert irate.histograms[0] is not None
    assert irate.histograms[0].count == pytest.approx(1.0)
    (resets,) = on.instant("resets(h[5m])", 10 * MIN).series
    assert float(resets.values[0]) == 4.0
    # One sample whose start is inside the window: a zero sample assumed there.
    (single,) = on.instant("rate(h[40s])", MIN).series
    assert single.histograms is not None
    assert single.histograms[0] is not None
    assert single.histograms[0].count == pytest.approx(60.0 / 40)
    assert off.instant("rate(h[40s])", MIN).series == []
