"""The embedded store's log is written ahead: what a caller was told is stored survives a crash,
what could not be logged is not stored, and snapshots neither lose samples nor stop appends."""

import json
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

from alerting_server.query.durable import DurableTSDB
from alerting_server.query.labels import Matcher, MatchType, from_mapping
from alerting_server.query.tsdb import TSDB, Sample

UP = from_mapping({"__name__": "up", "job": "a"})
ALL = [Matcher.of(MatchType.REGEX, "__name__", ".+")]


def stored(directory: Path) -> dict[str, list[int]]:
    """Each series' timestamps after a restart, by its `job` label."""
    with DurableTSDB(directory) as db:
        return {dict(s.labels)["job"]: s.timestamps.tolist() for s in db.select(ALL, 0, 10**12)}


def run(script: str, directory: Path) -> list[object]:
    """Runs a script against the store in its own process; what it printed, one JSON value a line."""
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + script, str(directory)], capture_output=True, text=True, timeout=30
    )
    return [json.loads(line) for line in proc.stdout.splitlines()]


PRELUDE = """
import json, os, resource, signal, sys
from alerting_server.query.durable import DurableTSDB
from alerting_server.query.labels import Matcher, MatchType, from_mapping
from alerting_server.query.tsdb import Sample
ALL = [Matcher.of(MatchType.REGEX, "__name__", ".+")]
def sample(job, t):
    return Sample(from_mapping({"__name__": "up", "job": job}), t, float(t))
def seen(db):
    return {dict(s.labels)["job"]: s.timestamps.tolist() for s in db.select(ALL, 0, 10**12)}
db = DurableTSDB(sys.argv[1])
"""


def test_appends_after_a_torn_tail_survive_the_next_restart(tmp_path: Path) -> None:
    with DurableTSDB(tmp_path) as db:
        db.append([Sample(UP, 1000, 1.0)])
        db.append([Sample(UP, 2000, 2.0)])
    wal = tmp_path / "wal"
    wal.write_bytes(wal.read_bytes()[:-3])
    with DurableTSDB(tmp_path) as db:
        db.append([Sample(UP, 3000, 3.0)])
        db.append([Sample(UP, 4000, 4.0)])
    assert stored(tmp_path) == {"a": [1000, 3000, 4000]}


CRASH_WHEN_LOGGED = """
db.append([sample("a", 1000)])
fsync = os.fsync
def crash_once_logged(fd):
    fsync(fd)
    print(json.dumps(seen(db)), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
os.fsync = crash_once_logged
db.append([sample("a", 2000), sample("b", 2000)])
"""


def test_a_write_is_logged_before_it_is_visible_and_a_crash_then_keeps_it(tmp_path: Path) -> None:
    (visible_when_logged,) = run(CRASH_WHEN_LOGGED, tmp_path)
    assert visible_when_logged == {"a": [1000]}
    assert stored(tmp_path) == {"a": [1000, 2000], "b": [2000]}


FULL_DISK = """
db.append([sample("a", 1000)])
size = os.path.getsize(sys.argv[1] + "/wal")
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
# Room for part of the next record: the write fails half done, as on a disk that fills up.
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 64, hard))
try:
    db.append([sample(f"new{i}", 2000) for i in range(50)] + [sample("a", 2000)])
except Exception as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
print(json.dumps([seen(db), os.path.getsize(sys.argv[1] + "/wal") == size]))
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
db.append([sample("a", 3000)])
print(json.dumps(seen(db)))
"""


def test_a_full_disk_fails_the_write_and_changes_nothing(tmp_path: Path) -> None:
    error, after_failure, after_retry = run(FULL_DISK, tmp_path)
    assert error == [
        "Unavailable",
        "the time-series log cannot be written (File too large); no sample of the write was stored",
    ]
    assert after_failure == [{"a": [1000]}, True]
    assert after_retry == {"a": [1000, 3000]}
    assert stored(tmp_path) == {"a": [1000, 3000]}


FULL_DISK_AT_SNAPSHOT = """
db.append([sample(f"s{i}", 1000) for i in range(200)])
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))
try:
    db.snapshot(now_ms=1000)
except OSError as exc:
    print(json.dumps(exc.strerror))
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
db.append([sample("s0", 2000)])
print(json.dumps(sorted(os.listdir(sys.argv[1]))))
"""


def test_a_failed_snapshot_loses_nothing_and_the_next_one_folds_every_log(tmp_path: Path) -> None:
    error, files = run(FULL_DISK_AT_SNAPSHOT, tmp_path)
    assert error == "File too large"
    assert files == ["wal", "wal.1"]
    expected = {f"s{i}": [1000] for i in range(200)} | {"s0": [1000, 2000]}
    assert stored(tmp_path) == expected
    with DurableTSDB(tmp_path) as db:
        db.snapshot(now_ms=2000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot", "wal"]
    assert stored(tmp_path) == expected


def test_appends_go_on_while_a_snapshot_is_written_and_all_survive(tmp_path: Path) -> None:
    db = DurableTSDB(tmp_path, fsync=False)
    db.append([Sample(from_mapping({"__name__": "up", "job": f"s{i}"}), 0, 0.0) for i in range(30_000)])
    snapshotting = threading.Event()
    done = threading.Event()
    appended: list[int] = []
    during: list[int] = []

    def append() -> None:
        t = 1
        while not done.is_set():
            was_snapshotting = snapshotting.is_set()
            db.append([Sample(UP, t, float(t))])
            if was_snapshotting and snapshotting.is_set():
                during.append(t)
            appended.append(t)
            t += 1
            time.sleep(0)

    writer = threading.Thread(target=append)
    writer.start()
    try:
        snapshotting.set()
        db.snapshot(now_ms=0)
        snapshotting.clear()
    finally:
        done.set()
        writer.join()
    db.close()
    assert during, "no append completed while the snapshot was written"
    after = stored(tmp_path)
    assert after["a"] == appended
    assert len(after) == 30_001


def test_a_series_of_one_sample_costs_memory_for_one_sample_not_a_chunk() -> None:
    labels = [from_mapping({"__name__": "up", "job": str(i)}) for i in range(2000)]
    batch = [Sample(lbl, 1000, 1.0) for lbl in labels]
    tracemalloc.start()
    try:
        db = TSDB()
        db.append(batch)
        per_series = tracemalloc.get_traced_memory()[0] / len(labels)
    finally:
        tracemalloc.stop()
    # A pre-allocated chunk of 240 timestamps and values alone is 3840 bytes.
    assert per_series < 1500
    assert db.series_count == 2000
