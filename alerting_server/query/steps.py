"""Values during evaluation: every node yields its value at all steps of the query at once.

An instant vector is a list of StepSeries, each with one value slot per step and a mask of
the steps where the series has a sample; a scalar is one float per step. An instant query is
the one-step case. This keeps the per-step work in numpy instead of Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alerting_server.query.labels import Labels
from alerting_server.query.storage import Timestamps, Values

Mask = npt.NDArray[np.bool_]


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


@dataclass(frozen=True)
class RawSeries:
    """Samples of one series as read, for range-vector arguments and matrix results."""

    labels: Labels
    timestamps: Timestamps
    values: Values
    drop_name: bool = False


@dataclass(frozen=True)
class Matrix:
    """A range vector: raw series plus, for each step, the window end and length (ms)."""

    series: list[RawSeries]
    window_end: Timestamps
    range_ms: int


Vector = list[StepSeries]
Scalar = Values
Value = Vector | Scalar | str | Matrix
