"""Leases on PostgreSQL: taken only when free, renewed only by their holder, and the fence the database
applies to a write under them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from alerting_server.model.fence import Fence, LeaseLost
from alerting_server.model.inbox import InboxKind
from alerting_server.model.step import StepRecord
from alerting_server.store import Store


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Store]:
    store = await Store.open(pg_url)
    try:
        await store.migrate()
        async with store.transaction() as c:
            for table in ("cluster_leases", "cluster_replicas", "alert_inbox"):
                await c.execute(sa.text(f"DELETE FROM {table}"))
        yield store
    finally:
        await store.close()


async def test_a_lease_goes_to_one_replica_until_it_ends(pg: Store) -> None:
    a = await pg.leases.acquire("a", ["rules/0", "rules/1"], 60_000)
    assert a == {"rules/0": 1, "rules/1": 1}
    assert await pg.leases.acquire("b", ["rules/0", "rules/2"], 60_000) == {"rules/2": 1}
    assert await pg.leases.renew("a", a, 60_000) == a
    # b cannot renew what it does not hold, nor a lease at an old epoch.
    assert await pg.leases.renew("b", {"rules/0": 1}, 60_000) == {}


async def test_an_ended_lease_is_taken_over_with_a_new_epoch(pg: Store) -> None:
    await pg.leases.acquire("a", ["pipeline"], 50)
    await asyncio.sleep(0.1)
    # Ended: its holder cannot renew it, another takes it at the next epoch.
    assert await pg.leases.renew("a", {"pipeline": 1}, 60_000) == {}
    assert await pg.leases.acquire("b", ["pipeline"], 60_000) == {"pipeline": 2}


async def test_a_released_lease_is_free_at_once(pg: Store) -> None:
    held = await pg.leases.acquire("a", ["pipeline"], 60_000)
    await pg.leases.release("a", held)
    assert await pg.leases.acquire("b", ["pipeline"], 60_000) == {"pipeline": 2}


async def test_the_database_refuses_a_write_under_a_lost_lease(pg: Store) -> None:
    posted = {"alerts": [], "now": 1}
    held = await pg.leases.acquire("a", ["rules/3"], 60_000)
    fence = Fence("a", held)
    [first] = await pg.inbox.add(InboxKind.RULE, [(0, posted)], 1, fence)
    await pg.leases.release("a", held)
    await pg.leases.acquire("b", ["rules/3"], 60_000)
    with pytest.raises(LeaseLost):
        await pg.inbox.add(InboxKind.RULE, [(0, posted)], 2, fence)
    # Nothing of the refused write is there.
    assert [item.id for item in await pg.inbox.take([0], 10)] == [first]
    # The new holder's fence passes.
    await pg.inbox.add(InboxKind.RULE, [(0, posted)], 3, Fence("b", {"rules/3": 2}))


async def test_an_ended_lease_fences_even_when_nobody_took_it(pg: Store) -> None:
    held = await pg.leases.acquire("a", ["rules/4"], 50)
    await asyncio.sleep(0.1)
    with pytest.raises(LeaseLost):
        await pg.inbox.add(InboxKind.POSTED, [(0, {"alerts": [], "now": 1})], 1, Fence("a", held))


async def test_replicas_are_live_while_they_beat(pg: Store) -> None:
    await pg.leases.heartbeat("a", "127.0.0.1:1", "127.0.0.1:2", 1)
    await pg.leases.heartbeat("b", "127.0.0.1:3", "127.0.0.1:4", 1)
    assert await pg.leases.live_replicas(10_000) == ["a", "b"]
    await pg.leases.leave("b")
    assert await pg.leases.live_replicas(10_000) == ["a"]


async def test_the_database_refuses_a_step_under_a_lost_pipeline_partition_lease(pg: Store) -> None:
    held = await pg.leases.acquire("a", ["pipeline/5"], 60_000)
    fence = Fence("a", held)
    await pg.record_step(StepRecord(consumed=[], fence=fence, at=1))
    await pg.leases.release("a", held)
    taken = await pg.leases.acquire("b", ["pipeline/5"], 60_000)
    # The old owner's step (its inbox items consumed, say) is refused; the new owner's passes.
    [item] = await pg.inbox.add(InboxKind.POSTED, [(5, {"alerts": [], "now": 1})], 1)
    with pytest.raises(LeaseLost):
        await pg.record_step(StepRecord(consumed=[item], fence=fence, at=2))
    assert [i.id for i in await pg.inbox.take([5], 10)] == [item]
    await pg.record_step(StepRecord(consumed=[item], fence=Fence("b", taken), at=3))
    assert await pg.inbox.take([5], 10) == []


async def test_each_partitions_owner_takes_only_its_inbox_items(pg: Store) -> None:
    ids = await pg.inbox.add(InboxKind.POSTED, [(k, {"alerts": [], "now": k}) for k in (1, 2, 3)], 1)
    assert [i.id for i in await pg.inbox.take([1, 3], 10)] == [ids[0], ids[2]]
    assert [i.payload["now"] for i in await pg.inbox.take([2], 10)] == [2]
