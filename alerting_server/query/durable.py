"""Durability for the embedded store: a write-ahead log of accepted samples plus snapshots.

Layout of the data directory:
    snapshot   every series at the cut of the last snapshot (written to a temp file, fsynced, renamed)
    wal.<n>    logs sealed at a snapshot's cut, deleted once that snapshot is on disk
    wal        records appended since the last cut; a torn tail (crash mid-write) is truncated at open

A record is `length (u32) | crc32 (u32) | payload`; the payload is a JSON header (which series
each sample is of) followed by the raw int64 timestamps and float64 values, so stale markers
survive bit for bit. A log names a series once: the first record of a label set in the log file
gives it a number (`refs`, `labels`) and each sample names its series by number (`samples`); a
later naming of a number replaces the earlier one (a server started again goes on writing the same
file). A snapshot record, and a log record written before logs named series, gives its label sets
and each sample's index among them (`labels`, `series`). Native-histogram samples add a
`histograms` map to the header (sample position to the histogram's JSON form); a record without it
holds floats only. A record is on disk before its samples are visible or the write is
acknowledged. Opening the store loads the snapshot, then replays the sealed logs and the log;
replaying what a snapshot already holds changes nothing (the same samples again, or older ones).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson

from alerting_server.errors import Unavailable
from alerting_server.query.histogram import FloatHistogram, histogram_from_json, histogram_to_json
from alerting_server.query.labels import Labels, Matcher
from alerting_server.query.storage import FlatSeries, SeriesData
from alerting_server.query.tsdb import (
    DEFAULT_MAX_SERIES,
    DEFAULT_RETENTION_MS,
    TSDB,
    Cut,
    Sample,
    SampleColumns,
    WriteResult,
)

_HEADER = struct.Struct("<II")
_SEALED = re.compile(r"wal\.(\d+)")
# Series per lock hold while retention runs, and per snapshot record.
_STEP = 4096
# Label sets named in a log file beyond twice the series held, before the names start over.
_NAMES_SLACK = 10_000


def _encode(
    fields: dict[str, object], ts: object, vs: object, histograms: dict[int, FloatHistogram]
) -> bytes:
    """The record of a header's `fields` (which series each sample is of) and the samples' columns."""
    if histograms:
        # Histograms may hold NaN and ±Inf, which orjson would write as null: the json module writes
        # them in the form its reader takes back.
        fields["histograms"] = {str(pos): histogram_to_json(h) for pos, h in histograms.items()}
        header = json.dumps(fields).encode()
    else:
        # Label sets are tuples of pairs, which orjson writes as arrays; a tenth of the json module's time.
        header = orjson.dumps(fields)
    body = (
        struct.pack("<I", len(header))
        + header
        + np.asarray(ts, dtype=np.int64).tobytes()
        + np.asarray(vs, dtype=np.float64).tobytes()
    )
    return _HEADER.pack(len(body), zlib.crc32(body)) + body


class _Names:
    """The label sets the log file being written has named, by their objects' identity: the samples
    of a series mostly share one label set object at every write, and looking it up costs a fraction
    of writing its labels. Each entry holds its object, so that its identity is not reused."""

    def __init__(self) -> None:
        self._named: dict[int, tuple[Labels, int]] = {}
        self._next = 0

    def forget(self) -> None:
        """A new log file: it names its series anew."""
        self._named = {}

    def record(self, batch: SampleColumns, series_count: int) -> tuple[bytes, dict[int, tuple[Labels, int]]]:
        """The record of the samples, and the label sets it names for the first time (to be
        remembered once it is written: a record that could not be written named nothing)."""
        named = self._named
        if len(named) > 2 * series_count + _NAMES_SLACK:
            named.clear()
        get = named.get
        labels = batch.labels
        # -1: not named in this file yet.
        refs = [e[1] if (e := get(id(lbl))) is not None and e[0] is lbl else -1 for lbl in labels]
        new: dict[int, tuple[Labels, int]] = {}
        if -1 in refs:
            for pos, ref in enumerate(refs):
                if ref == -1:
                    lbl = labels[pos]
                    entry = new.get(id(lbl))
                    if entry is None:
                        entry = new[id(lbl)] = (lbl, self._next)
                        self._next += 1
                    refs[pos] = entry[1]
        fields: dict[str, object] = {
            "refs": [ref for _, ref in new.values()],
            "labels": [lbl for lbl, _ in new.values()],
            "samples": refs,
        }
        return _encode(fields, batch.ts, batch.vs, batch.histograms), new

    def remember(self, new: dict[int, tuple[Labels, int]]) -> None:
        self._named.update(new)


def _encode_series(cut: Cut, start: int, stop: int) -> bytes:
    """One record of the cut's series [start, stop)."""
    parts = [cut.samples(i) for i in range(start, stop)]
    index = np.repeat(np.arange(len(parts)), [len(ts) for ts, _ in parts]).tolist()
    histograms: dict[int, FloatHistogram] = {}
    base = 0
    for i, (part_ts, _) in enumerate(parts, start):
        for pos, h in cut.histograms(i, part_ts).items():
            histograms[base + pos] = h
        base += len(part_ts)
    ts = np.concatenate([ts for ts, _ in parts])
    vs = np.concatenate([vs for _, vs in parts])
    return _encode({"labels": cut.labels[start:stop], "series": index}, ts, vs, histograms)


def _decode(body: bytes, names: dict[int, Labels]) -> SampleColumns:
    """The samples of a record; `names`: the label sets named so far in its file, to which the
    record's own namings are added."""
    (header_len,) = struct.unpack_from("<I", body)
    header = json.loads(body[4 : 4 + header_len])
    labels = [tuple((k, v) for k, v in lbl) for lbl in header["labels"]]
    if "samples" in header:
        names.update(zip(header["refs"], labels, strict=True))
        of_samples = [names[ref] for ref in header["samples"]]
    else:
        of_samples = [labels[i] for i in header["series"]]
    n = len(of_samples)
    offset = 4 + header_len
    ts = np.frombuffer(body, dtype=np.int64, count=n, offset=offset)
    vs = np.frombuffer(body, dtype=np.float64, count=n, offset=offset + 8 * n)
    histograms = {int(pos): histogram_from_json(h) for pos, h in header.get("histograms", {}).items()}
    return SampleColumns(of_samples, ts.tolist(), vs.tolist(), histograms)


def _records(data: bytes) -> Iterator[tuple[bytes, int]]:
    """Each whole record and the offset after it, up to the first torn or corrupt one."""
    pos = 0
    while pos + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, pos)
        body = data[pos + _HEADER.size : pos + _HEADER.size + length]
        if len(body) < length or zlib.crc32(body) != crc:
            return
        pos += _HEADER.size + length
        yield body, pos


def _write_all(out: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = out.write(view)
        # An unbuffered file writes what fits; a full disk makes the next write raise.
        view = view[written or 0 :]


class DurableTSDB:
    """A TSDB whose accepted writes survive a restart or SIGKILL.

    Safe to share between threads: rule evaluation reads it from its own thread while the API
    writes on the event loop. Each call holds one lock for its duration, except snapshot(), which
    holds it only for short steps.
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
        self._snapshotting = threading.Lock()
        (self.directory / "wal.next").unlink(missing_ok=True)
        self._load()
        self._end = self._open_wal()
        self._wal: BinaryIO = (self.directory / "wal").open("ab", buffering=0)
        # The log holds bytes past self._end: a write that failed and could not be undone.
        self._dirty = False
        self._names = _Names()

    def generation(self) -> int:
        return self.db.generation()

    @property
    def _snapshot_path(self) -> Path:
        return self.directory / "snapshot"

    def _sealed(self) -> list[tuple[int, Path]]:
        found = []
        for path in self.directory.iterdir():
            match = _SEALED.fullmatch(path.name)
            if match:
                found.append((int(match[1]), path))
        return sorted(found)

    def _load(self) -> None:
        for path in (self._snapshot_path, *(path for _, path in self._sealed())):
            if path.exists():
                names: dict[int, Labels] = {}
                for body, _ in _records(path.read_bytes()):
                    self.db.append(_decode(body, names))

    def _open_wal(self) -> int:
        """Replays the log and cuts off a torn tail, so that appends follow the last whole record."""
        path = self.directory / "wal"
        if not path.exists():
            path.touch()
            self._fsync_dir()
            return 0
        data = path.read_bytes()
        end = 0
        names: dict[int, Labels] = {}
        for body, after in _records(data):
            self.db.append(_decode(body, names))
            end = after
        if end < len(data):
            with path.open("r+b") as wal:
                wal.truncate(end)
                if self.fsync:
                    os.fsync(wal.fileno())
        return end

    def _fsync_dir(self) -> None:
        """Makes a created, renamed or deleted name durable: fsync of a file does not cover its entry."""
        if not self.fsync:
            return
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, batch: Sequence[Sample] | SampleColumns, *, all_or_nothing: bool = False) -> WriteResult:
        """As TSDB.append, with what it stores logged first; Unavailable, with nothing stored, when
        the log cannot be written (a full disk)."""
        with self._lock:
            return self.db.append(batch, all_or_nothing=all_or_nothing, log=self._log)

    def _log(self, batch: SampleColumns) -> None:
        record, named = self._names.record(batch, self.db.series_count)
        try:
            if self._dirty:
                self._wal.truncate(self._end)
                self._dirty = False
            _write_all(self._wal, record)
            if self.fsync:
                os.fsync(self._wal.fileno())
        except OSError as exc:
            self._dirty = True
            with contextlib.suppress(OSError):
                self._wal.truncate(self._end)
                self._dirty = False
            raise Unavailable(
                f"the time-series log cannot be written ({exc.strerror or exc}); "
                "no sample of the write was stored"
            ) from exc
        self._end += len(record)
        self._names.remember(named)

    def select(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> list[SeriesData]:
        with self._lock:
            return self.db.select(matchers, mint_ms, maxt_ms)

    def select_flat(
        self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int, *, last: bool = False
    ) -> FlatSeries:
        with self._lock:
            return self.db.select_flat(matchers, mint_ms, maxt_ms, last=last)

    def select_ids(self, matchers: Sequence[Matcher]) -> list[int]:
        with self._lock:
            return self.db.select_ids(matchers)

    def series_labels(self, ids: Iterable[int]) -> list[Labels]:
        with self._lock:
            return self.db.series_labels(ids)

    def select_flat_ids(
        self, ids: Iterable[int], mint_ms: int, maxt_ms: int, *, last: bool = False
    ) -> FlatSeries:
        with self._lock:
            return self.db.select_flat_ids(ids, mint_ms, maxt_ms, last=last)

    def series_matching(
        self, matcher_sets: Sequence[Sequence[Matcher]], mint_ms: int, maxt_ms: int
    ) -> list[Labels]:
        with self._lock:
            return self.db.series_matching(matcher_sets, mint_ms, maxt_ms)

    def snapshot(self, now_ms: int) -> None:
        """Apply retention, write every series to a new snapshot, then drop the logs it covers.

        Appends and reads go on meanwhile: the lock is held for retention a slice of series at a
        time, and for the cut (the series as they are, and a fresh log for what comes after);
        the snapshot is written from the cut without it.
        """
        with self._snapshotting:
            with self._lock:
                ids = self.db.series_ids()
            for start in range(0, len(ids), _STEP):
                with self._lock:
                    self.db.enforce_retention(now_ms, ids[start : start + _STEP])
            with self._lock:
                cut = self.db.cut()
                sealed = self._seal()
            self._write_snapshot(cut)
            for number, path in self._sealed():
                if number <= sealed:
                    path.unlink()
            self._fsync_dir()

    def _seal(self) -> int:
        """Renames the log to the next wal.<n> and starts an empty one; returns n."""
        sealed = self._sealed()
        number = sealed[-1][0] + 1 if sealed else 1
        fresh = (self.directory / "wal.next").open("wb", buffering=0)
        try:
            os.rename(self.directory / "wal", self.directory / f"wal.{number}")
            os.rename(self.directory / "wal.next", self.directory / "wal")
            self._fsync_dir()
        except OSError:
            fresh.close()
            raise
        self._wal.close()
        self._wal, self._end, self._dirty = fresh, 0, False
        self._names.forget()
        return number

    def _write_snapshot(self, cut: Cut) -> None:
        tmp = self.directory / "snapshot.tmp"
        try:
            with tmp.open("wb") as out:
                for start in range(0, len(cut), _STEP):
                    out.write(_encode_series(cut, start, min(start + _STEP, len(cut))))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self._snapshot_path)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        self._fsync_dir()

    def close(self) -> None:
        with self._lock:
            self._wal.close()

    def __enter__(self) -> DurableTSDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
