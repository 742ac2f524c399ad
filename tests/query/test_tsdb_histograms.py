"""Native-histogram samples in the embedded store: append rules, selection, retention, durability."""

import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from alerting_server.query.durable import DurableTSDB
from alerting_server.query.engine import Engine
from alerting_server.query.histogram import CounterResetHint, FloatHistogram
from alerting_server.query.labels import Matcher, MatchType, from_mapping
from alerting_server.query.storage import STALE_NAN
from alerting_server.query.tsdb import TSDB, Sample, histogram_sample

H = from_mapping({"__name__": "rpc_seconds", "job": "a"})
F = from_mapping({"__name__": "up", "job": "a"})
ALL = [Matcher.of(MatchType.REGEX, "__name__", ".+")]


def hist(count: float, schema: int = 0) -> FloatHistogram:
    return FloatHistogram(
        schema=schema,
        count=count,
        sum=count * 1.5,
        zero_threshold=0.001,
        zero_count=1.0,
        positive={0: count - 2.0, 1: 1.0},
        negative={-1: 0.0},
        counter_reset_hint=CounterResetHint.NOT_COUNTER_RESET,
    )


def custom(count: float) -> FloatHistogram:
    return FloatHistogram(
        schema=-53, count=count, sum=2.0, positive={0: count - 1, 2: 1.0}, custom_values=(0.1, 0.5)
    )


def test_histograms_are_selected_beside_floats_of_the_same_series() -> None:
    db = TSDB()
    result = db.append(
        [histogram_sample(H, 1000, hist(5)), Sample(H, 2000, 3.0), histogram_sample(H, 3000, hist(7))]
    )
    assert result.rejected == 0
    (series,) = db.select(ALL, 0, 10_000)
    assert series.timestamps.tolist() == [1000, 2000, 3000]
    assert series.histograms is not None
    h0, f, h2 = series.histograms
    assert h0 is not None
    assert h0.equals(hist(5))
    assert f is None
    assert series.values[1] == 3.0
    assert h2 is not None
    assert h2.count == 7
    flat = db.select_flat(ALL, 1500, 10_000)
    assert flat.histograms is not None
    assert [h is None for h in flat.histograms.tolist()] == [True, False]


def test_float_only_series_carry_no_histograms() -> None:
    db = TSDB()
    db.append([Sample(F, 1000, 1.0), histogram_sample(H, 1000, hist(5))])
    flat = db.select_flat([Matcher.of(MatchType.EQUAL, "__name__", "up")], 0, 10_000)
    assert flat.histograms is None
    (series,) = db.select([Matcher.of(MatchType.EQUAL, "__name__", "up")], 0, 10_000)
    assert series.histograms is None


def test_duplicates_and_out_of_order_follow_the_float_rules() -> None:
    db = TSDB()
    db.append([histogram_sample(H, 1000, hist(5))])
    # The same histogram again at the head: ignored, neither stored nor refused.
    same = db.append([histogram_sample(H, 1000, hist(5))])
    assert (same.accepted, same.rejected) == (1, 0)
    other = db.append([histogram_sample(H, 1000, hist(6))])
    assert other.rejected == 1
    assert "duplicate sample for timestamp 1000" in other.errors[0][1]
    # A float at a histogram's timestamp, and a histogram at a float's: refused as duplicates.
    mixed = db.append([Sample(H, 1000, math.nan)])
    assert mixed.rejected == 1
    assert "duplicate" in mixed.errors[0][1]
    db.append([Sample(F, 1000, 1.0)])
    mixed = db.append([histogram_sample(F, 1000, hist(5))])
    assert mixed.rejected == 1
    assert "duplicate" in mixed.errors[0][1]
    old = db.append([histogram_sample(H, 500, hist(1))])
    assert old.rejected == 1
    assert "out of order" in old.errors[0][1]
    # Within one batch too, and all_or_nothing writes nothing.
    batch = [histogram_sample(H, 2000, hist(8)), Sample(H, 2000, 1.0)]
    assert db.append(batch, all_or_nothing=True).accepted == 0
    (series,) = db.select([Matcher.of(MatchType.EQUAL, "__name__", "rpc_seconds")], 0, 10_000)
    assert series.timestamps.tolist() == [1000]


def test_retention_drops_old_histograms() -> None:
    db = TSDB(retention_ms=10_000)
    db.append([histogram_sample(H, t * 1000, hist(t + 3)) for t in range(30)])
    db.enforce_retention(29_000)
    (series,) = db.select(ALL, 0, 10**9)
    assert series.timestamps.tolist() == list(range(19_000, 30_000, 1000))
    assert series.histograms is not None
    assert [h.count for h in series.histograms if h is not None] == [float(t + 3) for t in range(19, 30)]
    inner = db._series[db.select_ids(ALL)[0]].hists
    assert inner is not None
    assert min(inner) == 19_000
    db.enforce_retention(100_000)
    assert db.series_count == 0


def _check_reopened(directory: Path) -> None:
    with DurableTSDB(directory) as reopened:
        (floats, series) = sorted(reopened.select(ALL, 0, 10**9), key=lambda s: s.labels != F)
        assert floats.histograms is None
        assert floats.values.tolist() == [1.0]
        assert series.timestamps.tolist() == [1000, 2000, 3000, 4000]
        assert series.histograms is not None
        first, second, placeholder, stale = series.histograms
        assert first is not None
        assert first.equals(hist(5))
        # The first histogram of a series reads back with an unknown hint, as from Prometheus' TSDB.
        assert first.counter_reset_hint is CounterResetHint.UNKNOWN
        assert first.negative == {-1: 0.0}
        assert second is not None
        assert second.equals(custom(4))
        assert second.custom_values == (0.1, 0.5)
        assert placeholder is None
        assert math.isnan(series.values[2])
        assert stale is None
        result = Engine(reopened).instant("histogram_count(rpc_seconds)", 2000)
        assert [float(s.values[0]) for s in result.series] == [4.0]


def _fill(db: DurableTSDB) -> None:
    db.append(
        [Sample(F, 1000, 1.0), histogram_sample(H, 1000, hist(5)), histogram_sample(H, 2000, custom(4))]
    )
    db.append([Sample(H, 3000, math.nan), Sample(H, 4000, STALE_NAN)])


def test_histograms_survive_a_restart_from_the_log(tmp_path: Path) -> None:
    db = DurableTSDB(tmp_path)
    _fill(db)
    db.close()
    _check_reopened(tmp_path)


def test_histograms_survive_a_restart_from_the_snapshot(tmp_path: Path) -> None:
    db = DurableTSDB(tmp_path, retention_ms=10**12)
    _fill(db)
    db.snapshot(now_ms=5000)
    assert (tmp_path / "wal").stat().st_size == 0
    db.close()
    _check_reopened(tmp_path)


def test_queries_read_stored_histograms() -> None:
    db = TSDB()
    db.append([histogram_sample(H, t * 15_000, hist(10.0 + 4 * t)) for t in range(21)])
    engine = Engine(db)
    result = engine.instant("sum(rate(rpc_seconds[1m]))", 300_000)
    (row,) = result.series
    h = row.histogram_at(0)
    assert h is not None
    assert math.isclose(h.count, 4 / 15)
    quantile = engine.instant("histogram_quantile(0.5, sum(rate(rpc_seconds[1m])))", 300_000)
    assert quantile.series
    assert not math.isnan(float(quantile.series[0].values[0]))
    ranged = engine.range("rpc_seconds", 0, 300_000, 60_000)
    (row,) = ranged.series
    assert row.histograms is not None
    assert all(h is not None for h in row.histograms)


def test_a_log_written_before_histograms_existed_still_loads(tmp_path: Path) -> None:
    # A record as the float-only store wrote it: length, crc32, then a JSON header without
    # `histograms`, the int64 timestamps and the float64 values.
    header = json.dumps({"labels": [[["__name__", "up"], ["job", "a"]]], "series": [0, 0]}).encode()
    body = (
        struct.pack("<I", len(header))
        + header
        + np.array([1000, 2000], dtype=np.int64).tobytes()
        + np.array([1.0, 2.0]).tobytes()
    )
    (tmp_path / "wal").write_bytes(struct.pack("<II", len(body), zlib.crc32(body)) + body)
    with DurableTSDB(tmp_path) as db:
        (series,) = db.select(ALL, 0, 10_000)
        assert series.values.tolist() == [1.0, 2.0]
        assert series.histograms is None
        db.append([histogram_sample(F, 3000, hist(5))])
    with DurableTSDB(tmp_path) as reopened:
        (series,) = reopened.select(ALL, 0, 10_000)
        assert series.timestamps.tolist() == [1000, 2000, 3000]
        assert series.histograms is not None
        assert series.histograms[2] is not None


def test_odd_floats_of_a_histogram_survive_the_log(tmp_path: Path) -> None:
    odd = FloatHistogram(count=math.inf, sum=math.nan, positive={-3: 5e-324, 4: 1.7976931348623157e308})
    with DurableTSDB(tmp_path) as db:
        db.append([histogram_sample(H, 1000, odd)])
    with DurableTSDB(tmp_path) as reopened:
        (series,) = reopened.select(ALL, 0, 10_000)
    assert series.histograms is not None
    back = series.histograms[0]
    assert back is not None
    assert back.count == math.inf
    assert math.isnan(back.sum)
    assert back.positive == {-3: 5e-324, 4: 1.7976931348623157e308}


def test_counter_reset_hints_read_back_as_from_prometheus_chunks(tmp_path: Path) -> None:
    def hints(db: TSDB | DurableTSDB) -> list[str]:
        (series,) = db.select(ALL, 0, 10**9)
        assert series.histograms is not None
        return [h.counter_reset_hint.name if h is not None else "float" for h in series.histograms]

    gauge = hist(1)
    gauge.counter_reset_hint = CounterResetHint.GAUGE
    said_reset = hist(9)
    said_reset.counter_reset_hint = CounterResetHint.COUNTER_RESET
    batch = [
        histogram_sample(H, 1000, hist(5)),  # first: unknown
        histogram_sample(H, 2000, hist(6)),  # grows: not a reset, whatever the sender said
        histogram_sample(H, 3000, hist(4)),  # a reset starts a chunk: unknown
        Sample(H, 4000, 1.0),
        histogram_sample(H, 5000, hist(5)),  # after a float: unknown
        histogram_sample(H, 6000, gauge),  # a gauge keeps its hint
        histogram_sample(H, 7000, hist(8)),  # after a gauge: unknown
        histogram_sample(H, 8000, said_reset),  # said to be a reset: kept
    ]
    expected = [
        "UNKNOWN",
        "NOT_COUNTER_RESET",
        "UNKNOWN",
        "float",
        "UNKNOWN",
        "GAUGE",
        "UNKNOWN",
        "COUNTER_RESET",
    ]
    with DurableTSDB(tmp_path, retention_ms=10**12) as db:
        db.append(batch)
        assert hints(db) == expected
    with DurableTSDB(tmp_path, retention_ms=10**12) as reopened:
        assert hints(reopened) == expected
        reopened.snapshot(now_ms=10_000)
    with DurableTSDB(tmp_path, retention_ms=10**12) as again:
        assert hints(again) == expected
    # The sender's histograms are not changed.
    assert batch[1].histogram.counter_reset_hint is CounterResetHint.NOT_COUNTER_RESET  # type: ignore[attr-defined]
