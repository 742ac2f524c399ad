"""The embedded store, keeping each batch it was asked to append, for tests of what is written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerting_server.query.tsdb import TSDB, Sample, WriteResult


class RecordingStore(TSDB):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[Sample]] = []

    def append(self, batch: Sequence[Sample], **options: Any) -> WriteResult:
        self.batches.append(list(batch))
        return super().append(batch, **options)
