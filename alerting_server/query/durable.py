"""Durability for the embedded store: a write-ahead log of accepted samples plus snapshots.

Layout of the data directory:
    snapshot   every series at the time of the last snapshot (written to a temp file, fsynced, renamed)
    wal        records appended since that snapshot; a torn tail record (crash mid-write) is ignored

A record is `length (u32) | crc32 (u32) | payload`; the payload is a JSON header (label sets
and sample count) followed by the raw int64 timestamps and float64 values, so stale markers
survive bit for bit. Opening the store loads the snapshot, replays the log, and drops what
is older than the retention window.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from alerting_server.query.labels import Labels, Matcher
from alerting_server.query.storage import FlatSeries, SeriesData
from alerting_server.query.tsdb import DEFAULT_MAX_SERIES, DEFAULT_RETENTION_MS, TSDB, Sample, WriteResult

_HEADER = struct.Struct("<II")


def _encode(labels: list[Labels], series_index: list[int], ts: list[int], vs: list[float]) -> bytes:
    header = json.dumps({"labels": [list(map(list, lbl)) for lbl in labels], "series": series_index}).encode()
    body = (
        struct.pack("<I", len(header))
        + header
        + np.asarray(ts, dtype=np.int64).tobytes()
        + np.asarray(vs, dtype=np.float64).tobytes()
    )
    return _HEADER.pack(len(body), zlib.crc32(body)) + body


def _decode(body: bytes) -> list[Sample]:
    (header_len,) = struct.unpack_from("<I", body)
    header = json.loads(body[4 : 4 + header_len])
    labels = [tuple((k, v) for k, v in lbl) for lbl in header["labels"]]
    index = header["series"]
    n = len(index)
    offset = 4 + header_len
    ts = np.frombuffer(body, dtype=np.int64, count=n, offset=offset)
    vs = np.frombuffer(body, dtype=np.float64, count=n, offset=offset + 8 * n)
    return [Sample(labels[i], int(t), float(v)) for i, t, v in zip(index, ts.tolist(), vs, strict=True)]


def _records(path: Path) -> Iterator[bytes]:
    if not path.exists():
        return
    data = path.read_bytes()
    pos = 0
    while pos + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, pos)
        body = data[pos + _HEADER.size : pos + _HEADER.size + length]
        if len(body) < length or zlib.crc32(body) != crc:
            return  # torn write at the tail: everything before it is intact
        yield body
        pos += _HEADER.size + length


class DurableTSDB:
    """A TSDB whose accepted writes survive a restart or SIGKILL.

    Safe to share between threads: rule evaluation reads it from its own thread while the API
    writes on the event loop. Each call holds one lock for its duration.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        retention_ms: int = DEFAULT_RETENTION_MS,
        max_series: int = DEFAULT_MAX_SERIES,
        fsync: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self.db = TSDB(retention_ms=retention_ms, max_series=max_series)
        self._lock = threading.RLock()
        self._load()
        self._wal: BinaryIO = (self.directory / "wal").open("ab")

    @property
    def _snapshot_path(self) -> Path:
        return self.directory / "snapshot"

    def _load(self) -> None:
        for path in (self._snapshot_path, self.directory / "wal"):
            for body in _records(path):
                self.db.append(_decode(body))

    def append(self, batch: Sequence[Sample], *, all_or_nothing: bool = False) -> WriteResult:
        with self._lock:
            return self._append(batch, all_or_nothing)

    def _append(self, batch: Sequence[Sample], all_or_nothing: bool = False) -> WriteResult:
        result = self.db.append(batch, all_or_nothing=all_or_nothing)
        if all_or_nothing and result.rejected:
            return result
        rejected = {index for index, _ in result.errors}
        kept = [s for i, s in enumerate(batch) if i not in rejected]
        if kept:
            labels: list[Labels] = []
            ids: dict[Labels, int] = {}
            index = []
            for s in kept:
                if s.labels not in ids:
                    ids[s.labels] = len(labels)
                    labels.append(s.labels)
                index.append(ids[s.labels])
            self._wal.write(_encode(labels, index, [s.t_ms for s in kept], [s.value for s in kept]))
            self._wal.flush()
            if self.fsync:
                os.fsync(self._wal.fileno())
        return result

    def select(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> list[SeriesData]:
        with self._lock:
            return self.db.select(matchers, mint_ms, maxt_ms)

    def select_flat(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> FlatSeries:
        with self._lock:
            return self.db.select_flat(matchers, mint_ms, maxt_ms)

    def select_ids(self, matchers: Sequence[Matcher]) -> list[int]:
        with self._lock:
            return self.db.select_ids(matchers)

    def series_labels(self, ids: Iterable[int]) -> list[Labels]:
        with self._lock:
            return self.db.series_labels(ids)

    def select_flat_ids(self, ids: Iterable[int], mint_ms: int, maxt_ms: int) -> FlatSeries:
        with self._lock:
            return self.db.select_flat_ids(ids, mint_ms, maxt_ms)

    def series_matching(
        self, matcher_sets: Sequence[Sequence[Matcher]], mint_ms: int, maxt_ms: int
    ) -> list[Labels]:
        with self._lock:
            return self.db.series_matching(matcher_sets, mint_ms, maxt_ms)

    def snapshot(self, now_ms: int) -> None:
        """Apply retention, write every series to a new snapshot, then start an empty log."""
        with self._lock:
            self._snapshot(now_ms)

    def _snapshot(self, now_ms: int) -> None:
        self.db.enforce_retention(now_ms)
        tmp = self.directory / "snapshot.tmp"
        with tmp.open("wb") as out:
            for s in self.db.select([], -(2**62), 2**62):
                out.write(
                    _encode([s.labels], [0] * len(s.timestamps), s.timestamps.tolist(), s.values.tolist())
                )
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self._snapshot_path)
        self._wal.close()
        self._wal = (self.directory / "wal").open("wb")
        if self.fsync:
            os.fsync(self._wal.fileno())

    def close(self) -> None:
        with self._lock:
            self._wal.close()

    def __enter__(self) -> DurableTSDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
