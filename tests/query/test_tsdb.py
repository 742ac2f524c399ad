import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerting_server.errors import ResourceExhausted
from alerting_server.query import tsdb
from alerting_server.query.labels import Matcher, MatchType, from_mapping
from alerting_server.query.storage import STALE_NAN, is_stale
from alerting_server.query.tsdb import CHUNK_SIZE, TSDB, Sample

UP_A = from_mapping({"__name__": "up", "job": "a"})
UP_B = from_mapping({"__name__": "up", "job": "b", "env": "prod"})
REQ = from_mapping({"__name__": "requests_total", "job": "a"})


def m(type_: MatchType, name: str, value: str) -> Matcher:
    return Matcher.of(type_, name, value)


def names(db: TSDB, *matchers: Matcher) -> list[dict[str, str]]:
    return [dict(s.labels) for s in db.select(list(matchers), 0, 10**12)]


@pytest.fixture
def db() -> TSDB:
    store = TSDB()
    store.append([Sample(UP_A, 1000, 1.0), Sample(UP_B, 1000, 0.0), Sample(REQ, 1000, 5.0)])
    return store


@pytest.mark.parametrize(
    ("matchers", "expected_jobs"),
    [
        ([m(MatchType.EQUAL, "__name__", "up")], ["a", "b"]),
        ([m(MatchType.NOT_EQUAL, "job", "a")], ["b"]),
        ([m(MatchType.REGEX, "__name__", "up|req.*")], ["a", "a", "b"]),
        ([m(MatchType.REGEX, "__name__", "u")], []),  # regexes are fully anchored
        ([m(MatchType.NOT_REGEX, "job", "a|c")], ["b"]),
        ([m(MatchType.EQUAL, "env", "")], ["a", "a"]),  # empty matches a missing label
        ([m(MatchType.EQUAL, "__name__", "up"), m(MatchType.NOT_EQUAL, "env", "prod")], ["a"]),
        ([m(MatchType.REGEX, "job", "(?i)A")], ["a", "a"]),
    ],
)
def test_select_by_matchers(db: TSDB, matchers: list[Matcher], expected_jobs: list[str]) -> None:
    assert sorted(s["job"] for s in names(db, *matchers)) == expected_jobs


def test_out_of_order_samples_are_rejected_one_by_one(db: TSDB) -> None:
    result = db.append([Sample(UP_A, 500, 9.0), Sample(UP_A, 2000, 2.0), Sample(UP_A, 1000, 3.0)])
    assert (result.accepted, result.rejected) == (1, 2)
    assert result.errors[0][0] == 0
    assert "older than the series head 1000" in result.errors[0][1]
    assert result.errors[1] == (2, "out of order sample: timestamp 1000 is older than the series head 2000")
    series = db.select([m(MatchType.EQUAL, "job", "a"), m(MatchType.EQUAL, "__name__", "up")], 0, 10_000)
    assert series[0].timestamps.tolist() == [1000, 2000]
    assert series[0].values.tolist() == [1.0, 2.0]


def test_same_timestamp_same_value_is_idempotent_but_different_value_is_rejected(db: TSDB) -> None:
    result = db.append([Sample(UP_A, 1000, 1.0), Sample(UP_A, 1000, 7.0)])
    assert result.accepted == 1
    assert result.errors == ((1, "duplicate sample for timestamp 1000"),)


def test_all_or_nothing_writes_nothing_when_one_sample_is_refused() -> None:
    db = TSDB()
    db.append([Sample(UP_A, 1000, 1.0)])
    batch = [Sample(UP_B, 500, 5.0), Sample(UP_A, 2000, 2.0), Sample(UP_A, 1500, 3.0), Sample(REQ, 9, 1.0)]

    result = db.append(batch, all_or_nothing=True)

    assert (result.accepted, result.rejected) == (0, 4)
    # Refused against the head the batch itself moved (2000), not only the stored one (1000).
    assert result.errors == ((2, "out of order sample: timestamp 1500 is older than the series head 2000"),)
    assert db.series_count == 1  # The series the batch would have created are not there.
    stored = db.select([m(MatchType.REGEX, "__name__", ".+")], 0, 10_000)
    assert [(s.labels, s.timestamps.tolist()) for s in stored] == [(UP_A, [1000])]


def test_all_or_nothing_accepts_what_one_by_one_would_accept() -> None:
    db = TSDB()
    db.append([Sample(UP_A, 1000, 1.0)])
    # The stored sample again (same value) and a new series: nothing is refused, all is written.
    batch = [Sample(UP_A, 1000, 1.0), Sample(UP_A, 2000, 2.0), Sample(UP_B, 1, 1.0)]
    result = db.append(batch, all_or_nothing=True)
    assert (result.accepted, result.rejected, result.errors) == (3, 0, ())
    assert db.series_count == 2
    duplicate = db.append([Sample(UP_A, 2000, 9.0)], all_or_nothing=True)
    assert duplicate.errors == ((0, "duplicate sample for timestamp 2000"),)


def test_series_limit_names_the_limit_and_writes_nothing() -> None:
    store = TSDB(max_series=2)
    store.append([Sample(UP_A, 1, 1.0), Sample(UP_B, 1, 1.0)])
    with pytest.raises(ResourceExhausted, match="series limit of 2"):
        store.append([Sample(UP_A, 2, 1.0), Sample(REQ, 2, 1.0)])
    assert store.series_count == 2
    assert store.select([m(MatchType.EQUAL, "job", "a")], 0, 10)[0].timestamps.tolist() == [1]


def test_samples_span_many_chunks_and_windows_are_inclusive() -> None:
    store = TSDB()
    store.append([Sample(UP_A, t * 1000, float(t)) for t in range(CHUNK_SIZE * 3 + 5)])
    (series,) = store.select([m(MatchType.EQUAL, "job", "a")], 100_000, 600_000)
    assert series.timestamps[0] == 100_000
    assert series.timestamps[-1] == 600_000
    assert len(series.values) == 501
    assert series.values.dtype.name == "float64"
    assert series.timestamps.dtype.name == "int64"


def test_retention_drops_old_samples_and_empty_series() -> None:
    store = TSDB(retention_ms=10_000)
    store.append([Sample(UP_A, t * 1000, 1.0) for t in range(CHUNK_SIZE + 20)])
    store.append([Sample(UP_B, 1000, 1.0)])
    now = (CHUNK_SIZE + 19) * 1000
    store.enforce_retention(now)
    (series,) = store.select([m(MatchType.EQUAL, "__name__", "up")], 0, 10**9)
    assert series.labels == UP_A
    assert series.timestamps[0] == now - 10_000
    assert store.series_count == 1


def test_stale_marker_is_stored_bit_exact() -> None:
    store = TSDB()
    store.append([Sample(UP_A, 1000, 1.0), Sample(UP_A, 2000, STALE_NAN), Sample(UP_A, 3000, math.nan)])
    values = store.select([m(MatchType.EQUAL, "job", "a")], 0, 10_000)[0].values
    assert [is_stale(float(v)) for v in values] == [False, True, False]


def test_series_matching_is_the_union_of_the_sets_within_the_time_range() -> None:
    store = TSDB()
    store.append([Sample(UP_A, 1000, 1.0), Sample(UP_B, 5000, 0.0), Sample(REQ, 9000, 5.0)])
    assert store.series_matching([], 0, 10**12) == [REQ, UP_B, UP_A]
    job_b_or_requests = [[m(MatchType.EQUAL, "job", "b")], [m(MatchType.EQUAL, "__name__", "requests_total")]]
    assert store.series_matching(job_b_or_requests, 0, 10**12) == [REQ, UP_B]
    # A series counts when its samples reach into the range, at either end.
    assert store.series_matching([], 5000, 8999) == [UP_B]
    assert store.series_matching([], 1001, 4999) == []
    store.append([Sample(UP_A, 20_000, 1.0)])
    assert store.series_matching([[m(MatchType.EQUAL, "job", "a")]], 10_000, 15_000) == [UP_A]


def test_a_label_set_written_again_after_its_series_was_dropped_goes_to_the_new_series() -> None:
    """The store finds a series by its label set object first; a series dropped by retention and
    made again under the same object gets the samples, not the dropped one."""
    store = TSDB(retention_ms=10_000)
    labels = from_mapping({"__name__": "up", "job": "a"})
    store.append([Sample(labels, 1000, 1.0)])
    store.append([Sample(labels, 2000, 2.0)])
    store.enforce_retention(100_000)
    assert store.series_count == 0
    store.append([Sample(labels, 95_000, 3.0)])
    store.append([Sample(labels, 96_000, 4.0)])
    # An equal label set made anew finds the same series.
    store.append([Sample(from_mapping({"__name__": "up", "job": "a"}), 97_000, 5.0)])
    (series,) = store.select([m(MatchType.EQUAL, "__name__", "up")], 0, 10**9)
    assert series.timestamps.tolist() == [95_000, 96_000, 97_000]
    assert series.values.tolist() == [3.0, 4.0, 5.0]
    # Out-of-order checks hold whichever way the series is found.
    assert store.append([Sample(labels, 96_500, 9.0)]).rejected == 1


def test_the_label_sets_remembered_by_identity_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tsdb, "_IDENTITY_SLACK", 5)
    store = TSDB()
    for round_ in range(10):
        # New label set objects every round, for the same 4 series.
        store.append(
            [Sample(from_mapping({"__name__": "x", "i": str(i)}), 1000 + round_, 1.0) for i in range(4)]
        )
    assert store.series_count == 4
    assert len(store._by_identity) <= 2 * 4 + 5 + 4


@settings(max_examples=300)
@given(
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=2 * CHUNK_SIZE + 10),
    st.integers(min_value=0, max_value=8000),
    st.integers(min_value=0, max_value=8000),
    st.integers(min_value=0, max_value=60),
    st.one_of(st.none(), st.integers(min_value=0, max_value=8000)),
)
def test_the_last_sample_in_a_window_is_the_last_there_whatever_the_window(
    steps: list[int], mint: int, width: int, before_newest: int, cutoff: int | None
) -> None:
    """Wherever the window ends: after the newest sample, just before it (the sample before it,
    read without the arrays), further back (sealed chunks), with or without retention's cut."""
    store = TSDB(retention_ms=0)
    labels = from_mapping({"__name__": "x"})
    times = list(itertools.accumulate(steps))
    store.append([Sample(labels, t, float(t) / 2) for t in times])
    kept = times
    if cutoff is not None:
        store.enforce_retention(cutoff, None)
        kept = [t for t in times if t >= cutoff]
    maxt = times[-1] - before_newest if before_newest else mint + width
    (series,) = store._series.values() if store.series_count else (None,)
    if series is None:
        assert not kept
        return
    inside = [t for t in kept if mint <= t <= maxt]
    expected = (inside[-1], inside[-1] / 2) if inside else None
    assert series.last_in(mint, maxt) == expected


def test_a_sample_dropped_by_retention_is_not_read_as_the_one_before_the_newest() -> None:
    store = TSDB(retention_ms=0)
    labels = from_mapping({"__name__": "x"})
    store.append([Sample(labels, 1000, 1.0), Sample(labels, 2000, 2.0), Sample(labels, 3000, 3.0)])
    (series,) = store._series.values()
    assert series.last_in(0, 2500) == (2000, 2.0)
    store.enforce_retention(2500, None)
    assert series.last_in(0, 2500) is None
    assert series.last_in(0, 3000) == (3000, 3.0)


# A write: samples of two series (by index), each a timestamp and a value; a flag per sample says
# whether it carries a label set object of its own (equal to the series' shared one) or the shared one.
WRITES = st.lists(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 6), st.sampled_from([0.0, 1.0, math.nan]), st.booleans()),
        max_size=8,
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300)
@given(WRITES, st.booleans())
def test_appends_keep_what_a_sample_by_sample_model_keeps(
    writes: list[list[tuple[int, int, float, bool]]], all_or_nothing: bool
) -> None:
    """However a write's samples share label set objects (a series' samples one after another, apart,
    equal label sets as separate objects), each sample is stored, skipped as a repeat of its series'
    last, or refused, as taking the samples one at a time says; with all_or_nothing a refusal keeps
    the whole write out."""
    shared = [from_mapping({"__name__": "x", "n": str(n)}) for n in range(2)]
    store = TSDB()
    kept: dict[int, list[tuple[int, float]]] = {0: [], 1: []}
    for write in writes:
        batch = [Sample(from_mapping(dict(shared[n])) if own else shared[n], t, v) for n, t, v, own in write]
        model = {n: list(samples) for n, samples in kept.items()}
        refused = []
        for index, (n, t, v, _) in enumerate(write):
            last = model[n][-1] if model[n] else None
            if last is None or t > last[0]:
                model[n].append((t, v))
            elif t < last[0] or not (v == last[1] or (math.isnan(v) and math.isnan(last[1]))):
                refused.append(index)
        result = store.append(batch, all_or_nothing=all_or_nothing)
        assert [i for i, _ in result.errors] == refused
        if not (all_or_nothing and refused):
            kept = model
            assert (result.accepted, result.rejected) == (len(write) - len(refused), len(refused))
        for n in range(2):
            found = store.select([m(MatchType.EQUAL, "n", str(n))], 0, 10**12)
            stored = [(int(t), float(v)) for s in found for t, v in zip(s.timestamps, s.values, strict=True)]
            assert repr(stored) == repr(kept[n])
