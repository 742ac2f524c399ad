from __future__ import annotations

import dataclasses

import pytest

from alerting_server.model import (
    Alert,
    AlertHistoryEvent,
    AlertState,
    Delivery,
    DeliveryStatus,
    HistoryEventType,
)
from alerting_server.pagination import PageRequest
from alerting_server.store import Store

NOW = 1_700_000_000_000
FIRING = Alert("a", {"alertname": "x"}, AlertState.FIRING, started_at=NOW, fired_at=NOW, updated_at=NOW)
OUTBOX = Delivery("d1", "c1", DeliveryStatus.PENDING, fingerprints=("a",), created_at=NOW, updated_at=NOW)
EVENT = AlertHistoryEvent("a", HistoryEventType.STATE_CHANGE, NOW, state=AlertState.FIRING)


async def test_writes_joined_in_one_transaction_commit_together(store: Store) -> None:
    async with store.transaction() as connection:
        await store.alerts.upsert_many([FIRING], connection)
        await store.deliveries.add(OUTBOX, {"status": "firing"}, connection)
        await store.history.append([EVENT], connection)
    assert await store.alerts.all() == [FIRING]
    assert (await store.deliveries.list(PageRequest())).items == [OUTBOX]
    assert len((await store.history.list("a", PageRequest())).items) == 1


async def test_writes_joined_in_one_transaction_roll_back_together(store: Store) -> None:
    async def crash_before_commit() -> None:
        async with store.transaction() as connection:
            await store.alerts.upsert_many([FIRING], connection)
            await store.deliveries.add(OUTBOX, {"status": "firing"}, connection)
            await store.history.append([EVENT], connection)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError, match="crash"):
        await crash_before_commit()
    assert await store.alerts.all() == []
    assert (await store.deliveries.list(PageRequest())).items == []
    assert (await store.history.list("a", PageRequest())).items == []


async def test_a_writer_committing_back_to_back_does_not_starve_another(store: Store) -> None:
    """Many short transactions in a row (a large batch written in chunks) and one other writer: the
    other one is served in its turn, not after the whole batch (nor failed by the busy timeout)."""
    import asyncio

    order: list[str] = []

    async def batch() -> None:
        for i in range(40):
            async with store.transaction() as connection:
                await store.history.append([dataclasses.replace(EVENT, id=f"e{i}")], connection)
                await asyncio.sleep(0.01)
            order.append(f"chunk{i}")

    async def other() -> None:
        await asyncio.sleep(0.05)
        async with store.transaction() as connection:
            await store.alerts.upsert_many([FIRING], connection)
        order.append("other")

    await asyncio.gather(batch(), other())
    assert order.index("other") < 15, order
