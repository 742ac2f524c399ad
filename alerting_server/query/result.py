"""What a query returns: a vector, matrix, scalar or string, with its annotations."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from alerting_server.query.histogram import FloatHistogram
from alerting_server.query.labels import Labels, format_series
from alerting_server.query.storage import Timestamps, Values


class ValueKind(Enum):
    VECTOR = "vector"
    MATRIX = "matrix"
    SCALAR = "scalar"
    STRING = "string"


@dataclass(frozen=True)
class ResultSeries:
    """One series of a result; an instant vector element has exactly one point."""

    labels: Labels
    timestamps: Timestamps
    values: Values
    # Per point, its native histogram (the value is then a NaN placeholder); None when all are floats.
    histograms: list[FloatHistogram | None] | None = None

    @property
    def labels_dict(self) -> dict[str, str]:
        return dict(self.labels)

    def points(self) -> list[tuple[int, float]]:
        return list(zip(self.timestamps.tolist(), self.values.tolist(), strict=True))

    def histogram_at(self, i: int) -> FloatHistogram | None:
        return None if self.histograms is None else self.histograms[i]

    def describe(self) -> str:
        if self.histograms is None:
            return f"{format_series(self.labels)} {self.points()}"
        points = [
            (t, v if h is None else h.test_expression())
            for (t, v), h in zip(self.points(), self.histograms, strict=True)
        ]
        return f"{format_series(self.labels)} {points}"


@dataclass(frozen=True)
class Result:
    kind: ValueKind
    series: list[ResultSeries] = field(default_factory=list)
    scalar: float = 0.0
    string: str = ""
    t_ms: int = 0
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)

    @classmethod
    def of_scalar(cls, value: float, t_ms: int) -> Result:
        return cls(ValueKind.SCALAR, scalar=value, t_ms=t_ms)

    def at(self, t_ms: int) -> Result:
        """The instant vector at one step of a range (matrix) result."""
        out = []
        for s in self.series:
            hit = np.nonzero(s.timestamps == t_ms)[0]
            if len(hit):
                i = int(hit[0])
                hists = None if s.histograms is None else s.histograms[i : i + 1]
                out.append(ResultSeries(s.labels, s.timestamps[i : i + 1], s.values[i : i + 1], hists))
        return Result(ValueKind.VECTOR, out, t_ms=t_ms, warnings=self.warnings, infos=self.infos)

    def describe(self) -> str:
        if self.kind is ValueKind.SCALAR:
            return repr(self.scalar)
        if self.kind is ValueKind.STRING:
            return repr(self.string)
        return "[" + "; ".join(s.describe() for s in self.series) + "]"
