"""Values during evaluation: every node yields its value at all steps of the query at once.

An instant vector is columnar: one row per series in 2-D arrays of values and of a mask of the
steps where the series has a sample; a scalar is one float per step. An instant query is the
one-step case. This keeps the per-series and per-step work in numpy instead of Python loops;
code that is not hot reads the rows one at a time as StepSeries views.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alerting_server.query.histogram import FloatHistogram
from alerting_server.query.labels import Labels
from alerting_server.query.storage import Timestamps, Values

Mask = npt.NDArray[np.bool_]
# Native-histogram samples beside a float array (NaN placeholders there): None where a float.
Histograms = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Steps:
    start: int
    end: int
    step: int

    @property
    def n(self) -> int:
        return (self.end - self.start) // self.step + 1 if self.step > 0 else 1

    @property
    def times(self) -> Timestamps:
        return self.start + np.arange(self.n, dtype=np.int64) * max(self.step, 1)


@dataclass
class StepSeries:
    """One series of an instant vector across the steps; `drop_name` is Prometheus' DropName.

    `sample_ts` carries the timestamps of the underlying samples for timestamp().
    """

    labels: Labels
    values: Values
    present: Mask
    drop_name: bool = False
    sample_ts: Timestamps | None = None
    histograms: Histograms | None = None


@dataclass(frozen=True)
class RawSeries:
    """Samples of one series as read, for range-vector arguments and matrix results."""

    labels: Labels
    timestamps: Timestamps
    values: Values
    drop_name: bool = False
    histograms: Sequence[FloatHistogram | None] | None = None
    # Each sample's start time (ms, 0 where unknown), None when no sample has one.
    start_timestamps: Timestamps | None = None


@dataclass(frozen=True)
class Matrix:
    """A range vector, columnar: series i owns samples offsets[i]:offsets[i+1] of the flat arrays.

    `window_end` and `range_ms` give, for each step, the end and length (ms) of its window.
    `start_timestamps`, parallel to `timestamps`, the samples' start times (0 where unknown), None
    when no sample has one.
    """

    labels: list[Labels]
    timestamps: Timestamps
    values: Values
    offsets: npt.NDArray[np.intp]
    drop_name: Mask
    window_end: Timestamps
    range_ms: int
    histograms: Histograms | None = None
    start_timestamps: Timestamps | None = None

    @classmethod
    def of(cls, series: Sequence[RawSeries], window_end: Timestamps, range_ms: int) -> Matrix:
        lengths = [len(s.timestamps) for s in series]
        offsets = np.zeros(len(series) + 1, dtype=np.intp)
        np.cumsum(lengths, out=offsets[1:])
        histograms = None
        if any(s.histograms is not None for s in series):
            histograms = np.empty(int(offsets[-1]), dtype=object)
            for s, a in zip(series, offsets.tolist(), strict=False):
                if s.histograms is not None:
                    histograms[a : a + len(s.timestamps)] = list(s.histograms)
        starts = None
        if any(s.start_timestamps is not None for s in series):
            starts = np.concatenate(
                [
                    np.zeros(len(s.timestamps), dtype=np.int64)
                    if s.start_timestamps is None
                    else s.start_timestamps
                    for s in series
                ]
            )
        return cls(
            [s.labels for s in series],
            np.concatenate([s.timestamps for s in series]) if series else np.empty(0, dtype=np.int64),
            np.concatenate([s.values for s in series]) if series else np.empty(0),
            offsets,
            np.array([s.drop_name for s in series], dtype=bool),
            window_end,
            range_ms,
            histograms,
            starts,
        )

    @property
    def series(self) -> list[RawSeries]:
        bounds = self.offsets.tolist()
        hists = self.histograms
        return [
            RawSeries(
                labels,
                self.timestamps[a:b],
                self.values[a:b],
                bool(drop),
                None if hists is None else hists[a:b].tolist(),
            )
            for labels, a, b, drop in zip(
                self.labels, bounds, bounds[1:], self.drop_name.tolist(), strict=False
            )
        ]


class Vector:
    """An instant vector: row i is series `labels[i]`, with `values[i]`, `present[i]` over the steps."""

    __slots__ = ("drop_name", "histograms", "labels", "present", "sample_ts", "values")

    def __init__(
        self,
        labels: list[Labels],
        values: npt.NDArray[np.float64],
        present: npt.NDArray[np.bool_],
        drop_name: npt.NDArray[np.bool_],
        sample_ts: npt.NDArray[np.int64] | None = None,
        histograms: Histograms | None = None,
    ) -> None:
        self.labels = labels
        self.values = values
        self.present = present
        self.drop_name = drop_name
        self.sample_ts = sample_ts
        # Native-histogram samples, shaped as values (NaN placeholders there), or None for none.
        self.histograms = histograms

    @classmethod
    def empty(cls, n: int) -> Vector:
        return cls([], np.empty((0, n)), np.empty((0, n), dtype=bool), np.empty(0, dtype=bool))

    @classmethod
    def of(cls, rows: Sequence[StepSeries], n: int) -> Vector:
        """Stack rows (copying their arrays, so later edits of the rows do not leak in)."""
        if not rows:
            return cls.empty(n)
        stamps = [r.sample_ts for r in rows]
        sample_ts = None
        if all(t is not None for t in stamps):
            sample_ts = np.array(stamps, dtype=np.int64).reshape(len(rows), n)
        histograms = None
        if any(r.histograms is not None for r in rows):
            histograms = np.full((len(rows), n), None, dtype=object)
            for i, r in enumerate(rows):
                if r.histograms is not None:
                    histograms[i] = r.histograms
        return cls(
            [r.labels for r in rows],
            np.array([r.values for r in rows], dtype=np.float64).reshape(len(rows), n),
            np.array([r.present for r in rows], dtype=bool).reshape(len(rows), n),
            np.array([r.drop_name for r in rows], dtype=bool),
            sample_ts,
            histograms,
        )

    @property
    def n(self) -> int:
        return int(self.values.shape[1])

    def __len__(self) -> int:
        return len(self.labels)

    def __bool__(self) -> bool:
        return bool(self.labels)

    def row(self, i: int) -> StepSeries:
        ts = self.sample_ts[i] if self.sample_ts is not None else None
        hists = self.histograms[i] if self.histograms is not None else None
        return StepSeries(self.labels[i], self.values[i], self.present[i], bool(self.drop_name[i]), ts, hists)

    def __iter__(self) -> Iterator[StepSeries]:
        return (self.row(i) for i in range(len(self.labels)))

    def take(self, rows: npt.NDArray[np.intp]) -> Vector:
        """The vector of the given rows, in that order."""
        labels = self.labels
        return Vector(
            [labels[i] for i in rows.tolist()],
            self.values[rows],
            self.present[rows],
            self.drop_name[rows],
            self.sample_ts[rows] if self.sample_ts is not None else None,
            self.histograms[rows] if self.histograms is not None else None,
        )

    def histogram_mask(self) -> Mask:
        """Where the samples are native histograms."""
        if self.histograms is None:
            return np.zeros(self.values.shape, dtype=bool)
        is_histogram = np.vectorize(lambda h: h is not None, otypes=[bool])(self.histograms)
        mask: Mask = self.present & is_histogram
        return mask

    def floats_only(self) -> Vector:
        """The vector with its histogram samples left out (the rows stay)."""
        if self.histograms is None:
            return self
        present = self.present & ~self.histogram_mask()
        return Vector(self.labels, self.values, present, self.drop_name, self.sample_ts)

    def live(self) -> Vector:
        """Without the series that have no sample at any step."""
        alive = self.present.any(axis=1)
        if alive.all():
            return self
        return self.take(np.flatnonzero(alive))


Scalar = Values
Value = Vector | Scalar | str | Matrix
