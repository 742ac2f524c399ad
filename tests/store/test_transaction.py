from __future__ import annotations

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
