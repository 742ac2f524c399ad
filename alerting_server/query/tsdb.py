"""The embedded time-series store: series keyed by label set, samples in numpy chunks.

Each series keeps sealed chunks (two parallel arrays: int64 ms timestamps, float64 values)
and one pre-allocated head chunk that appends go into; an inverted index maps
`(label, value)` to series ids so that selection touches only the candidate series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

from alerting_server.errors import ResourceExhausted
from alerting_server.query.labels import Labels, Matcher, MatchType
from alerting_server.query.storage import FlatSeries, SeriesData, Timestamps, Values

DEFAULT_RETENTION_MS = 6 * 3600 * 1000
DEFAULT_MAX_SERIES = 1_000_000
CHUNK_SIZE = 240
_NONE: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Sample:
    labels: Labels
    t_ms: int
    value: float


@dataclass(frozen=True)
class WriteResult:
    accepted: int
    rejected: int
    errors: tuple[tuple[int, str], ...] = field(default=())


class _Series:
    __slots__ = ("chunks", "first_t", "head_n", "head_t", "head_v", "labels", "last_t", "last_v")

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self.chunks: list[tuple[Timestamps, Values]] = []
        self.head_t: Timestamps = np.empty(CHUNK_SIZE, dtype=np.int64)
        self.head_v: Values = np.empty(CHUNK_SIZE, dtype=np.float64)
        self.head_n = 0
        # The head chunk's first timestamp, kept as a Python int for cheap window checks.
        self.first_t = 0
        self.last_t: int | None = None
        self.last_v = 0.0

    def append(self, t: int, v: float) -> None:
        if self.head_n == CHUNK_SIZE:
            self.chunks.append((self.head_t, self.head_v))
            self.head_t = np.empty(CHUNK_SIZE, dtype=np.int64)
            self.head_v = np.empty(CHUNK_SIZE, dtype=np.float64)
            self.head_n = 0
        if self.head_n == 0:
            self.first_t = t
        self.head_t[self.head_n] = t
        self.head_v[self.head_n] = v
        self.head_n += 1
        self.last_t = t
        self.last_v = v

    def window(self, mint: int, maxt: int) -> tuple[Timestamps, Values]:
        parts_t: list[Timestamps] = []
        parts_v: list[Values] = []
        for ts, vs in self.chunks:
            if ts[-1] >= mint and ts[0] <= maxt:
                parts_t.append(ts)
                parts_v.append(vs)
        if self.head_n and self.head_t[self.head_n - 1] >= mint and self.head_t[0] <= maxt:
            parts_t.append(self.head_t[: self.head_n])
            parts_v.append(self.head_v[: self.head_n])
        if not parts_t:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        ts = parts_t[0] if len(parts_t) == 1 else np.concatenate(parts_t)
        vs = parts_v[0] if len(parts_v) == 1 else np.concatenate(parts_v)
        lo = int(np.searchsorted(ts, mint, "left"))
        hi = int(np.searchsorted(ts, maxt, "right"))
        return ts[lo:hi].copy(), vs[lo:hi].copy()

    def drop_before(self, t: int) -> None:
        self.chunks = [(ts, vs) for ts, vs in self.chunks if ts[-1] >= t]
        if self.chunks and self.chunks[0][0][0] < t:
            ts, vs = self.chunks[0]
            lo = int(np.searchsorted(ts, t, "left"))
            self.chunks[0] = (ts[lo:].copy(), vs[lo:].copy())
        if not self.chunks and self.head_n and self.head_t[0] < t:
            lo = int(np.searchsorted(self.head_t[: self.head_n], t, "left"))
            keep = self.head_n - lo
            self.head_t[:keep] = self.head_t[lo : self.head_n]
            self.head_v[:keep] = self.head_v[lo : self.head_n]
            self.head_n = keep
            if keep:
                self.first_t = int(self.head_t[0])

    def empty(self) -> bool:
        return not self.chunks and self.head_n == 0

    def overlaps(self, mint: int, maxt: int) -> bool:
        """Whether the series' samples span reaches into [mint, maxt] (as Prometheus decides it for
        listings: by the span, not sample by sample)."""
        first = int(self.chunks[0][0][0]) if self.chunks else self.first_t
        return self.last_t is not None and first <= maxt and self.last_t >= mint


def _refusal(t_ms: int, head_ms: int) -> str:
    if t_ms == head_ms:
        return f"duplicate sample for timestamp {t_ms}"
    return f"out of order sample: timestamp {t_ms} is older than the series head {head_ms}"


def _same_value(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


class TSDB:
    """In-memory store with a retention window and a series limit."""

    def __init__(
        self, *, retention_ms: int = DEFAULT_RETENTION_MS, max_series: int = DEFAULT_MAX_SERIES
    ) -> None:
        self.retention_ms = retention_ms
        self.max_series = max_series
        self._series: dict[int, _Series] = {}
        self._ids: dict[Labels, int] = {}
        self._postings: dict[tuple[str, str], set[int]] = {}
        self._names: dict[str, set[int]] = {}
        self._next_id = 0

    @property
    def series_count(self) -> int:
        return len(self._series)

    def append(self, batch: Sequence[Sample], *, all_or_nothing: bool = False) -> WriteResult:
        """Append a batch; out-of-order samples are rejected one by one, the rest accepted, or with
        `all_or_nothing` any such sample rejects the whole batch and nothing is written.

        Raises ResourceExhausted, without writing anything, when the batch would create more
        series than the limit allows.
        """
        new = {s.labels for s in batch if s.labels not in self._ids}
        if len(self._series) + len(new) > self.max_series:
            raise ResourceExhausted(
                f"series limit of {self.max_series} reached: the write would create {len(new)} new series "
                f"on top of {len(self._series)}"
            )
        if all_or_nothing:
            refused = self._refusals(batch)
            if refused:
                return WriteResult(0, len(batch), tuple(refused))
        accepted = 0
        errors: list[tuple[int, str]] = []
        for index, sample in enumerate(batch):
            series = self._get_or_create(sample.labels)
            last = series.last_t
            if last is not None and sample.t_ms <= last:
                if sample.t_ms == last and _same_value(sample.value, series.last_v):
                    accepted += 1
                    continue
                errors.append((index, _refusal(sample.t_ms, last)))
                continue
            series.append(sample.t_ms, sample.value)
            accepted += 1
        for labels in new:
            if self._series[self._ids[labels]].empty():
                self._remove(self._ids[labels])
        return WriteResult(accepted, len(errors), tuple(errors))

    def _refusals(self, batch: Sequence[Sample]) -> list[tuple[int, str]]:
        """What append would reject, found without writing: each series' head as the batch moves it."""
        heads: dict[Labels, tuple[int, float]] = {}
        refused: list[tuple[int, str]] = []
        for index, sample in enumerate(batch):
            head = heads.get(sample.labels)
            if head is None:
                sid = self._ids.get(sample.labels)
                series = self._series[sid] if sid is not None else None
                if series is not None and series.last_t is not None:
                    head = (series.last_t, series.last_v)
            if head is not None and sample.t_ms <= head[0]:
                if sample.t_ms != head[0] or not _same_value(sample.value, head[1]):
                    refused.append((index, _refusal(sample.t_ms, head[0])))
                continue
            heads[sample.labels] = (sample.t_ms, sample.value)
        return refused

    def _get_or_create(self, labels: Labels) -> _Series:
        sid = self._ids.get(labels)
        if sid is not None:
            return self._series[sid]
        sid = self._next_id
        self._next_id += 1
        series = _Series(labels)
        self._series[sid] = series
        self._ids[labels] = sid
        for pair in labels:
            self._postings.setdefault(pair, set()).add(sid)
            self._names.setdefault(pair[0], set()).add(sid)
        return series

    def _remove(self, sid: int) -> None:
        series = self._series.pop(sid)
        del self._ids[series.labels]
        for pair in series.labels:
            self._postings[pair].discard(sid)
            if not self._postings[pair]:
                del self._postings[pair]
            self._names[pair[0]].discard(sid)
            if not self._names[pair[0]]:
                del self._names[pair[0]]

    def enforce_retention(self, now_ms: int) -> None:
        """Drop samples older than the retention window, and series left without samples."""
        cutoff = now_ms - self.retention_ms
        for sid in list(self._series):
            series = self._series[sid]
            series.drop_before(cutoff)
            if series.empty():
                self._remove(sid)

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
                out.append(SeriesData(series.labels, ts, vs))
        return out

    def select_flat(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> FlatSeries:
        """select() without the per-series objects: what the evaluator reads."""
        return self.select_flat_ids(self.select_ids(matchers), mint_ms, maxt_ms)

    def select_flat_ids(self, ids: Iterable[int], mint_ms: int, maxt_ms: int) -> FlatSeries:
        """The samples in [mint_ms, maxt_ms] of the series with these ids (in this order, the ones that
        still exist and have samples there), as one FlatSeries."""
        labels: list[Labels] = []
        parts_t: list[Timestamps] = []
        parts_v: list[Values] = []
        all_series = self._series
        for sid in ids:
            series = all_series.get(sid)
            if series is None:
                continue
            n = series.head_n
            if series.chunks or not n:
                ts, vs = series.window(mint_ms, maxt_ms)
                if not len(ts):
                    continue
            else:
                # Inlined head_window: this loop runs once per selected series.
                last = series.last_t
                assert last is not None
                if last < mint_ms or series.first_t > maxt_ms:
                    continue
                head_t = series.head_t
                lo = 0 if series.first_t >= mint_ms else int(head_t[:n].searchsorted(mint_ms))
                hi = n if last <= maxt_ms else int(head_t[:n].searchsorted(maxt_ms, "right"))
                if lo >= hi:
                    continue
                ts, vs = head_t[lo:hi], series.head_v[lo:hi]
            labels.append(series.labels)
            parts_t.append(ts)
            parts_v.append(vs)
        offsets = np.zeros(len(labels) + 1, dtype=np.intp)
        np.cumsum([len(t) for t in parts_t], out=offsets[1:])
        if not labels:
            return FlatSeries([], np.empty(0, dtype=np.int64), np.empty(0), offsets)
        return FlatSeries(labels, np.concatenate(parts_t), np.concatenate(parts_v), offsets)

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
