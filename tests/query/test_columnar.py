"""The vectorised paths against the plain per-series definitions they replace."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alerting_server.query.grouping import count_per_group, group_rows, kahan_sum
from alerting_server.query.labels import Matcher, MatchType
from alerting_server.query.mathx import kahan_inc
from alerting_server.query.storage import STALE_NAN
from alerting_server.query.tsdb import CHUNK_SIZE, TSDB, Sample


def _reference_sum(values: list[float]) -> tuple[float, float]:
    total, c = values[0], 0.0
    for v in values[1:]:
        total, c = kahan_inc(v, total, c)
    return total, c


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


def test_kahan_sum_matches_the_member_by_member_loop_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    rows = 300
    values = rng.normal(size=(rows, 3)) * 10.0 ** rng.integers(-8, 300, size=(rows, 3))
    values[5, 0] = math.inf
    values[9, 1] = -math.inf
    values[17, 2] = math.nan
    values[20:40, 2] = -0.0
    present = rng.random((rows, 3)) < 0.7
    labels = [(("job", f"j{i % 7 if i < 250 else 99}"),) for i in range(rows)]
    groups = group_rows(labels, ["job"], False)
    total, comp = kahan_sum(groups, values, present)
    for g in range(groups.count):
        for step in range(3):
            members = [values[i, step] for i in range(rows) if groups.ids[i] == g and present[i, step]]
            if not members:
                continue
            want_total, want_comp = _reference_sum(members)
            assert _same(total[g, step], want_total)
            assert _same(comp[g, step], want_comp) or math.isnan(want_total)


def test_select_flat_holds_what_select_does_across_chunks_and_staleness() -> None:
    db = TSDB(retention_ms=10**12)
    for t in range(CHUNK_SIZE * 2 + 7):
        batch = [
            Sample((("__name__", "m"), ("i", str(i))), t * 1000, float(t * i))
            for i in range(4)
            if t % (i + 1) == 0
        ]
        batch.append(Sample((("__name__", "m"), ("i", "stale")), t * 1000, STALE_NAN if t % 5 == 0 else 1.0))
        db.append(batch)
    db.enforce_retention(10**12 + 30_000)
    matchers = [Matcher.of(MatchType.EQUAL, "__name__", "m")]
    windows = [
        (0, 10**9),
        (200_500, 300_000),
        (239_000, 240_000),
        (41_500, 42_500),
        (10**9, 2 * 10**9),
        (-5, 0),
    ]
    for mint, maxt in windows:
        want = db.select(matchers, mint, maxt)
        flat = db.select_flat(matchers, mint, maxt)
        assert flat.labels == [s.labels for s in want]
        for i, s in enumerate(want):
            a, b = int(flat.offsets[i]), int(flat.offsets[i + 1])
            assert flat.timestamps[a:b].tolist() == s.timestamps.tolist()
            assert flat.values[a:b].tobytes() == s.values.tobytes()
        assert int(flat.offsets[-1]) == len(flat.timestamps)
        # With `last`, each series' last sample of the window, and only the series that have one.
        latest = db.select_flat(matchers, mint, maxt, last=True)
        assert latest.labels == [s.labels for s in want]
        assert latest.offsets.tolist() == list(range(len(want) + 1))
        assert latest.timestamps.tolist() == [int(s.timestamps[-1]) for s in want]
        assert latest.values.tobytes() == np.array([s.values[-1] for s in want]).tobytes()


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(st.integers(1, 60_000), min_size=1, max_size=3 * CHUNK_SIZE + 10),
    window=st.tuples(st.floats(-0.1, 1.1), st.integers(0, 4_000_000)),
)
def test_a_window_of_an_unsteady_series_holds_the_samples_in_it(
    gaps: list[int], window: tuple[float, int]
) -> None:
    """A window is read from the head alone when it holds it, its first sample there guessed from the
    series' average interval (a wrong guess, from uneven intervals, must be caught), else from the
    newest chunks back: both must give exactly the samples in the window."""
    db = TSDB(retention_ms=1 << 62)
    labels = (("__name__", "m"),)
    times = []
    t = 0
    for gap in gaps:
        t += gap
        times.append(t)
        db.append([Sample(labels, t, float(t))])
    mint = int(window[0] * t)
    maxt = mint + window[1]
    want = [x for x in times if mint <= x <= maxt]
    matchers = [Matcher.of(MatchType.EQUAL, "__name__", "m")]
    flat = db.select_flat(matchers, mint, maxt)
    assert flat.timestamps.tolist() == want
    assert flat.values.tolist() == [float(x) for x in want]
    assert flat.offsets.tolist() == ([0, len(want)] if want else [0])
    assert [x for s in db.select(matchers, mint, maxt) for x in s.timestamps.tolist()] == want
    latest = db.select_flat(matchers, mint, maxt, last=True)
    assert latest.timestamps.tolist() == want[-1:]


def test_groups_found_again_for_the_same_rows_are_the_same_and_cannot_be_changed_through_a_result() -> None:
    rows = [(("host", f"h{i % 3}"), ("i", str(i))) for i in range(10)]
    first = group_rows(rows, ["host"], False)
    first.labels.append((("host", "changed by a reader"),))
    again = group_rows(list(rows), ["host"], False)
    assert again.labels == [(("host", "h0"),), (("host", "h1"),), (("host", "h2"),)]
    assert again.ids.tolist() == [0, 1, 2] * 3 + [0]
    assert not again.ids.flags.writeable
    assert group_rows(rows, ["i"], True).labels == again.labels
    assert group_rows(rows, ["host"], True).count == 10


def test_rows_that_begin_and_end_with_the_same_label_sets_are_still_grouped_by_all_they_hold() -> None:
    """Groupings are found again first by the rows' first and last label set objects and their
    number; rows alike in those but not in between get their own."""
    first, last = (("host", "a"), ("i", "0")), (("host", "a"), ("i", "9"))
    one = [first, (("host", "b"), ("i", "5")), last]
    other = [first, (("host", "a"), ("i", "5")), last]
    assert group_rows(one, ["host"], False).ids.tolist() == [0, 1, 0]
    assert group_rows(other, ["host"], False).ids.tolist() == [0, 0, 0]
    assert group_rows(one, ["host"], False).labels == [(("host", "a"),), (("host", "b"),)]


def test_counts_per_group_are_the_rows_present_in_each() -> None:
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 5, size=40)
    labels = [(("g", str(g)),) for g in ids]
    groups = group_rows(labels, ["g"], False)
    mask = rng.random((40, 4)) < 0.5
    counts = count_per_group(groups, mask)
    for g, key in enumerate(groups.labels):
        members = [i for i in range(40) if labels[i] == key]
        assert counts[g].tolist() == [int(mask[members, s].sum()) for s in range(4)]
    assert count_per_group(groups, mask[:, 0]).tolist() == counts[:, 0].tolist()
