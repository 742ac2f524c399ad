from __future__ import annotations

import asyncio
import dataclasses

import pytest

from alerting_server.errors import FailedPrecondition
from alerting_server.model import Channel, ChannelType, InhibitRule, Route
from alerting_server.store import Store
from alerting_server.store.config_files import ConfigFile, TemplateFile, TimeIntervalRow

NOW = 1_700_000_000_000
SOURCE = "/etc/alertmanager/alertmanager.yml"


def _file(channels: list[Channel], source: str = SOURCE, **changes: object) -> ConfigFile:
    file = ConfigFile(
        kind="alertmanager",
        source=source,
        original="route: ...",
        sha256="0" * 64,
        settings={"resolve_timeout": 300_000, "empty_receivers": ["blackhole"]},
        channels=channels,
        route=Route(receiver="ops"),
        inhibit_rules=[
            InhibitRule(('severity="critical"',), ('severity="warning"',), ("alertname",), source=source)
        ],
        time_intervals=[
            TimeIntervalRow("nights", [{"times": [{"start_time": "00:00", "end_time": "06:00"}]}])
        ],
        templates=[TemplateFile("/etc/alertmanager/a.tmpl", '{{ define "x" }}x{{ end }}')],
    )
    return dataclasses.replace(file, **changes)  # type: ignore[arg-type]


def _hook(name: str, url: str = "http://127.0.0.1:9/a", source: str = SOURCE) -> Channel:
    return Channel(
        name, ChannelType.WEBHOOK, {"url": url, "style": "alertmanager"}, receiver=name, source=source
    )


async def test_apply_replaces_what_the_file_owns_and_keeps_the_rest(store: Store) -> None:
    mine = await store.channels.create(Channel("api-made", ChannelType.WEBHOOK, {"url": "http://x"}), NOW)
    api_rule = await store.inhibit_rules.create(InhibitRule(("a=b",), ("c=d",)), NOW)
    applied = await store.config_files.apply(_file([_hook("ops"), _hook("db")]), NOW)
    assert sorted(applied.created) == ["db", "ops"]
    channels = {c.name: c for c in await store.channels.all()}
    assert set(channels) == {"api-made", "ops", "db"}
    ops_id = channels["ops"].id
    assert channels["ops"].source == SOURCE
    assert channels["ops"].receiver == "ops"
    assert (await store.routing.get()) == Route(receiver="ops")
    assert await store.routing.source() == SOURCE
    assert sorted(r.source for r in await store.inhibit_rules.all()) == ["", SOURCE]
    state = await store.config_files.get("alertmanager")
    assert state is not None
    assert (state.path, state.loaded_at, state.error) == (SOURCE, NOW, "")
    assert await store.config_files.empty_receivers() == frozenset({"blackhole"})
    assert [t.name for t in await store.time_intervals.all()] == ["nights"]
    assert [t.name for t in await store.notification_templates.list()] == ["/etc/alertmanager/a.tmpl"]

    # Again, changed: "ops" keeps its id, "db" goes, "web" comes; the API's objects stay.
    applied = await store.config_files.apply(
        _file([_hook("ops", "http://127.0.0.1:9/b"), _hook("web")], time_intervals=[], templates=[]), NOW + 1
    )
    assert (applied.created, applied.updated, applied.deleted) == (["web"], ["ops"], ["db"])
    channels = {c.name: c for c in await store.channels.all()}
    assert set(channels) == {"api-made", "ops", "web"}
    assert channels["ops"].id == ops_id
    assert channels["ops"].config["url"] == "http://127.0.0.1:9/b"
    assert channels["api-made"] == mine
    rules = await store.inhibit_rules.all()
    assert [r.id for r in rules if not r.source] == [api_rule.id]
    assert len(rules) == 2
    assert await store.time_intervals.all() == []
    assert await store.notification_templates.list() == []


async def test_a_name_taken_by_the_api_refuses_the_whole_file(store: Store) -> None:
    await store.channels.create(Channel("ops", ChannelType.WEBHOOK, {"url": "http://x"}), NOW)
    with pytest.raises(FailedPrecondition, match="'ops' exists and is owned by the API"):
        await store.config_files.apply(_file([_hook("ops"), _hook("db")]), NOW)
    assert [c.name for c in await store.channels.all()] == ["ops"]
    assert await store.routing.get() is None
    assert await store.inhibit_rules.all() == []
    assert await store.config_files.get("alertmanager") is None


async def test_failure_is_kept_beside_the_last_good_load(store: Store) -> None:
    await store.config_files.failed("alertmanager", SOURCE, "line 3: route.receiver: bad", NOW)
    state = await store.config_files.get("alertmanager")
    assert state is not None
    assert (state.loaded_at, state.attempted_at, state.error) == (None, NOW, "line 3: route.receiver: bad")
    await store.config_files.apply(_file([_hook("ops")]), NOW + 1)
    await store.config_files.failed("alertmanager", SOURCE, "again", NOW + 2)
    state = await store.config_files.get("alertmanager")
    assert state is not None
    assert (state.loaded_at, state.attempted_at, state.error, state.original) == (
        NOW + 1,
        NOW + 2,
        "again",
        "route: ...",
    )


async def test_another_source_replaces_the_previous_one(store: Store) -> None:
    await store.config_files.apply(_file([_hook("ops"), _hook("db")]), NOW)
    other = "import:am.yml"
    await store.config_files.apply(
        _file([_hook("ops", source=other)], source=other, inhibit_rules=[]), NOW + 1
    )
    channels = await store.channels.all()
    assert [(c.name, c.source) for c in channels] == [("ops", other)]
    assert await store.inhibit_rules.all() == []
    assert await store.routing.source() == other


async def test_concurrent_applies_of_one_file_both_succeed(store: Store) -> None:
    file = _file([_hook("ops"), _hook("db")])
    await asyncio.gather(store.config_files.apply(file, NOW), store.config_files.apply(file, NOW + 1))
    assert sorted(c.name for c in await store.channels.all()) == ["db", "ops"]
    assert len(await store.inhibit_rules.all()) == 1


async def test_an_unchanged_inhibit_rule_keeps_its_id_across_reloads(store: Store) -> None:
    file = _file([_hook("ops")])
    await store.config_files.apply(file, 1)
    [before] = await store.inhibit_rules.all()
    await store.config_files.apply(file, 2)
    [after] = await store.inhibit_rules.all()
    assert (after.id, after.created_at) == (before.id, before.created_at)
    changed = dataclasses.replace(
        file, inhibit_rules=[dataclasses.replace(file.inhibit_rules[0], equal=("cluster",))]
    )
    await store.config_files.apply(changed, 3)
    [other] = await store.inhibit_rules.all()
    assert other.id != before.id
    assert other.equal == ("cluster",)
