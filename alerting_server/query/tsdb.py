"""The embedded time-series store: series keyed by label set, samples in numpy chunks.

Each series keeps sealed chunks (two parallel arrays: int64 ms timestamps, float64 values)
and one head chunk that appends go into; the head starts small and doubles up to CHUNK_SIZE,
so that a series costs memory in proportion to its samples. An inverted index maps
`(label, value)` to series ids so that selection touches only the candidate series.

Samples once stored are never rewritten in place (a head grows by copying, retention trims by
copying), so a view of a head's filled part stays valid while appends go on: what `cut()` relies on.

Native-histogram samples take their place in the chunks like floats (a NaN placeholder value, so
that ordering and retention treat both alike) and are kept in a map from timestamp to histogram that
only series holding some have: a float-only series pays nothing for them. As in Prometheus, a float
and a histogram at one timestamp of a series are a duplicate sample, refused, and a histogram's
counter-reset hint reads back as Prometheus' chunks give it (see `_as_stored`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from alerting_server import native
from alerting_server.errors import ResourceExhausted
from alerting_server.query.histogram import CounterResetHint, FloatHistogram
from alerting_server.query.labels import Labels, Matcher, MatchType
from alerting_server.query.storage import FlatSeries, SeriesData, Timestamps, Values

DEFAULT_RETENTION_MS = 6 * 3600 * 1000
DEFAULT_MAX_SERIES = 1_000_000
CHUNK_SIZE = 240
# The head capacity of a new series: most series of a busy store hold few samples.
_FIRST_HEAD = 2
_NONE: frozenset[int] = frozenset()
# Label sets remembered by identity beyond twice the series held, before the memory starts over.
_IDENTITY_SLACK = 10_000


@dataclass(slots=True)
class Sample:
    """One sample to write. Not changed once made, but not frozen: a frozen dataclass takes a
    microsecond more to make (object.__setattr__ per field), paid by every sample of every write."""

    labels: Labels
    t_ms: int
    value: float
    # The sample's start time (ms), 0 when unknown; kept in memory only (not written to the WAL).
    st_ms: int = field(default=0, kw_only=True)


@dataclass(slots=True)
class HistogramSample(Sample):
    """A native-histogram sample; `value` is the NaN placeholder the chunks hold for it."""

    histogram: FloatHistogram


def histogram_sample(labels: Labels, t_ms: int, histogram: FloatHistogram) -> HistogramSample:
    return HistogramSample(labels, t_ms, math.nan, histogram)


@dataclass(frozen=True, slots=True)
class SampleColumns:
    """Samples to write as parallel lists: sample i is of the series `labels[i]`, at `ts[i]`, of value
    `vs[i]`; a native histogram's value is the NaN placeholder and its histogram is under its
    position in `histograms`, and a start time (ms, kept in memory only) under its position in
    `starts`. What a writer of many samples hands over without making an object per sample; a
    series' samples mostly share one label set object."""

    labels: list[Labels]
    ts: list[int]
    vs: list[float]
    histograms: dict[int, FloatHistogram] = field(default_factory=dict)
    starts: dict[int, int] = field(default_factory=dict)

    @staticmethod
    def of(batch: Sequence[Sample]) -> SampleColumns:
        return SampleColumns(
            [s.labels for s in batch],
            [s.t_ms for s in batch],
            [s.value for s in batch],
            {pos: s.histogram for pos, s in enumerate(batch) if type(s) is HistogramSample},
            {pos: s.st_ms for pos, s in enumerate(batch) if s.st_ms},
        )

    def taken(self, positions: list[int]) -> SampleColumns:
        """The samples at these positions (ascending), in their order."""
        labels, ts, vs = self.labels, self.ts, self.vs
        renumbered = {old: new for new, old in enumerate(positions)}
        return SampleColumns(
            [labels[i] for i in positions],
            [ts[i] for i in positions],
            [vs[i] for i in positions],
            {renumbered[i]: h for i, h in self.histograms.items() if i in renumbered},
            {renumbered[i]: st for i, st in self.starts.items() if i in renumbered},
        )

    def joined(self, other: SampleColumns) -> SampleColumns:
        """These samples, then the other's."""
        base = len(self.labels)
        return SampleColumns(
            self.labels + other.labels,
            self.ts + other.ts,
            self.vs + other.vs,
            {**self.histograms, **{base + i: h for i, h in other.histograms.items()}},
            {**self.starts, **{base + i: st for i, st in other.starts.items()}},
        )


@dataclass(frozen=True)
class WriteResult:
    accepted: int
    rejected: int
    errors: tuple[tuple[int, str], ...] = field(default=())


class _Series:
    __slots__ = (
        "chunks",
        "first_t",
        "head_n",
        "head_ref",
        "head_t",
        "head_v",
        "hists",
        "labels",
        "last_t",
        "last_v",
        "prev_t",
        "prev_v",
        "starts",
    )

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self.chunks: list[tuple[Timestamps, Values]] = []
        self.head_t: Timestamps = np.empty(_FIRST_HEAD, dtype=np.int64)
        self.head_v: Values = np.empty(_FIRST_HEAD, dtype=np.float64)
        self.head_n = 0
        # The head chunk's first timestamp, kept as a Python int for cheap window checks.
        self.first_t = 0
        self.last_t: int | None = None
        self.last_v = 0.0
        # The sample before the newest, None when there is none (or retention dropped it): what an
        # evaluation at a time just before the newest sample reads (a loaded engine evaluating at
        # its slots' times while later samples come in), without looking into the arrays.
        self.prev_t: int | None = None
        self.prev_v = 0.0
        # The histogram samples by timestamp, None while the series has none. Replaced, never
        # shrunk in place, by retention: a cut may still read the old map.
        self.hists: dict[int, FloatHistogram] | None = None
        # Start times of the samples that have one, by sample time; None until one has.
        self.starts: dict[int, int] | None = None
        # The head arrays' addresses for the compiled window read (TSDB._gather_heads), with the
        # timestamps array they are of (checked by identity: the arrays are replaced, never moved);
        # None until read.
        self.head_ref: tuple[Timestamps, int, int] | None = None

    def head_holds(self, mint: int) -> bool:
        """Whether the head alone holds the series' samples from `mint` on (none are sealed there)."""
        return bool(self.head_n) and not (self.chunks and self.first_t > mint)

    def append(self, t: int, v: float, st: int = 0) -> None:
        if st:
            if self.starts is None:
                self.starts = {}
            self.starts[t] = st
        n = self.head_n
        if n == len(self.head_t):
            n = self._make_room()
        if not n:
            self.first_t = t
        self.head_t[n] = t
        self.head_v[n] = v
        self.head_n = n + 1
        self.prev_t = self.last_t
        self.prev_v = self.last_v
        self.last_t = t
        self.last_v = v

    def _make_room(self) -> int:
        """Room in a full head for one more sample: a full chunk is sealed and a new head begun, a
        smaller head grows. The head's count of samples after."""
        n = self.head_n
        if n == CHUNK_SIZE:
            self.chunks.append((self.head_t, self.head_v))
            self.head_t = np.empty(_FIRST_HEAD, dtype=np.int64)
            self.head_v = np.empty(_FIRST_HEAD, dtype=np.float64)
            self.head_n = 0
            return 0
        self._grow(min(max(2 * n, _FIRST_HEAD), CHUNK_SIZE))
        return n

    def add_histogram(self, t: int, h: FloatHistogram) -> None:
        """Records the histogram of the sample just appended at t."""
        if self.hists is None:
            self.hists = {}
        self.hists[t] = h

    def last_histogram(self) -> FloatHistogram | None:
        if self.hists is None or self.last_t is None:
            return None
        return self.hists.get(self.last_t)

    def histograms_of(self, ts: Timestamps) -> tuple[FloatHistogram | None, ...] | None:
        """The histogram of each of these timestamps (None for a float), or None for a float-only series."""
        hists = self.hists
        if hists is None:
            return None
        return tuple(hists.get(t) for t in ts.tolist())

    def _grow(self, capacity: int) -> None:
        n = self.head_n
        head_t = np.empty(capacity, dtype=np.int64)
        head_v = np.empty(capacity, dtype=np.float64)
        head_t[:n] = self.head_t[:n]
        head_v[:n] = self.head_v[:n]
        self.head_t, self.head_v = head_t, head_v

    def window(self, mint: int, maxt: int) -> tuple[Timestamps, Values]:
        # Newest first, back to the first chunk that ends before the window: a window is mostly
        # recent, and a series holds many chunks.
        parts_t: list[Timestamps] = []
        parts_v: list[Values] = []
        if self.head_n and self.last_t is not None and self.last_t >= mint and self.first_t <= maxt:
            parts_t.append(self.head_t[: self.head_n])
            parts_v.append(self.head_v[: self.head_n])
        for ts, vs in reversed(self.chunks):
            if ts[-1] < mint:
                break
            if ts[0] <= maxt:
                parts_t.append(ts)
                parts_v.append(vs)
        parts_t.reverse()
        parts_v.reverse()
        if not parts_t:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        # Only the oldest part can start before the window and only the newest end after it: cut
        # those, then join (the parts between lie wholly inside).
        first, newest = parts_t[0], parts_t[-1]
        lo = int(first.searchsorted(mint, "left"))
        hi = int(newest.searchsorted(maxt, "right"))
        if len(parts_t) == 1:
            return first[lo:hi].copy(), parts_v[0][lo:hi].copy()
        parts_t[0], parts_v[0] = first[lo:], parts_v[0][lo:]
        parts_t[-1], parts_v[-1] = newest[:hi], parts_v[-1][:hi]
        return np.concatenate(parts_t), np.concatenate(parts_v)

    def last_in(self, mint: int, maxt: int) -> tuple[int, float] | None:
        """The last sample in [mint, maxt] (time, value), or None."""
        last_t = self.last_t
        if last_t is None or last_t < mint:
            return None
        if last_t <= maxt:
            # The common read, at or after the newest sample: no array to look into.
            return last_t, self.last_v
        prev_t = self.prev_t
        if prev_t is not None and prev_t <= maxt:
            # Just before the newest sample: the one before it.
            return (prev_t, self.prev_v) if prev_t >= mint else None
        n = self.head_n
        if n and self.first_t <= maxt:
            # The newest sample, head_t[n - 1], is after maxt (above); the first is not.
            i = _last_at(self.head_t, n - 1, maxt)
            t, v = int(self.head_t[i]), float(self.head_v[i])
            return (t, v) if t >= mint else None
        for ts, vs in reversed(self.chunks):
            if ts[0] <= maxt:
                i = _last_at(ts, len(ts), maxt)
                t, v = int(ts[i]), float(vs[i])
                return (t, v) if t >= mint else None
        return None

    def start_times(self, ts: Timestamps) -> Timestamps | None:
        """The start time of each sample at these times (0 where it has none), None if no sample has."""
        starts = self.starts
        if starts is None:
            return None
        return np.array([starts.get(t, 0) for t in ts.tolist()], dtype=np.int64)

    def drop_before(self, t: int) -> None:
        if self.prev_t is not None and self.prev_t < t:
            self.prev_t = None
        if self.starts is not None:
            self.starts = {at: st for at, st in self.starts.items() if at >= t} or None
        self.chunks = [(ts, vs) for ts, vs in self.chunks if ts[-1] >= t]
        if self.chunks and self.chunks[0][0][0] < t:
            ts, vs = self.chunks[0]
            lo = int(np.searchsorted(ts, t, "left"))
            self.chunks[0] = (ts[lo:].copy(), vs[lo:].copy())
        if not self.chunks and self.head_n and self.first_t < t:
            n = self.head_n
            lo = int(np.searchsorted(self.head_t[:n], t, "left"))
            # Copies, not a shift in place: a snapshot in progress may hold a view of the old head.
            self.head_t = self.head_t[lo:n].copy()
            self.head_v = self.head_v[lo:n].copy()
            self.head_n = n - lo
            if self.head_n:
                self.first_t = int(self.head_t[0])
        if self.hists is not None:
            kept = {ht: h for ht, h in self.hists.items() if ht >= t}
            self.hists = kept or None

    def oldest(self) -> int | None:
        if self.chunks:
            return int(self.chunks[0][0][0])
        return self.first_t if self.head_n else None

    def empty(self) -> bool:
        return not self.chunks and self.head_n == 0

    def overlaps(self, mint: int, maxt: int) -> bool:
        """Whether the series' samples span reaches into [mint, maxt] (as Prometheus decides it for
        listings: by the span, not sample by sample)."""
        first = int(self.chunks[0][0][0]) if self.chunks else self.first_t
        return self.last_t is not None and first <= maxt and self.last_t >= mint


def _objects(items: list[FloatHistogram | None]) -> npt.NDArray[np.object_]:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _last_at(ts: Timestamps, n: int, maxt: int) -> int:
    """The index of the last of ts[:n] at or before maxt, where ts[0] is."""
    # A store is mostly read at or just after its newest samples: a few steps back, else a search.
    i = n - 1
    for _ in range(4):
        if ts[i] <= maxt:
            return i
        i -= 1
    return int(ts[: i + 1].searchsorted(maxt, "right")) - 1


@dataclass(frozen=True)
class Cut:
    """Every series at one moment, in parallel lists (no object per series: taking a cut of a
    large store under its lock stays quick). A series' sealed chunks are the first
    `chunk_counts[i]` of its chunk list, which appends only extend and retention replaces, and the
    first `head_counts[i]` of its head arrays, which appends never overwrite."""

    labels: list[Labels]
    chunks: list[list[tuple[Timestamps, Values]]]
    chunk_counts: list[int]
    heads_t: list[Timestamps]
    heads_v: list[Values]
    head_counts: list[int]
    # Each series' histogram map (None: float-only); appends only add later timestamps to it.
    hists: list[dict[int, FloatHistogram] | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def samples(self, i: int) -> tuple[Timestamps, Values]:
        sealed = self.chunks[i][: self.chunk_counts[i]]
        n = self.head_counts[i]
        parts_t = [ts for ts, _ in sealed]
        parts_v = [vs for _, vs in sealed]
        parts_t.append(self.heads_t[i][:n])
        parts_v.append(self.heads_v[i][:n])
        return np.concatenate(parts_t), np.concatenate(parts_v)

    def histograms(self, i: int, ts: Timestamps) -> dict[int, FloatHistogram]:
        """The histogram samples of series i among its samples at `ts` (what samples(i) gave)."""
        hists = self.hists[i] if self.hists else None
        if hists is None:
            return {}
        found = {}
        for pos, t in enumerate(ts.tolist()):
            h = hists.get(t)
            if h is not None:
                found[pos] = h
        return found


def _refusal(t_ms: int, head_ms: int) -> str:
    if t_ms == head_ms:
        return f"duplicate sample for timestamp {t_ms}"
    return f"out of order sample: timestamp {t_ms} is older than the series head {head_ms}"


def _same_value(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _as_stored(h: FloatHistogram, previous: FloatHistogram | None) -> FloatHistogram:
    """The histogram with the counter-reset hint Prometheus' TSDB gives it back with: a gauge
    histogram or one said to follow a reset keeps its hint; a counter histogram that follows another
    without a reset reads as not a reset; the first of a chunk (first of the series, after a float,
    a gauge or a reset, which starts a new chunk) as unknown."""
    hint = h.counter_reset_hint
    if hint in (CounterResetHint.GAUGE, CounterResetHint.COUNTER_RESET):
        return h
    wanted = CounterResetHint.UNKNOWN
    if previous is not None and previous.counter_reset_hint != CounterResetHint.GAUGE:
        probe = h.copy() if hint != CounterResetHint.UNKNOWN else h
        probe.counter_reset_hint = CounterResetHint.UNKNOWN
        if not probe.detect_reset(previous):
            wanted = CounterResetHint.NOT_COUNTER_RESET
    if wanted == hint:
        return h
    stored = h.copy()
    stored.counter_reset_hint = wanted
    return stored


def _repeats(
    histogram: FloatHistogram | None, value: float, head_histogram: FloatHistogram | None, head_value: float
) -> bool:
    """Whether a sample (a histogram, or else a float of `value`) repeats a head of that value or
    histogram: a float and a histogram never do."""
    if histogram is not None:
        return head_histogram is not None and histogram.equals(head_histogram)
    return head_histogram is None and _same_value(value, head_value)


class TSDB:
    """In-memory store with a retention window and a series limit."""

    def __init__(
        self, *, retention_ms: int = DEFAULT_RETENTION_MS, max_series: int = DEFAULT_MAX_SERIES
    ) -> None:
        self.retention_ms = retention_ms
        self.max_series = max_series
        self._series: dict[int, _Series] = {}
        self._ids: dict[Labels, int] = {}
        # The series of label sets written lately, by the label set's identity (writers hand over
        # the same label set object for a series at every write, and hashing a label set is most of
        # finding it by value): the label set, held so that its id is not reused, its id and series.
        # An entry of a series since removed is found out by its series no longer being the one
        # under its id (ids are never reused).
        self._by_identity: dict[int, tuple[Labels, int, _Series]] = {}
        self._postings: dict[tuple[str, str], set[int]] = {}
        self._names: dict[str, set[int]] = {}
        self._next_id = 0
        self._generation = 0

    @property
    def series_count(self) -> int:
        return len(self._series)

    def generation(self) -> int:
        """Changes whenever a series is created or removed: what select_ids gives for some matchers
        stays the same while it does not."""
        return self._generation

    def append(
        self,
        batch: Sequence[Sample] | SampleColumns,
        *,
        all_or_nothing: bool = False,
        log: Callable[[SampleColumns], None] | None = None,
    ) -> WriteResult:
        """Append a batch; out-of-order samples are rejected one by one, the rest accepted, or with
        `all_or_nothing` any such sample rejects the whole batch and nothing is written.

        `log` is given the samples to be stored before any of them is visible; when it raises,
        nothing is stored. Raises ResourceExhausted, without writing anything, when the batch would
        create more series than the limit allows.
        """
        columns = batch if isinstance(batch, SampleColumns) else SampleColumns.of(batch)
        keep, targets, new, refused = self._plan(columns)
        if len(self._series) + len(new) > self.max_series:
            raise ResourceExhausted(
                f"series limit of {self.max_series} reached: the write would create {len(new)} new series "
                f"on top of {len(self._series)}"
            )
        total = len(columns.labels)
        if all_or_nothing and refused:
            return WriteResult(0, total, tuple(refused))
        if log is not None and keep:
            log(columns if len(keep) == total else columns.taken(keep))
        labels, ts, vs = columns.labels, columns.ts, columns.vs
        histograms, starts = columns.histograms, columns.starts
        if not histograms and not starts:
            # Floats without start times, as most writes are: the loop that costs least.
            get_or_create = self._get_or_create
            for pos, series in zip(keep, targets, strict=True):
                (series or get_or_create(labels[pos])).append(ts[pos], vs[pos])
            return WriteResult(total - len(refused), len(refused), tuple(refused))
        for pos, series in zip(keep, targets, strict=True):
            target = series or self._get_or_create(labels[pos])
            h = histograms.get(pos) if histograms else None
            if h is not None:
                stored = _as_stored(h, target.last_histogram())
                target.append(ts[pos], vs[pos], starts.get(pos, 0))
                target.add_histogram(ts[pos], stored)
            else:
                target.append(ts[pos], vs[pos], starts.get(pos, 0))
        return WriteResult(total - len(refused), len(refused), tuple(refused))

    def _plan(
        self, columns: SampleColumns
    ) -> tuple[list[int], list[_Series | None], set[Labels], list[tuple[int, str]]]:
        """What append would do, found without writing anything: the positions of the samples to
        store and their series (None: not created yet), the label sets of the series to create and
        the refusals. A sample repeating its series' head (same timestamp, same value) is neither
        stored nor refused."""
        ids, all_series = self._ids, self._series
        by_identity = self._by_identity
        if len(by_identity) > 2 * len(all_series) + _IDENTITY_SLACK:
            by_identity.clear()
        ts, vs, histograms = columns.ts, columns.vs, columns.histograms
        # The position of the batch's last stored sample of each series, keyed by series id, or by
        # labels for a series the batch creates: ids hash faster than labels.
        heads: dict[int | Labels, int] = {}
        keep: list[int] = []
        targets: list[_Series | None] = []
        new: set[Labels] = set()
        refused: list[tuple[int, str]] = []
        # A series' samples mostly come one after another under one label set object: it is looked
        # up once for them.
        previous: Labels | None = None
        key: int | Labels = 0
        series: _Series | None = None
        for pos, labels in enumerate(columns.labels):
            if labels is not previous:
                previous = labels
                known = by_identity.get(id(labels))
                if known is not None and known[0] is labels and all_series.get(known[1]) is known[2]:
                    key = known[1]
                    series = known[2]
                else:
                    sid = ids.get(labels)
                    if sid is None:
                        key = labels
                        series = None
                        new.add(labels)
                    else:
                        key = sid
                        series = all_series[sid]
                        by_identity[id(labels)] = (labels, sid, series)
            t = ts[pos]
            head = heads.get(key)
            if head is not None:
                head_t = ts[head]
                if t <= head_t:
                    if t != head_t or not _repeats(
                        histograms.get(pos) if histograms else None,
                        vs[pos],
                        histograms.get(head) if histograms else None,
                        vs[head],
                    ):
                        refused.append((pos, _refusal(t, head_t)))
                    continue
            elif series is not None and series.last_t is not None and t <= series.last_t:
                last_t = series.last_t
                if t != last_t or not _repeats(
                    histograms.get(pos) if histograms else None,
                    vs[pos],
                    series.last_histogram(),
                    series.last_v,
                ):
                    refused.append((pos, _refusal(t, last_t)))
                continue
            heads[key] = pos
            keep.append(pos)
            targets.append(series)
        return keep, targets, new, refused

    def _get_or_create(self, labels: Labels) -> _Series:
        sid = self._ids.get(labels)
        if sid is not None:
            return self._series[sid]
        sid = self._next_id
        self._next_id += 1
        self._generation += 1
        series = _Series(labels)
        self._series[sid] = series
        self._ids[labels] = sid
        for pair in labels:
            self._postings.setdefault(pair, set()).add(sid)
            self._names.setdefault(pair[0], set()).add(sid)
        return series

    def _remove(self, sid: int) -> None:
        self._generation += 1
        series = self._series.pop(sid)
        del self._ids[series.labels]
        for pair in series.labels:
            self._postings[pair].discard(sid)
            if not self._postings[pair]:
                del self._postings[pair]
            self._names[pair[0]].discard(sid)
            if not self._names[pair[0]]:
                del self._names[pair[0]]

    def series_ids(self) -> list[int]:
        return list(self._series)

    def enforce_retention(self, now_ms: int, ids: Iterable[int] | None = None) -> None:
        """Drop samples older than the retention window, and series left without samples; of the
        series with these ids (those that still exist) or of every series."""
        cutoff = now_ms - self.retention_ms
        all_series = self._series
        for sid in list(all_series) if ids is None else ids:
            series = all_series.get(sid)
            if series is None:
                continue
            oldest = series.oldest()
            if oldest is not None and oldest >= cutoff:
                continue
            series.drop_before(cutoff)
            if series.empty():
                self._remove(sid)

    def cut(self) -> Cut:
        """Every series as it is now, in a form that later appends and retention do not change."""
        series = list(self._series.values())
        return Cut(
            [s.labels for s in series],
            [s.chunks for s in series],
            [len(s.chunks) for s in series],
            [s.head_t for s in series],
            [s.head_v for s in series],
            [s.head_n for s in series],
            [s.hists for s in series],
        )

    def _candidates(self, matcher: Matcher) -> AbstractSet[int] | None:
        """Series ids the matcher selects; None means "every series" (nothing to narrow)."""
        if matcher.matches(""):
            # Series without the label match too, so exclude only those whose value fails.
            having = self._names.get(matcher.name, set())
            failing = {
                sid
                for (name, value), ids in self._postings.items()
                if name == matcher.name and not matcher.matches(value)
                for sid in ids
            }
            if not failing:
                return None
            return set(self._series) - failing if having else None
        if matcher.type is MatchType.EQUAL:
            # The postings themselves: select_ids only intersects them, it never changes them.
            return self._postings.get((matcher.name, matcher.value), _NONE)
        return {
            sid
            for (name, value), ids in self._postings.items()
            if name == matcher.name and matcher.matches(value)
            for sid in ids
        }

    def select_ids(self, matchers: Iterable[Matcher]) -> list[int]:
        """Ids of the series matching every matcher, sorted by their labels."""
        sets: list[AbstractSet[int]] = []
        for matcher in matchers:
            cands = self._candidates(matcher)
            if cands is None:
                continue
            if not cands:
                return []
            sets.append(cands)
        if not sets:
            ids = list(self._series)
        else:
            # Smallest first: intersecting walks the smaller set, so one narrow matcher makes it cheap.
            sets.sort(key=len)
            found = set(sets[0]).intersection(*sets[1:]) if len(sets) > 1 else sets[0]
            ids = list(found)
        if len(ids) > 1:
            series = self._series
            ids.sort(key=lambda sid: series[sid].labels)
        return ids

    def series_labels(self, ids: Iterable[int]) -> list[Labels]:
        """The labels of the series with these ids that still exist."""
        series = self._series
        return [series[sid].labels for sid in ids if sid in series]

    def select(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> list[SeriesData]:
        out = []
        for sid in self.select_ids(matchers):
            series = self._series[sid]
            ts, vs = series.window(mint_ms, maxt_ms)
            if len(ts):
                out.append(
                    SeriesData(
                        series.labels,
                        ts,
                        vs,
                        histograms=series.histograms_of(ts),
                        start_timestamps=series.start_times(ts),
                    )
                )
        return out

    def select_flat(
        self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int, *, last: bool = False
    ) -> FlatSeries:
        """select() without the per-series objects: what the evaluator reads."""
        return self.select_flat_ids(self.select_ids(matchers), mint_ms, maxt_ms, last=last)

    def select_flat_ids(
        self, ids: Iterable[int], mint_ms: int, maxt_ms: int, *, last: bool = False
    ) -> FlatSeries:
        """The samples in [mint_ms, maxt_ms] of the series with these ids (in this order, the ones that
        still exist and have samples there), as one FlatSeries; with `last`, only the last of each."""
        if last:
            return self._select_last_ids(ids, mint_ms, maxt_ms)
        if native.WINDOW_GATHER:
            ids = ids if isinstance(ids, list) else list(ids)
            found = self._gather_heads(ids, mint_ms, maxt_ms)
            if found is not None:
                return found
        labels: list[Labels] = []
        parts_t: list[Timestamps] = []
        parts_v: list[Values] = []
        # (part index, histogram map) of the series holding histograms.
        with_hists: list[tuple[int, dict[int, FloatHistogram]]] = []
        # Per series in parts_t, the start times of its samples, when some series has any.
        parts_st: list[Timestamps | None] | None = None
        all_series = self._series
        for sid in ids:
            series = all_series.get(sid)
            if series is None:
                continue
            n = series.head_n
            if not series.head_holds(mint_ms):
                ts, vs = series.window(mint_ms, maxt_ms)
                if not len(ts):
                    continue
            else:
                # The head alone holds the window (what a rule's range reads, but just after the
                # head was sealed). Inlined head_window: this loop runs once per selected series.
                last_t = series.last_t
                assert last_t is not None
                if last_t < mint_ms or series.first_t > maxt_ms:
                    continue
                head_t = series.head_t
                first_t = series.first_t
                if first_t >= mint_ms:
                    lo = 0
                else:
                    # Samples mostly come at a steady interval: the first in the window is where that
                    # puts it, when the samples either side of that place say so; else search.
                    lo = n - 1 - (last_t - mint_ms) * (n - 1) // (last_t - first_t)
                    if not (head_t[lo] >= mint_ms and head_t[lo - 1] < mint_ms):
                        lo = int(head_t[:n].searchsorted(mint_ms))
                # A window ending before the newest sample mostly ends a step or two before it: an
                # evaluation at its slot's time while writes of later samples came in.
                hi = n if last_t <= maxt_ms else _last_at(head_t, n - 1, maxt_ms) + 1
                if lo >= hi:
                    continue
                ts, vs = head_t[lo:hi], series.head_v[lo:hi]
            if series.hists is not None:
                with_hists.append((len(parts_t), series.hists))
            if series.starts is not None and parts_st is None:
                parts_st = [None] * len(parts_t)
            if parts_st is not None:
                parts_st.append(series.start_times(ts))
            labels.append(series.labels)
            parts_t.append(ts)
            parts_v.append(vs)
        offsets = np.zeros(len(labels) + 1, dtype=np.intp)
        np.cumsum([len(t) for t in parts_t], out=offsets[1:])
        if not labels:
            return FlatSeries([], np.empty(0, dtype=np.int64), np.empty(0), offsets)
        histograms = None
        if with_hists:
            histograms = np.full(int(offsets[-1]), None, dtype=object)
            for part, hists in with_hists:
                start = int(offsets[part])
                for pos, t in enumerate(parts_t[part].tolist()):
                    histograms[start + pos] = hists.get(t)
        starts = None
        if parts_st is not None:
            starts = np.concatenate(
                [
                    np.zeros(len(t), dtype=np.int64) if st is None else st
                    for t, st in zip(parts_t, parts_st, strict=True)
                ]
            )
        return FlatSeries(
            labels, np.concatenate(parts_t), np.concatenate(parts_v), offsets, histograms, starts
        )

    def _gather_heads(self, ids: list[int], mint_ms: int, maxt_ms: int) -> FlatSeries | None:
        """select_flat_ids when the head alone holds the window of every series and none has
        histograms or start times (a rule's range read), by the compiled gather; else None."""
        labels: list[Labels] = []
        heads_t: list[int] = []
        heads_v: list[int] = []
        ns: list[int] = []
        all_series = self._series
        for sid in ids:
            series = all_series.get(sid)
            if series is None:
                continue
            if not series.head_holds(mint_ms) or series.hists is not None or series.starts is not None:
                return None
            last_t = series.last_t
            if last_t is None or last_t < mint_ms or series.first_t > maxt_ms:
                continue
            ref = series.head_ref
            if ref is None or ref[0] is not series.head_t:
                # Read once for each new head array: an address costs more than the read itself.
                head_t = series.head_t
                ref = series.head_ref = (head_t, head_t.ctypes.data, series.head_v.ctypes.data)
            labels.append(series.labels)
            heads_t.append(ref[1])
            heads_v.append(ref[2])
            ns.append(series.head_n)
        gathered = native.window_gather(heads_t, heads_v, ns, mint_ms, maxt_ms)
        if gathered is None:
            return None
        ts, vs, offsets = gathered
        counts = np.diff(offsets)
        if not counts.all():
            # A series whose head has no sample in the window is left out, as select_flat_ids does.
            kept = np.flatnonzero(counts).tolist()
            labels = [labels[i] for i in kept]
            offsets = np.concatenate(([0], offsets[1:][counts > 0])).astype(np.intp)
        return FlatSeries(labels, ts, vs, offsets)

    def _select_last_ids(self, ids: Iterable[int], mint_ms: int, maxt_ms: int) -> FlatSeries:
        labels: list[Labels] = []
        times: list[int] = []
        values: list[float] = []
        hists: list[FloatHistogram | None] | None = None
        starts: list[int] | None = None
        all_series = self._series
        for sid in ids:
            series = all_series.get(sid)
            found = None if series is None else series.last_in(mint_ms, maxt_ms)
            if series is None or found is None:
                continue
            t, v = found
            if series.hists is not None and hists is None:
                hists = [None] * len(times)
            if hists is not None:
                hists.append(None if series.hists is None else series.hists.get(t))
            if series.starts is not None and starts is None:
                starts = [0] * len(times)
            if starts is not None:
                starts.append(0 if series.starts is None else series.starts.get(t, 0))
            labels.append(series.labels)
            times.append(t)
            values.append(v)
        return FlatSeries(
            labels,
            np.array(times, dtype=np.int64),
            np.array(values, dtype=np.float64),
            np.arange(len(labels) + 1, dtype=np.intp),
            None if hists is None else _objects(hists),
            None if starts is None else np.array(starts, dtype=np.int64),
        )

    def series_matching(
        self, matcher_sets: Sequence[Sequence[Matcher]], mint_ms: int, maxt_ms: int
    ) -> list[Labels]:
        """The label sets, sorted, of the series that match every matcher of any of the sets (of every
        series when there are no sets) and have samples within [mint_ms, maxt_ms]."""
        ids: set[int] = set()
        for matchers in matcher_sets or [()]:
            ids.update(self.select_ids(matchers))
        series = self._series
        return sorted(series[sid].labels for sid in ids if series[sid].overlaps(mint_ms, maxt_ms))
