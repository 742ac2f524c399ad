"""The store reads the windows of series whose head holds them through the compiled gather
(native/, `alerting_window_gather`); what it reads is what its own numpy path reads, sample for
sample, and any series it cannot take (sealed chunks in the window, histograms, start times) leaves
the whole read to that path."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting_server import native
from alerting_server.query.histogram import FloatHistogram
from alerting_server.query.labels import Labels
from alerting_server.query.storage import STALE_NAN, FlatSeries
from alerting_server.query.tsdb import CHUNK_SIZE, TSDB, Sample, histogram_sample

pytestmark = pytest.mark.skipif(
    not native.WINDOW_GATHER and os.environ.get("CI") != "true", reason="the native library is not built"
)

T0 = 1_700_000_000_000
VALUES = st.sampled_from([0.0, -1.5, 2.0, 1e300, float("inf"), float("nan"), STALE_NAN])


def series_labels(i: int) -> Labels:
    return (("__name__", "m"), ("i", str(i)))


def read(db: TSDB, ids: list[int], mint: int, maxt: int, *, gather: bool) -> FlatSeries:
    saved = native.WINDOW_GATHER
    native.WINDOW_GATHER = gather
    try:
        return db.select_flat_ids(ids, mint, maxt)
    finally:
        native.WINDOW_GATHER = saved


def assert_same(a: FlatSeries, b: FlatSeries) -> None:
    assert a.labels == b.labels
    assert a.timestamps.tolist() == b.timestamps.tolist()
    # Bit for bit: NaNs and the stale marker alike.
    assert a.values.tobytes() == b.values.tobytes()
    assert a.offsets.tolist() == b.offsets.tolist()
    assert (a.histograms is None) == (b.histograms is None)
    assert (a.start_timestamps is None) == (b.start_timestamps is None)


def counting_gather(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of series each compiled gather was given, call by call."""
    calls: list[int] = []
    real: Callable[..., object] = native.window_gather

    def counted(heads_t: list[int], heads_v: list[int], ns: list[int], mint: int, maxt: int) -> object:
        calls.append(len(ns))
        return real(heads_t, heads_v, ns, mint, maxt)

    monkeypatch.setattr(native, "window_gather", counted)
    return calls


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2 * CHUNK_SIZE + 5),
            st.integers(min_value=1, max_value=20),
            VALUES,
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(min_value=-50, max_value=3 * CHUNK_SIZE),
    st.integers(min_value=0, max_value=3 * CHUNK_SIZE),
    st.lists(st.integers(min_value=0, max_value=9), max_size=10),
)
def test_a_window_is_read_as_the_numpy_path_reads_it(
    shape: list[tuple[int, int, float]], start: int, width: int, picked: list[int]
) -> None:
    """Series of any length (sealed chunks or not), with gaps, windows anywhere (before, across,
    after), ids in any order, repeated or of no series."""
    db = TSDB(retention_ms=1 << 62)
    for i, (count, step, value) in enumerate(shape):
        for k in range(count):
            db.append([Sample(series_labels(i), T0 + k * step * 1000, value + k)])
    ids = picked if picked else db.select_ids([])
    mint, maxt = T0 + start * 1000, T0 + (start + width) * 1000
    assert_same(read(db, ids, mint, maxt, gather=True), read(db, ids, mint, maxt, gather=False))


def test_a_rules_range_read_goes_through_the_gather_and_follows_the_heads_as_they_grow_and_seal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = counting_gather(monkeypatch)
    db = TSDB(retention_ms=1 << 62)
    ids: list[int] = []
    for k in range(2 * CHUNK_SIZE + 30):
        db.append([Sample(series_labels(i), T0 + k * 5000, float(i * 1000 + k)) for i in range(5)])
        if not ids:
            ids = db.select_ids([])
        # A 1m window at each step: the head grows under it (new arrays), then is sealed.
        now = T0 + k * 5000
        got = read(db, ids, now - 60_000, now, gather=True)
        assert_same(got, read(db, ids, now - 60_000, now, gather=False))
        first = max(0, k - 12)
        if first // CHUNK_SIZE == k // CHUNK_SIZE:
            assert got.timestamps[: k - first + 1].tolist() == [T0 + j * 5000 for j in range(first, k + 1)]
    # Every read but those whose window reached back into a sealed chunk went through the gather.
    crossing = sum(1 for k in range(2 * CHUNK_SIZE + 30) if k >= CHUNK_SIZE and (k % CHUNK_SIZE) < 12)
    assert len(calls) == 2 * CHUNK_SIZE + 30 - crossing
    assert set(calls) == {5}


def test_series_with_histograms_or_start_times_leave_the_read_to_the_numpy_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = counting_gather(monkeypatch)
    db = TSDB(retention_ms=1 << 62)
    h = FloatHistogram(count=1.0, sum=1.0, schema=0)
    db.append([Sample(series_labels(0), T0, 1.0), histogram_sample(series_labels(1), T0, h)])
    db.append([Sample(series_labels(2), T0, 1.0, st_ms=T0 - 5)])
    ids = db.select_ids([])
    got = read(db, ids, T0 - 1000, T0, gather=True)
    assert calls == []
    assert got.histograms is not None
    assert got.start_timestamps is not None
    assert_same(got, read(db, ids, T0 - 1000, T0, gather=False))
    # Without them, the same kind of read is gathered.
    assert read(db, [ids[0]], T0 - 1000, T0, gather=True).labels == [series_labels(0)]
    assert calls == [1]


def test_the_gather_copies_each_heads_window_and_says_where_each_ends() -> None:
    heads_t = [
        np.array([10, 20, 30, 40], dtype=np.int64),
        np.array([5], dtype=np.int64),
        np.array([25, 35], dtype=np.int64),
    ]
    heads_v = [t.astype(np.float64) / 10 for t in heads_t]
    found = native.window_gather(
        [t.ctypes.data for t in heads_t], [v.ctypes.data for v in heads_v], [4, 1, 2], 20, 35
    )
    assert found is not None
    ts, vs, offsets = found
    assert ts.tolist() == [20, 30, 25, 35]
    assert vs.tolist() == [2.0, 3.0, 2.5, 3.5]
    # The second head has nothing in the window: an empty run.
    assert offsets.tolist() == [0, 2, 2, 4]
    # Only the first n of each head are read: a head's room past its samples is not.
    found = native.window_gather([heads_t[0].ctypes.data], [heads_v[0].ctypes.data], [2], 0, 100)
    assert found is not None
    assert found[0].tolist() == [10, 20]
    nothing = native.window_gather([], [], [], 0, 100)
    assert nothing is not None
    assert nothing[0].tolist() == []
    assert nothing[2].tolist() == [0]


def test_the_values_come_back_bit_for_bit() -> None:
    stale = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
    t = np.array([1, 2, 3], dtype=np.int64)
    v = np.array([stale, float("nan"), -0.0], dtype=np.float64)
    found = native.window_gather([t.ctypes.data], [v.ctypes.data], [3], 1, 3)
    assert found is not None
    assert found[1].tobytes() == v.tobytes()
