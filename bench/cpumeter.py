"""The cores used by processes over a window, from /proc: named processes, PostgreSQL's backends of
one database (with its commits and new sessions), this process and the whole machine; and a guess,
from those numbers, at what ran out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import asyncpg

Json = dict[str, object]

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used, 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # The command name, in parentheses, may hold spaces: fields are counted after it.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_cpu_s() -> float:
    """Busy CPU seconds of the whole machine since boot (all but idle and I/O wait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / _TICK


class CpuMeter:
    """Cores used over a window by named processes, by PostgreSQL's backends of one database, by this
    process and by the machine; with PostgreSQL's commits and new sessions in that database.

    Backends come and go within a window (a pool's overflow connections are closed when given back):
    they are sampled every SAMPLE_S, and one that ended counts with its CPU as last sampled."""

    SAMPLE_S = 0.1

    def __init__(
        self, admin_url: str, database: str | None, processes: Callable[[], dict[str, list[int]]]
    ) -> None:
        self._admin_url = admin_url
        self._database = database
        self._processes = processes
        self._conn: asyncpg.Connection | None = None
        self._labels: dict[str, list[int]] = {}
        self._start: dict[int, float] = {}
        self._backend_first: dict[int, float] = {}
        self._backend_last: dict[int, float] = {}
        self._stats = (0, 0)
        self._machine = 0.0
        self._wall = 0.0
        self._sampler: asyncio.Task[None] | None = None

    async def _backends(self, *, first: bool = False) -> None:
        assert self._conn is not None
        rows = await self._conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", self._database)
        for row in rows:
            pid = int(row["pid"])
            cpu = process_cpu_s(pid)
            # A backend first seen after the start was born in the window: all its CPU is the window's.
            self._backend_first.setdefault(pid, cpu if first else 0.0)
            if cpu:
                self._backend_last[pid] = cpu

    async def _database_stats(self) -> tuple[int, int]:
        assert self._conn is not None
        row = await self._conn.fetchrow(
            "SELECT xact_commit + xact_rollback AS xacts, sessions FROM pg_stat_database WHERE datname = $1",
            self._database,
        )
        assert row is not None
        return int(row["xacts"]), int(row["sessions"])

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(self.SAMPLE_S)
            await self._backends()

    async def start(self) -> None:
        self._labels = self._processes()
        if self._database is not None:
            self._conn = await asyncpg.connect(self._admin_url, timeout=10)
            await self._backends(first=True)
            self._stats = await self._database_stats()
            self._sampler = asyncio.create_task(self._sample())
        pids = {p for ps in self._labels.values() for p in ps} | {os.getpid()}
        self._start = {p: process_cpu_s(p) for p in pids}
        self._machine = machine_cpu_s()
        self._wall = time.monotonic()

    async def stop(self) -> Json:
        wall = time.monotonic() - self._wall
        machine = round((machine_cpu_s() - self._machine) / wall, 3)

        def cores(pids: Sequence[int]) -> float:
            return round(sum(process_cpu_s(p) - self._start.get(p, 0.0) for p in set(pids)) / wall, 3)

        parts = {label: cores(pids) for label, pids in self._labels.items()}
        parts["bench_client"] = cores([os.getpid()])
        out: Json = {}
        if self._conn is not None and self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
            await self._backends()
            xacts, sessions = await self._database_stats()
            await self._conn.close()
            used = sum(self._backend_last.get(p, c) - c for p, c in self._backend_first.items())
            parts["postgresql"] = round(used / wall, 3)
            out["postgresql_commits_per_s"] = round((xacts - self._stats[0]) / wall)
            out["postgresql_sessions_opened_per_s"] = round((sessions - self._stats[1]) / wall, 1)
        ncpu = os.cpu_count() or 1
        out.update(parts)
        # What else ran on the machine meanwhile (other users of it included).
        out["other_processes"] = round(max(0.0, machine - sum(parts.values())), 3)
        out["machine"] = machine
        out["machine_cores"] = ncpu
        out["limited_by"] = _limited_by(parts, machine, ncpu)
        return out


def _limited_by(parts: dict[str, float], machine: float, ncpu: int) -> str:
    """What ran out, from the cores each part used: the machine's cores altogether, one of our Python
    processes (a replica or server, or this client) at the core it is held to, or PostgreSQL."""
    detail = ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
    largest = max(parts, key=lambda k: parts[k])
    if machine >= 0.85 * ncpu:
        return f"the machine: {machine:.2f} of {ncpu} cores busy ({detail})"
    python = largest == "bench_client" or largest.startswith(("replica", "server"))
    if python and parts[largest] >= 0.75:
        return f"{largest}: a Python process near its one core ({detail})"
    if largest == "postgresql" and parts[largest] >= 0.5:
        return f"postgresql ({detail})"
    return f"no core ({detail}): waits (network, commits, the pipeline's pace)"
