from __future__ import annotations

from alerting_server.store import Store

NOW = 1_700_000_000_000


async def test_put_replaces_and_get_reads_back(store: Store) -> None:
    assert await store.stage_state.get("dispatcher") is None
    await store.stage_state.put("dispatcher", {"version": 1, "groups": []}, NOW)
    await store.stage_state.put("dispatcher", {"version": 1, "groups": [{"id": "g"}]}, NOW + 1)
    assert await store.stage_state.get("dispatcher") == {"version": 1, "groups": [{"id": "g"}]}
    assert await store.stage_state.get("other") is None


async def test_put_joins_the_callers_transaction(store: Store) -> None:
    try:
        async with store.transaction() as connection:
            await store.stage_state.put("dispatcher", {"n": 1}, NOW, connection=connection)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert await store.stage_state.get("dispatcher") is None
