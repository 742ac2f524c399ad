from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import Rule, RuleHealth, RuleType
from alerting_server.pagination import PageRequest
from alerting_server.store import Store
from alerting_server.store.rules import RuleHealthRow

NOW = 1_700_000_000_000


def rule(name: str = "high_cpu", group: str = "default", severity: str = "warning", **kw: Any) -> Rule:
    return dataclasses.replace(
        Rule(name=name, query="avg(cpu_usage) > 80", group=group, severity=severity), **kw
    )


async def test_create_assigns_id_and_timestamps_and_round_trips(store: Store) -> None:
    full = rule(
        duration=300_000,
        keep_firing_for=60_000,
        labels={"team": "infra"},
        annotations={"summary": "CPU is {{ $value }}"},
        interval=15_000,
        datasource="prom",
        escalation_policy_id="p1",
    )
    created = await store.rules.create(full, NOW)
    assert created.id
    assert (created.created_at, created.updated_at) == (NOW, NOW)
    assert created == dataclasses.replace(full, id=created.id, created_at=NOW, updated_at=NOW)
    assert await store.rules.get(created.id) == created


async def test_recording_rule_round_trips(store: Store) -> None:
    created = await store.rules.create(rule("job:up:sum", type=RuleType.RECORDING, severity=""), NOW)
    assert (await store.rules.get(created.id)).type is RuleType.RECORDING


async def test_missing_rule_is_not_found_by_id(store: Store) -> None:
    with pytest.raises(NotFound, match="nope"):
        await store.rules.get("nope")
    with pytest.raises(NotFound, match="nope"):
        await store.rules.update("nope", rule(), NOW)
    with pytest.raises(NotFound, match="nope"):
        await store.rules.delete("nope")
    with pytest.raises(NotFound, match="nope"):
        await store.rules.set_health("nope", RuleHealth.OK, NOW, "", 3)


async def test_duplicate_group_name_severity_is_already_exists_and_writes_nothing(store: Store) -> None:
    first = await store.rules.create(rule(), NOW)
    with pytest.raises(AlreadyExists, match="high_cpu"):
        await store.rules.create(rule(query="other"), NOW + 1)
    assert await store.rules.all() == [first]


async def test_same_name_is_allowed_in_another_group_or_severity(store: Store) -> None:
    await store.rules.create(rule(), NOW)
    await store.rules.create(rule(group="other"), NOW)
    await store.rules.create(rule(severity="critical"), NOW)
    assert len(await store.rules.all()) == 3


async def test_update_replaces_definition_keeps_id_and_created_at(store: Store) -> None:
    created = await store.rules.create(rule(), NOW)
    await store.rules.set_health(created.id, RuleHealth.ERR, NOW + 5, "boom", 7)
    changed = rule(name="renamed", labels={"a": "b"}, duration=1000)
    updated = await store.rules.update(created.id, changed, NOW + 10)
    assert updated == dataclasses.replace(changed, id=created.id, created_at=NOW, updated_at=NOW + 10)
    assert updated.health is RuleHealth.UNKNOWN
    assert await store.rules.get(created.id) == updated


async def test_update_onto_another_rules_name_is_already_exists(store: Store) -> None:
    await store.rules.create(rule("a"), NOW)
    b = await store.rules.create(rule("b"), NOW)
    with pytest.raises(AlreadyExists, match="'a'"):
        await store.rules.update(b.id, rule("a"), NOW + 1)
    assert (await store.rules.get(b.id)).name == "b"


async def test_delete(store: Store) -> None:
    created = await store.rules.create(rule(), NOW)
    await store.rules.delete(created.id)
    with pytest.raises(NotFound):
        await store.rules.get(created.id)


async def test_list_pages_in_creation_order(store: Store) -> None:
    created = [await store.rules.create(rule(f"r{i}"), NOW + i) for i in range(5)]
    seen: list[Rule] = []
    token = ""
    pages = 0
    while True:
        page = await store.rules.list(PageRequest.parse(2, token, "rules"))
        seen.extend(page.items)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert seen == created
    assert await store.rules.all() == created


async def test_exact_last_page_has_no_next_token(store: Store) -> None:
    for i in range(2):
        await store.rules.create(rule(f"r{i}"), NOW)
    page = await store.rules.list(PageRequest(size=2))
    assert len(page.items) == 2
    assert page.next_page_token == ""


async def test_replace_groups_replaces_only_the_named_groups(store: Store) -> None:
    await store.rules.create(rule("old", group="g1"), NOW)
    await store.rules.create(rule("old", group="g2"), NOW)
    kept = await store.rules.create(rule("kept", group="untouched"), NOW)
    imported = [rule("z", group="g1"), rule("a", group="g1"), rule("new", group="g2")]
    stored = await store.rules.replace_groups(imported, NOW + 1)
    assert [(r.group, r.name) for r in stored] == [("g1", "z"), ("g1", "a"), ("g2", "new")]
    assert all(r.id and r.created_at == NOW + 1 for r in stored)
    # File order survives even though the rules share created_at.
    assert await store.rules.all() == [kept, *stored]


async def test_replace_groups_is_atomic(store: Store) -> None:
    before = [await store.rules.create(rule("old", group="g1"), NOW)]
    duplicate = [rule("new", group="g1"), rule("dup", group="g1"), rule("dup", group="g1")]
    with pytest.raises(AlreadyExists, match="dup"):
        await store.rules.replace_groups(duplicate, NOW + 1)
    assert await store.rules.all() == before


async def test_replace_groups_with_nothing_changes_nothing(store: Store) -> None:
    before = [await store.rules.create(rule(), NOW)]
    assert await store.rules.replace_groups([], NOW) == []
    assert await store.rules.all() == before


async def test_set_health(store: Store) -> None:
    created = await store.rules.create(rule(), NOW)
    await store.rules.set_health(created.id, RuleHealth.ERR, NOW + 15_000, "bad query", 12)
    got = await store.rules.get(created.id)
    assert (got.health, got.last_evaluation, got.last_error, got.last_evaluation_duration) == (
        RuleHealth.ERR,
        NOW + 15_000,
        "bad query",
        12,
    )
    assert got.updated_at == NOW


async def test_set_health_many_writes_every_row_of_a_large_batch(store: Store) -> None:
    rules = await store.rules.replace_groups([rule(f"r{i}", group="big") for i in range(4_500)], NOW)
    rows = [RuleHealthRow(r.id, RuleHealth.OK, NOW + i, "", i % 7) for i, r in enumerate(rules)]
    await store.rules.set_health_many([*rows, RuleHealthRow("deleted", RuleHealth.ERR, NOW, "x", 1)])
    got = {r.id: (r.health, r.last_evaluation) for r in await store.rules.all()}
    assert got == {r.id: (RuleHealth.OK, NOW + i) for i, r in enumerate(rules)}


async def test_in_groups_reads_only_the_named_groups(store: Store) -> None:
    await store.rules.replace_groups(
        [rule("a", group="g1"), rule("b", group="g2"), rule("c", group="g3")], NOW
    )
    names = [(r.group, r.name) for r in await store.rules.in_groups(["g3", "g1", "nope"])]
    assert sorted(names) == [("g1", "a"), ("g3", "c")]
    many = [f"x{i}" for i in range(1_200)]
    assert [r.name for r in await store.rules.in_groups([*many, "g2"])] == ["b"]


async def test_a_large_health_write_lets_other_writers_in(store: Store) -> None:
    """Health of many rules is written in chunks; a writer that comes meanwhile (a notification claim, the
    alert pipeline) is served between two of them, not after all of them."""
    import asyncio

    rules = await store.rules.replace_groups([rule(f"r{i}", group="big") for i in range(20_000)], NOW)
    rows = [RuleHealthRow(r.id, RuleHealth.OK, NOW, "", 1) for r in rules]
    order: list[str] = []

    async def health() -> None:
        await store.rules.set_health_many(rows)
        order.append("health")

    async def other() -> None:
        await asyncio.sleep(0.02)
        await store.rules.create(rule("other", group="elsewhere"), NOW)
        order.append("other")

    await asyncio.gather(health(), other())
    assert order == ["other", "health"]
