from __future__ import annotations

import dataclasses

import pytest

from alerting_server.errors import AlreadyExists, FailedPrecondition, NotFound
from alerting_server.model import Route
from alerting_server.pagination import PageRequest
from alerting_server.store import Store
from alerting_server.timeintervals import TimeInterval, parse_time_interval

NOW = 1_700_000_000_000
WEEKEND = parse_time_interval("weekend", [{"weekdays": ["saturday", "sunday"], "location": "Europe/Berlin"}])
NIGHT = parse_time_interval(
    "night", [{"times": [{"start_time": "00:00", "end_time": "06:00"}]}, {"times": []}]
)


def tree(**child: tuple[str, ...]) -> Route:
    return Route(receiver="ops", routes=(Route(matchers=('team="db"',), **child),))  # type: ignore[arg-type]


async def test_create_get_update_delete(store: Store) -> None:
    created = await store.time_intervals.create(WEEKEND, NOW)
    assert created.id
    assert (created.created_at, created.updated_at, created.source) == (NOW, NOW, "")
    assert await store.time_intervals.get(created.id) == created
    assert await store.time_intervals.get_by_name("weekend") == created
    assert await store.time_intervals.resolve("weekend") == created.id
    assert await store.time_intervals.resolve(created.id) == created.id
    # the specs come back as stored, empty fields included
    night = await store.time_intervals.create(NIGHT, NOW + 1)
    assert (await store.time_intervals.get(night.id)).specs == NIGHT.specs

    updated = await store.time_intervals.update(
        created.id, dataclasses.replace(NIGHT, name="weekend-night"), NOW + 5
    )
    assert (updated.id, updated.name, updated.created_at, updated.updated_at) == (
        created.id,
        "weekend-night",
        NOW,
        NOW + 5,
    )
    assert await store.time_intervals.get(created.id) == updated
    await store.time_intervals.delete(created.id)
    assert await store.time_intervals.all() == [night]


async def test_names_are_unique(store: Store) -> None:
    await store.time_intervals.create(WEEKEND, NOW)
    other = await store.time_intervals.create(NIGHT, NOW)
    with pytest.raises(AlreadyExists, match="'weekend'"):
        await store.time_intervals.create(WEEKEND, NOW)
    with pytest.raises(AlreadyExists, match="'weekend'"):
        await store.time_intervals.update(other.id, WEEKEND, NOW)


async def test_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="'t1'"):
        await store.time_intervals.get("t1")
    with pytest.raises(NotFound, match="'t1'"):
        await store.time_intervals.delete("t1")
    with pytest.raises(NotFound, match="'t1'"):
        await store.time_intervals.update("t1", WEEKEND, NOW)
    with pytest.raises(NotFound, match="'t1'"):
        await store.time_intervals.resolve("t1")
    with pytest.raises(NotFound, match="'t1'"):
        await store.time_intervals.get_by_name("t1")


async def test_list_pages(store: Store) -> None:
    created = [
        await store.time_intervals.create(dataclasses.replace(WEEKEND, name=f"w{i}"), NOW + i)
        for i in range(3)
    ]
    first = await store.time_intervals.list(PageRequest(size=2))
    second = await store.time_intervals.list(PageRequest.parse(2, first.next_page_token, "time_intervals"))
    assert first.items + second.items == created
    assert second.next_page_token == ""


@pytest.mark.parametrize("field", ["mute_time_intervals", "active_time_intervals"])
async def test_one_a_route_names_is_neither_deleted_nor_renamed(store: Store, field: str) -> None:
    created = await store.time_intervals.create(WEEKEND, NOW)
    await store.routing.put(tree(**{field: ("night", "weekend")}), NOW)
    with pytest.raises(FailedPrecondition, match=r"time interval 'weekend' is in use") as caught:
        await store.time_intervals.delete(created.id)
    assert [(v.type, v.subject) for v in caught.value.violations] == [
        ("route", f"routing.routes[0].{field}[1]")
    ]
    assert 'route {team="db"} (routes[0])' in caught.value.message
    with pytest.raises(FailedPrecondition, match="in use"):
        await store.time_intervals.update(created.id, dataclasses.replace(WEEKEND, name="renamed"), NOW)
    # the specs of one in use may change, under the same name
    await store.time_intervals.update(created.id, dataclasses.replace(NIGHT, name="weekend"), NOW)
    await store.routing.put(tree(), NOW)
    await store.time_intervals.delete(created.id)
    assert await store.time_intervals.all() == []


async def test_replace_all_owns_the_files_intervals(store: Store) -> None:
    api = await store.time_intervals.create(WEEKEND, NOW)
    await store.time_intervals.replace_all("/etc/alertmanager.yml", [NIGHT], NOW + 1)
    night = await store.time_intervals.get_by_name("night")
    assert (night.source, night.created_at, night.updated_at) == ("/etc/alertmanager.yml", NOW + 1, NOW + 1)

    # a later load keeps the id and created_at of an interval by the same name, removes the others
    lunch = parse_time_interval("lunch", [{"times": [{"start_time": "12:00", "end_time": "13:00"}]}])
    changed_night = dataclasses.replace(lunch, name="night")
    await store.time_intervals.replace_all("/etc/alertmanager.yml", [changed_night, lunch], NOW + 2)
    by_name = {i.name: i for i in await store.time_intervals.all()}
    assert set(by_name) == {"weekend", "night", "lunch"}
    assert (by_name["night"].id, by_name["night"].created_at) == (night.id, NOW + 1)
    assert by_name["night"].specs == lunch.specs
    assert by_name["weekend"] == api

    await store.time_intervals.replace_all("/etc/alertmanager.yml", [], NOW + 3)
    assert await store.time_intervals.all() == [api]


async def test_replace_all_refuses_a_name_another_owner_has(store: Store) -> None:
    await store.time_intervals.create(WEEKEND, NOW)
    await store.time_intervals.replace_all("/etc/a.yml", [NIGHT], NOW)
    with pytest.raises(AlreadyExists, match="owned by the API"):
        await store.time_intervals.replace_all("/etc/b.yml", [WEEKEND], NOW)
    with pytest.raises(AlreadyExists, match=r"owned by the configuration file /etc/a\.yml"):
        await store.time_intervals.replace_all("/etc/b.yml", [NIGHT], NOW)
    with pytest.raises(AlreadyExists, match="not unique"):
        await store.time_intervals.replace_all("/etc/a.yml", [NIGHT, NIGHT], NOW)
    # nothing half-written
    assert {(i.name, i.source) for i in await store.time_intervals.all()} == {
        ("weekend", ""),
        ("night", "/etc/a.yml"),
    }


async def test_the_api_cannot_change_or_delete_what_a_file_owns(store: Store) -> None:
    await store.time_intervals.replace_all("/etc/alertmanager.yml", [NIGHT], NOW)
    owned = await store.time_intervals.get_by_name("night")
    with pytest.raises(FailedPrecondition, match=r"owned by the configuration file /etc/alertmanager\.yml"):
        await store.time_intervals.update(owned.id, NIGHT, NOW)
    with pytest.raises(FailedPrecondition, match=r"owned by the configuration file /etc/alertmanager\.yml"):
        await store.time_intervals.delete(owned.id)
    assert await store.time_intervals.get(owned.id) == owned


async def test_the_routing_tree_is_written_knowing_the_names(store: Store) -> None:
    await store.time_intervals.create(WEEKEND, NOW)
    seen: list[frozenset[str]] = []
    await store.routing.put(tree(), NOW, check=lambda known: seen.append(known.time_intervals))
    assert seen == [frozenset({"weekend"})]


def test_a_time_interval_is_a_value() -> None:
    assert TimeInterval("x") == TimeInterval("x", ())
