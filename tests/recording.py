"""The embedded store, keeping each batch it was asked to append, for tests of what is written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerting_server.query.tsdb import TSDB, HistogramSample, Sample, SampleColumns, WriteResult


def as_samples(batch: Sequence[Sample] | SampleColumns) -> list[Sample]:
    """The batch as sample objects, in its order."""
    if not isinstance(batch, SampleColumns):
        return list(batch)
    out: list[Sample] = []
    for pos, (labels, t, v) in enumerate(zip(batch.labels, batch.ts, batch.vs, strict=True)):
        st, h = batch.starts.get(pos, 0), batch.histograms.get(pos)
        out.append(
            Sample(labels, t, v, st_ms=st) if h is None else HistogramSample(labels, t, v, h, st_ms=st)
        )
    return out


class RecordingStore(TSDB):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[Sample]] = []

    def append(self, batch: Sequence[Sample] | SampleColumns, **options: Any) -> WriteResult:
        self.batches.append(as_samples(batch))
        return super().append(batch, **options)
