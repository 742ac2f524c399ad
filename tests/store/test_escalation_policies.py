from __future__ import annotations

import pytest

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import EscalationLevel, EscalationPolicy
from alerting_server.pagination import PageRequest
from alerting_server.store import Store

NOW = 1_700_000_000_000
INFRA = EscalationPolicy(
    name="infra",
    levels=(EscalationLevel(0, ("ops-slack",)), EscalationLevel(600_000, ("pager", "ops-slack"))),
    repeat=2,
    ack_timeout=3_600_000,
)


async def test_create_get_and_get_by_name(store: Store) -> None:
    created = await store.escalation_policies.create(INFRA, NOW)
    assert created.id
    assert created.levels == INFRA.levels
    assert await store.escalation_policies.get(created.id) == created
    assert await store.escalation_policies.get_by_name("infra") == created


async def test_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="'p1'"):
        await store.escalation_policies.get("p1")
    with pytest.raises(NotFound, match="'infra'"):
        await store.escalation_policies.get_by_name("infra")
    with pytest.raises(NotFound, match="'p1'"):
        await store.escalation_policies.update("p1", INFRA, NOW)
    with pytest.raises(NotFound, match="'p1'"):
        await store.escalation_policies.delete("p1")


async def test_duplicate_name_is_already_exists_and_writes_nothing(store: Store) -> None:
    first = await store.escalation_policies.create(INFRA, NOW)
    with pytest.raises(AlreadyExists, match="infra"):
        await store.escalation_policies.create(EscalationPolicy(name="infra", levels=()), NOW)
    assert await store.escalation_policies.all() == [first]


async def test_update_and_delete(store: Store) -> None:
    created = await store.escalation_policies.create(INFRA, NOW)
    other = await store.escalation_policies.create(EscalationPolicy(name="db", levels=()), NOW + 1)
    changed = EscalationPolicy(name="infra-2", levels=(EscalationLevel(60_000, ("x",)),), repeat=0)
    updated = await store.escalation_policies.update(created.id, changed, NOW + 1)
    assert (updated.id, updated.created_at, updated.updated_at, updated.ack_timeout) == (
        created.id,
        NOW,
        NOW + 1,
        None,
    )
    assert await store.escalation_policies.get(created.id) == updated
    with pytest.raises(AlreadyExists, match="'db'"):
        await store.escalation_policies.update(created.id, EscalationPolicy(name="db", levels=()), NOW + 2)
    await store.escalation_policies.delete(other.id)
    assert await store.escalation_policies.all() == [updated]


async def test_list_pages(store: Store) -> None:
    created = [
        await store.escalation_policies.create(EscalationPolicy(name=f"p{i}", levels=()), NOW + i)
        for i in range(3)
    ]
    first = await store.escalation_policies.list(PageRequest(size=2))
    second = await store.escalation_policies.list(
        PageRequest.parse(2, first.next_page_token, "escalation_policies")
    )
    assert first.items + second.items == created
    assert second.next_page_token == ""
