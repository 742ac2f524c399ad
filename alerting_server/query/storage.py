"""The seam between the evaluator and whatever holds the samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from alerting_server.query.histogram import FloatHistogram
from alerting_server.query.labels import Labels, Matcher

# Prometheus marks a series as gone with this exact NaN payload (value.StaleNaN).
STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN: float = float(np.array([STALE_NAN_BITS], dtype=np.uint64).view(np.float64)[0])

Timestamps = npt.NDArray[np.int64]
Values = npt.NDArray[np.float64]


def stale_mask(values: Values) -> npt.NDArray[np.bool_]:
    mask: npt.NDArray[np.bool_] = values.view(np.uint64) == np.uint64(STALE_NAN_BITS)
    return mask


def is_stale(value: float) -> bool:
    return bool(np.array([value], dtype=np.float64).view(np.uint64)[0] == STALE_NAN_BITS)


@dataclass(frozen=True)
class SeriesData:
    """The samples of one series inside a requested time window, sorted by time.

    `histograms`, when the series holds native-histogram samples, is parallel to `values`: the
    histogram of each sample that is one (its value is then a NaN placeholder), None for a float.
    `native_histograms` marks a series whose histogram samples the store cannot give (no
    `histograms`), which the evaluator refuses rather than answering with a wrong number.
    `start_timestamps`, parallel to `timestamps`, is each sample's start time (ms, 0 where
    unknown), None for a series none of whose samples has one.
    """

    labels: Labels
    timestamps: Timestamps
    values: Values
    native_histograms: bool = False
    histograms: tuple[FloatHistogram | None, ...] | None = None
    start_timestamps: Timestamps | None = None


@dataclass(frozen=True)
class FlatSeries:
    """Many series at once: series i is `labels[i]` with samples offsets[i]:offsets[i+1], sorted by labels.
    `start_timestamps` as SeriesData's, over all of them (None when no sample has one)."""

    labels: list[Labels]
    timestamps: Timestamps
    values: Values
    offsets: npt.NDArray[np.intp]
    # The histogram of each sample that is one (None for a float), or None when no sample is.
    histograms: npt.NDArray[np.object_] | None = None
    start_timestamps: Timestamps | None = None


@runtime_checkable
class FlatQueryable(Protocol):
    """A store that can answer a selection without one SeriesData object per series."""

    def select_flat(
        self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int, *, last: bool = False
    ) -> FlatSeries:
        """What select() returns, as one FlatSeries; with `last`, only each series' last sample there
        (what an instant selector reads at maxt_ms)."""
        ...


class Queryable(Protocol):
    def select(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> list[SeriesData]:
        """Series matching every matcher, with their samples in [mint_ms, maxt_ms], sorted by labels."""
        ...
