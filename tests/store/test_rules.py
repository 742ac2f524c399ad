from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import Rule, RuleHealth, RuleType
from alerting_server.model.rule import RuleHealthRow
from alerting_server.pagination import PageRequest
from alerting_server.store import Store
from alerting_server.store.rules import Applied

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
    stored = [r.rule for r in await store.rules.replace_groups(imported, NOW + 1)]
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


async def test_replace_groups_again_with_the_same_rules_changes_nothing(store: Store) -> None:
    file = [rule("a", group="g1", annotations={"summary": "x"}), rule("b", group="g1"), rule("c", group="g2")]
    first = await store.rules.replace_groups(file, NOW)
    await store.rules.set_health(first[0].rule.id, RuleHealth.OK, NOW + 5, "", 3)
    before = await store.rules.all()
    again = await store.rules.replace_groups(file, NOW + 10)
    assert [r.applied for r in again] == [Applied.UNCHANGED] * 3
    assert [r.rule for r in again] == before
    assert await store.rules.all() == before
    assert before[0].health is RuleHealth.OK


async def test_replace_groups_updates_a_changed_rule_in_place(store: Store) -> None:
    first = await store.rules.replace_groups([rule("a", group="g"), rule("b", group="g")], NOW)
    await store.rules.set_health(first[0].rule.id, RuleHealth.ERR, NOW + 5, "boom", 3)
    changed = rule("a", group="g", annotations={"summary": "new"}, duration=60_000)
    again = await store.rules.replace_groups([changed, rule("b", group="g")], NOW + 10)
    assert [r.applied for r in again] == [Applied.UPDATED, Applied.UNCHANGED]
    assert again[0].rule == dataclasses.replace(
        changed, id=first[0].rule.id, created_at=NOW, updated_at=NOW + 10
    )
    assert again[0].rule.health is RuleHealth.UNKNOWN
    assert await store.rules.all() == [again[0].rule, first[1].rule]


async def test_replace_groups_creates_new_rules_deletes_missing_ones_and_keeps_the_file_order(
    store: Store,
) -> None:
    first = await store.rules.replace_groups([rule("a", group="g"), rule("gone", group="g")], NOW)
    added = await store.rules.create(rule("api", group="g"), NOW + 1)
    again = await store.rules.replace_groups([rule("new", group="g"), rule("a", group="g")], NOW + 10)
    assert [r.applied for r in again] == [Applied.CREATED, Applied.UNCHANGED]
    assert again[0].rule.created_at == NOW + 10
    assert again[1].rule == first[0].rule
    # Order is the file's even though the unchanged rule is older than the new one.
    assert [r.name for r in await store.rules.all()] == ["new", "a"]
    with pytest.raises(NotFound):
        await store.rules.get(added.id)


async def test_rules_of_one_name_are_matched_by_severity_then_in_order(store: Store) -> None:
    """Several alerting rules may share a name in a group (one per severity here): the one of the same
    severity is the same rule; the others pair up in their order among the rules of that name."""
    warning, critical = (
        rule("cpu", group="g", severity="warning"),
        rule("cpu", group="g", severity="critical"),
    )
    first = [r.rule for r in await store.rules.replace_groups([warning, critical], NOW)]
    swapped = await store.rules.replace_groups([critical, warning], NOW + 10)
    assert [r.applied for r in swapped] == [Applied.UNCHANGED, Applied.UNCHANGED]
    assert [r.rule.id for r in swapped] == [first[1].id, first[0].id]
    assert [r.severity for r in await store.rules.all()] == ["critical", "warning"]

    info, page = rule("cpu", group="g", severity="info"), rule("cpu", group="g", severity="page")
    renamed = await store.rules.replace_groups([page, warning, info], NOW + 20)
    assert [r.applied for r in renamed] == [Applied.UPDATED, Applied.UNCHANGED, Applied.CREATED]
    assert [r.rule.id for r in renamed[:2]] == [first[1].id, first[0].id]
    assert [r.severity for r in await store.rules.all()] == ["page", "warning", "info"]


async def test_replace_groups_with_a_duplicate_matching_a_stored_rule_changes_nothing(store: Store) -> None:
    before = [r.rule for r in await store.rules.replace_groups([rule("a", group="g")], NOW)]
    with pytest.raises(AlreadyExists, match="'a'"):
        await store.rules.replace_groups([rule("a", group="g"), rule("a", group="g", query="x")], NOW + 1)
    assert await store.rules.all() == before


async def test_update_with_the_same_definition_changes_nothing(store: Store) -> None:
    created = await store.rules.create(rule(), NOW)
    await store.rules.set_health(created.id, RuleHealth.OK, NOW + 5, "", 3)
    stored = await store.rules.get(created.id)
    assert await store.rules.update(created.id, rule(), NOW + 10) == stored
    assert await store.rules.get(created.id) == stored


async def test_a_created_rule_runs_after_the_rules_of_its_group(store: Store) -> None:
    await store.rules.replace_groups([rule("b", group="g"), rule("a", group="g")], NOW)
    await store.rules.create(rule("c", group="g"), NOW)
    moved = await store.rules.create(rule("d", group="other"), NOW)
    await store.rules.update(moved.id, rule("d", group="g"), NOW)
    assert [r.name for r in await store.rules.all()] == ["b", "a", "c", "d"]


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
    rules = [
        r.rule
        for r in await store.rules.replace_groups([rule(f"r{i}", group="big") for i in range(4_500)], NOW)
    ]
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

    rules = [
        r.rule
        for r in await store.rules.replace_groups([rule(f"r{i}", group="big") for i in range(20_000)], NOW)
    ]
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
