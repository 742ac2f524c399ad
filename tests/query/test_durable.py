import errno
import math
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerting_server.errors import Unavailable
from alerting_server.query import durable
from alerting_server.query.durable import DurableTSDB
from alerting_server.query.labels import Matcher, MatchType, from_mapping
from alerting_server.query.storage import STALE_NAN, is_stale
from alerting_server.query.tsdb import Sample

UP = from_mapping({"__name__": "up", "job": "a"})
ALL = [Matcher.of(MatchType.REGEX, "__name__", ".+")]


def test_restart_replays_the_log_and_keeps_stale_markers(tmp_path: Path) -> None:
    db = DurableTSDB(tmp_path)
    result = db.append([Sample(UP, 1000, 1.0), Sample(UP, 500, 9.0), Sample(UP, 2000, STALE_NAN)])
    assert result.rejected == 1
    db.close()
    with DurableTSDB(tmp_path) as reopened:
        (series,) = reopened.select(ALL, 0, 10_000)
    assert series.timestamps.tolist() == [1000, 2000]
    assert series.values[0] == 1.0
    assert is_stale(float(series.values[1]))


def test_snapshot_applies_retention_and_truncates_the_log(tmp_path: Path) -> None:
    db = DurableTSDB(tmp_path, retention_ms=10_000)
    db.append([Sample(UP, t * 1000, float(t)) for t in range(30)])
    db.snapshot(now_ms=29_000)
    assert (tmp_path / "wal").stat().st_size == 0
    db.append([Sample(UP, 30_000, math.inf)])
    db.close()
    with DurableTSDB(tmp_path, retention_ms=10_000) as reopened:
        (series,) = reopened.select(ALL, 0, 10**9)
    assert series.timestamps.tolist() == list(range(19_000, 31_000, 1000))


def test_a_torn_tail_record_is_ignored(tmp_path: Path) -> None:
    db = DurableTSDB(tmp_path)
    db.append([Sample(UP, 1000, 1.0)])
    db.append([Sample(UP, 2000, 2.0)])
    db.close()
    wal = tmp_path / "wal"
    wal.write_bytes(wal.read_bytes()[:-3])
    with DurableTSDB(tmp_path) as reopened:
        (series,) = reopened.select(ALL, 0, 10_000)
    assert series.timestamps.tolist() == [1000]


WRITER = """
import sys
from alerting_server.errors import Unavailable
from alerting_server.query import durable
from alerting_server.query.durable import DurableTSDB
from alerting_server.query.labels import from_mapping
from alerting_server.query.tsdb import Sample
db = DurableTSDB(sys.argv[1])
up = from_mapping({"__name__": "up"})
for t in range(200):
    db.append([Sample(up, t * 1000, float(t))])
    if t == 99:
        db.snapshot(now_ms=t * 1000)
print("written", flush=True)
sys.stdin.read()
"""


def test_sigkill_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "written"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    with DurableTSDB(tmp_path) as reopened:
        (series,) = reopened.select(ALL, 0, 10**9)
    assert series.timestamps.tolist() == [t * 1000 for t in range(200)]


def test_equal_label_sets_as_different_objects_are_one_series_after_a_restart(tmp_path: Path) -> None:
    """A log record names each label set object once; two equal ones are read back as one series."""
    a = from_mapping({"__name__": "up", "job": "x"})
    b = from_mapping({"__name__": "up", "job": "x"})
    assert a == b
    assert a is not b
    db = DurableTSDB(tmp_path)
    db.append([Sample(a, 1000, 1.0), Sample(b, 2000, 2.0), Sample(a, 3000, 3.0)])
    db.close()
    with DurableTSDB(tmp_path) as reopened:
        (series,) = reopened.select(ALL, 0, 10_000)
    assert series.timestamps.tolist() == [1000, 2000, 3000]
    assert series.values.tolist() == [1.0, 2.0, 3.0]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 2), st.integers(0, 6), st.booleans()), max_size=6),
        min_size=1,
        max_size=4,
    )
)
def test_a_restart_reads_back_what_was_stored_however_the_writes_named_their_series(
    writes: list[list[tuple[int, int, bool]]],
) -> None:
    """Writes of one sample a series, of a series' samples together or apart, and of equal label
    sets as separate objects (each object named in the log once), with refused and repeated samples
    among them."""
    shared = [from_mapping({"__name__": "x", "n": str(n)}) for n in range(3)]
    with tempfile.TemporaryDirectory() as directory:
        with DurableTSDB(directory, fsync=False) as db:
            for write in writes:
                db.append(
                    [
                        Sample(from_mapping(dict(shared[n])) if own else shared[n], t, float(t % 3))
                        for n, t, own in write
                    ]
                )
            before = [(s.labels, s.timestamps.tolist(), s.values.tolist()) for s in db.select(ALL, 0, 10)]
        with DurableTSDB(directory, fsync=False) as reopened:
            after = [
                (s.labels, s.timestamps.tolist(), s.values.tolist()) for s in reopened.select(ALL, 0, 10)
            ]
    assert after == before


def test_a_label_set_named_by_a_write_that_failed_is_named_again_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = DurableTSDB(tmp_path, fsync=False)
    real = durable._write_all

    def full(out: Any, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(durable, "_write_all", full)
    with pytest.raises(Unavailable):
        db.append([Sample(UP, 1000, 1.0)])
    monkeypatch.setattr(durable, "_write_all", real)
    db.append([Sample(UP, 2000, 2.0)])
    db.close()
    with DurableTSDB(tmp_path, fsync=False) as reopened:
        (series,) = reopened.select(ALL, 0, 10_000)
    assert series.timestamps.tolist() == [2000]


def test_a_log_names_its_series_anew_after_a_snapshot_and_after_a_restart(tmp_path: Path) -> None:
    down = from_mapping({"__name__": "down", "job": "a"})
    other = from_mapping({"__name__": "other", "job": "a"})
    with DurableTSDB(tmp_path, fsync=False) as db:
        db.append([Sample(UP, 1000, 1.0)])
        db.snapshot(now_ms=1000)
        # A new log file: UP is named in it again (as 1).
        db.append([Sample(UP, 2000, 2.0)])
    with DurableTSDB(tmp_path, fsync=False) as db:
        # The same file, written on by a new process, which names from 0 again: `other` takes the
        # number UP had in this file.
        db.append([Sample(down, 3000, 3.0), Sample(other, 3000, 3.0), Sample(UP, 3000, 3.0)])
        db.append([Sample(UP, 4000, 4.0), Sample(down, 4000, 4.0)])
    with DurableTSDB(tmp_path, fsync=False) as db:
        found = {dict(s.labels)["__name__"]: s.timestamps.tolist() for s in db.select(ALL, 0, 10_000)}
    assert found == {"up": [1000, 2000, 3000, 4000], "down": [3000, 4000], "other": [3000]}


def test_the_label_sets_a_log_has_named_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(durable, "_NAMES_SLACK", 3)
    with DurableTSDB(tmp_path, fsync=False) as db:
        for t in range(1, 20):
            # Equal label sets as new objects at every write: each is named, and the names start over.
            db.append([Sample(from_mapping(dict(UP)), t * 1000, float(t))])
            assert len(db._names._named) <= 2 * 1 + 3 + 1
        db.append([Sample(UP, 20_000, 20.0), Sample(UP, 21_000, 21.0)])
    with DurableTSDB(tmp_path, fsync=False) as reopened:
        (series,) = reopened.select(ALL, 0, 100_000)
    assert series.timestamps.tolist() == [t * 1000 for t in range(1, 22)]


def test_a_log_written_before_logs_named_series_is_replayed(tmp_path: Path) -> None:
    """A server upgraded over a log whose records give their label sets and each sample's index."""
    down = from_mapping({"__name__": "down", "job": "a"})
    record = durable._encode(
        {"labels": [UP, down], "series": [0, 1, 0]}, [1000, 1000, 2000], [1.0, 0.0, 2.0], {}
    )
    (tmp_path / "wal").write_bytes(record)
    with DurableTSDB(tmp_path, fsync=False) as db:
        db.append([Sample(UP, 3000, 3.0)])
    with DurableTSDB(tmp_path, fsync=False) as db:
        found = {dict(s.labels)["__name__"]: s.timestamps.tolist() for s in db.select(ALL, 0, 10_000)}
    assert found == {"up": [1000, 2000, 3000], "down": [1000]}
