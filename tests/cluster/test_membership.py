"""A replica's leases on PostgreSQL while the work under them is slow to start: the renewals go on
meanwhile (a takeover that reads a lot must not let the leases run out and be taken again), and the
changes of the work run in their order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection

import pytest

from alerting_server.cluster.membership import Membership
from alerting_server.store import Store
from alerting_server.tasks import cancel
from tests.pg import temporary_database

TTL_MS = 600
# A start of the work that outlasts the TTL several times over.
SLOW_START_S = 3 * TTL_MS / 1000


class Work:
    """What the replica was told to run, change by change, and how long a start takes."""

    def __init__(self, start_s: float = 0.0) -> None:
        self.start_s = start_s
        self.changes: list[tuple[str, frozenset[str]]] = []
        self.running: set[str] = set()

    async def gained(self, names: Collection[str]) -> None:
        self.changes.append(("start", frozenset(names)))
        await asyncio.sleep(self.start_s)
        self.running |= set(names)
        self.changes.append(("started", frozenset(names)))

    async def lost(self, names: Collection[str]) -> None:
        self.running -= set(names)
        self.changes.append(("stopped", frozenset(names)))


def membership(store: Store, replica: str, work: Work) -> Membership:
    return Membership(
        store.leases,
        replica,
        address=f"{replica}:1",
        http_address=f"{replica}:2",
        started_at=int(time.time() * 1000),
        ttl_ms=TTL_MS,
        partitions=2,
        pipeline_partitions=2,
        on_gained=work.gained,
        on_lost=work.lost,
    )


ALL = frozenset({"rules/0", "rules/1", "pipeline/0", "pipeline/1"})


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    async with temporary_database() as url:
        store = await Store.open(url)
        await store.start(int(time.time() * 1000))
        try:
            yield store
        finally:
            await store.close()


async def test_a_start_that_outlasts_the_ttl_keeps_its_leases(store: Store) -> None:
    work = Work(SLOW_START_S)
    m = membership(store, "a", work)
    await m.start()
    try:
        # start() returns with the work started, and the leases were renewed all along.
        assert work.running == ALL
        assert m.fence(sorted(ALL)) is not None
        await asyncio.sleep(2 * TTL_MS / 1000)
        assert m.fence(sorted(ALL)) is not None
        assert work.changes == [("start", ALL), ("started", ALL)]
        assert {row.name: row.epoch for row in await store.leases.all()} == dict.fromkeys(ALL, 1)
    finally:
        await m.stop()
    assert work.running == set()


async def test_a_dead_replicas_leases_are_taken_over_once_by_a_slow_start(store: Store) -> None:
    first = Work()
    a = membership(store, "a", first)
    await a.start()
    assert first.running == ALL
    # As SIGKILL: nothing more from the first replica, its leases run out.
    await cancel(a._task, a._watchdog)

    second = Work(SLOW_START_S)
    b = membership(store, "b", second)
    await b.start()
    try:
        deadline = time.monotonic() + 4 * TTL_MS / 1000 + SLOW_START_S
        while second.running != ALL:
            assert time.monotonic() < deadline, second.changes
            await asyncio.sleep(0.05)
        await asyncio.sleep(2 * TTL_MS / 1000)
        assert b.fence(sorted(ALL)) is not None
        # Taken once each (epoch 2), started once, never stopped: no lease ran out under the start.
        leases = {row.name: (row.holder, row.epoch) for row in await store.leases.all()}
        assert leases == dict.fromkeys(ALL, ("b", 2))
        assert [kind for kind, _ in second.changes if kind == "stopped"] == []
        assert frozenset().union(*(names for kind, names in second.changes if kind == "started")) == ALL
    finally:
        await b.stop()


async def test_the_changes_of_the_work_run_in_their_order(store: Store) -> None:
    """A replica that joins makes the first give half back while the first one's start still runs:
    the stop of that half comes after its start, never before (which would leave it running)."""
    work = Work(SLOW_START_S)
    a = membership(store, "a", work)
    start = asyncio.create_task(a.start())
    await asyncio.sleep(TTL_MS / 1000)
    assert work.changes == [("start", ALL)]
    b = membership(store, "b", Work())
    await b.start()
    a.wake()
    await start
    try:
        deadline = time.monotonic() + 4 * TTL_MS / 1000
        while len(work.running) != 2:
            assert time.monotonic() < deadline, work.changes
            await asyncio.sleep(0.05)
        kinds = [kind for kind, _ in work.changes]
        assert kinds[:2] == ["start", "started"]
        assert "stopped" in kinds[2:]
        assert work.running == set(a.held)
        assert len(a.held) == 2
        assert len(b.held) == 2
    finally:
        await b.stop()
        await a.stop()
