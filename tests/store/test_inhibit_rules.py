from __future__ import annotations

import pytest

from alerting_server.errors import NotFound
from alerting_server.model import InhibitRule
from alerting_server.pagination import PageRequest
from alerting_server.store import Store

NOW = 1_700_000_000_000
RULE = InhibitRule(('severity="critical"',), ('severity="warning"',), ("host", "cluster"))


async def test_create_get_delete(store: Store) -> None:
    created = await store.inhibit_rules.create(RULE, NOW)
    assert created.id
    assert (created.created_at, created.updated_at) == (NOW, NOW)
    assert await store.inhibit_rules.get(created.id) == created
    await store.inhibit_rules.delete(created.id)
    assert await store.inhibit_rules.all() == []


async def test_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="'i1'"):
        await store.inhibit_rules.get("i1")
    with pytest.raises(NotFound, match="'i1'"):
        await store.inhibit_rules.delete("i1")


async def test_list_pages(store: Store) -> None:
    created = [await store.inhibit_rules.create(RULE, NOW + i) for i in range(3)]
    first = await store.inhibit_rules.list(PageRequest(size=2))
    second = await store.inhibit_rules.list(PageRequest.parse(2, first.next_page_token, "inhibit_rules"))
    assert first.items + second.items == created
    assert await store.inhibit_rules.all() == created
