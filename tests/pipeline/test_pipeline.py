"""The live pipeline against a real SQLite store, stepped with explicit timestamps."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from alerting_server.alerts.watch import EventType, WatchHub
from alerting_server.errors import Unavailable
from alerting_server.model import (
    AlertState,
    Channel,
    ChannelType,
    DeliveryStatus,
    PostedAlert,
    Route,
    Silence,
)
from alerting_server.pagination import PageRequest
from alerting_server.pipeline import AlertPipeline
from alerting_server.store import Store
from alerting_server.store.config_files import ConfigFile
from tests.alerts.helpers import SEC, T0, Clock, pipeline_store, webhook


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    route = Route(receiver="ops", group_by=("alertname",), group_wait=30 * SEC)
    async with pipeline_store(tmp_path, [webhook("ops")], route) as s:
        yield s


async def manager(store: Store, clock: Clock) -> AlertPipeline:
    m = AlertPipeline(store, clock, WatchHub())
    await m.load()
    return m


async def deliveries(store: Store) -> list[dict[str, Any]]:
    page = await store.deliveries.list(PageRequest(), channel_id=None, fingerprint=None, status=None)
    return [await store.deliveries.payload(d.id) for d in page.items]


def cpu(host: str, ends_at: int | None = None) -> PostedAlert:
    return PostedAlert({"alertname": "HighCPU", "host": host}, {"summary": f"cpu on {host}"}, T0, ends_at)


async def test_posted_alerts_are_grouped_and_queued_after_group_wait(store: Store) -> None:
    clock = Clock()
    m = await manager(store, clock)
    _, watcher = m.hub.subscribe(0, m.alerts)
    [fp_a, fp_b] = await m.post([cpu("a"), cpu("b")])
    # Durable before the call returns.
    assert {a.fingerprint for a in await store.alerts.all()} == {fp_a, fp_b}
    assert (await watcher.next()).type is EventType.CREATED
    await m.tick(T0 + 29_999)
    assert await deliveries(store) == []
    await m.tick(T0 + 30_000)
    [payload] = await deliveries(store)
    assert payload["receiver"] == "ops"
    assert payload["group_labels"] == {"alertname": "HighCPU"}
    assert sorted(a["labels"]["host"] for a in payload["firing"]) == ["a", "b"]
    assert m.receivers(m.get(fp_a)) == ["ops"]
    [group] = m.groups()
    assert set(group.alerts) == {fp_a, fp_b}


async def test_posting_the_same_labels_again_updates_the_one_alert(store: Store) -> None:
    m = await manager(store, Clock())
    first = await m.post([cpu("a")])
    again = await m.post(
        [PostedAlert({"host": "a", "alertname": "HighCPU"}, {"summary": "new"}, T0 + 5 * SEC)]
    )
    assert first == again
    [alert] = m.alerts()
    assert alert.annotations == {"summary": "new"}
    assert alert.started_at == T0


async def test_silenced_alerts_are_not_notified_and_say_why(store: Store) -> None:
    clock = Clock()
    silence = await store.silences.create(
        Silence(('host="a"',), T0 - SEC, T0 + 3600 * SEC, "alice", "maintenance"), T0
    )
    m = await manager(store, clock)
    [fp] = await m.post([cpu("a")])
    await m.tick(T0 + 30 * SEC)
    assert m.get(fp).silenced_by == (silence.id,)
    assert (await store.alerts.get(fp)).silenced_by == (silence.id,)
    assert await deliveries(store) == []


async def test_without_ends_at_an_alert_resolves_after_the_resolve_timeout(store: Store) -> None:
    clock = Clock()
    m = await manager(store, clock)
    [fp] = await m.post([cpu("a")])
    await m.tick(T0 + 30 * SEC)
    assert len(await deliveries(store)) == 1
    await m.tick(T0 + 5 * 60 * SEC - 1)
    assert m.get(fp).state is AlertState.FIRING
    await m.tick(T0 + 5 * 60 * SEC)
    assert m.get(fp).state is AlertState.RESOLVED
    # The group notifies the resolution at its next group_interval (5m after the first flush).
    await m.tick(T0 + 30 * SEC + 5 * 60 * SEC)
    resolved = (await deliveries(store))[-1]
    assert [a["fingerprint"] for a in resolved["resolved"]] == [fp]
    # Resolved alerts are kept 15 minutes, then dropped.
    await m.tick(T0 + 5 * 60 * SEC + 15 * 60 * SEC)
    assert m.alerts() == []
    assert await store.alerts.all() == []


async def test_a_loaded_alertmanager_files_resolve_timeout_is_the_one_applied(store: Store) -> None:
    source = "/etc/alertmanager/alertmanager.yml"
    hook = Channel(
        "team", ChannelType.WEBHOOK, {"url": "http://127.0.0.1:9/a"}, receiver="team", source=source
    )
    file = ConfigFile(
        kind="alertmanager",
        source=source,
        original="",
        sha256="0" * 64,
        settings={"resolve_timeout": 60_000},
        channels=[hook],
        route=Route(receiver="team", group_by=("alertname",)),
        inhibit_rules=[],
        time_intervals=[],
        templates=[],
    )
    await store.config_files.apply(file, T0)
    m = await manager(store, Clock())
    [fp] = await m.post([cpu("a")])
    await m.tick(T0 + 60 * SEC - 1)
    assert m.get(fp).state is AlertState.FIRING
    await m.tick(T0 + 60 * SEC)
    assert m.get(fp).state is AlertState.RESOLVED


async def test_an_alert_that_fires_and_resolves_inside_group_wait_is_never_notified(store: Store) -> None:
    m = await manager(store, Clock())
    await m.post([cpu("a", ends_at=T0 + 10 * SEC)])
    await m.tick(T0 + 10 * SEC)
    await m.tick(T0 + 30 * SEC)
    await m.tick(T0 + 10 * 60 * SEC)
    assert await deliveries(store) == []


async def test_a_restart_does_not_notify_again(store: Store) -> None:
    clock = Clock()
    m = await manager(store, clock)
    await m.post([cpu("a")])
    await m.tick(T0 + 30 * SEC)
    assert len(await deliveries(store)) == 1
    again = await manager(store, clock)
    # Re-posted by Prometheus after our restart: same alert, nothing new to say.
    for t in (T0 + 31 * SEC, T0 + 60 * SEC, T0 + 6 * 60 * SEC):
        clock.now = t
        await again.post([cpu("a")])
        await again.tick(t)
    assert len(await deliveries(store)) == 1


async def test_after_a_restart_alerts_still_resolve_at_their_time_and_the_loop_wakes_for_it(
    store: Store,
) -> None:
    clock = Clock()
    m = await manager(store, clock)
    [fp] = await m.post([cpu("a")])
    await m.tick(T0 + 30 * SEC)
    again = await manager(store, clock)
    assert await again.tick(T0 + 31 * SEC) <= T0 + 5 * 60 * SEC
    await again.tick(T0 + 5 * 60 * SEC - 1)
    assert again.get(fp).state is AlertState.FIRING
    # Resolved alerts are dropped 15 minutes later: the next deadline says so.
    assert await again.tick(T0 + 5 * 60 * SEC) <= T0 + 20 * 60 * SEC
    assert again.get(fp).state is AlertState.RESOLVED
    assert (await store.alerts.get(fp)).state is AlertState.RESOLVED


async def test_a_routing_change_applies_on_reload(store: Store) -> None:
    clock = Clock()
    pager = await store.channels.create(
        Channel(name="pager", type=ChannelType.WEBHOOK, config={"url": "http://y"}), T0
    )
    m = await manager(store, clock)
    await store.routing.put(
        Route(receiver="ops", group_wait=0, routes=(Route(receiver=pager.id, matchers=('host="a"',)),)), T0
    )
    await m.reload()
    [fp] = await m.post([cpu("a")])
    await m.tick(T0)
    [payload] = await deliveries(store)
    assert payload["receiver"] == "pager"
    assert m.receivers(m.get(fp)) == ["pager"]


async def test_every_queued_delivery_is_pending_with_a_stable_key(store: Store) -> None:
    m = await manager(store, Clock())
    await m.post([cpu("a")])
    await m.tick(T0 + 30 * SEC)
    page = await store.deliveries.list(PageRequest(), channel_id=None, fingerprint=None, status=None)
    [d] = page.items
    assert d.status is DeliveryStatus.PENDING
    assert len(d.idempotency_key) == 32
    assert d.next_attempt_at == T0 + 30 * SEC


async def test_a_failed_commit_is_redone_not_lost(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    m = await manager(store, Clock())
    await m.post([cpu("a")])

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(store.deliveries, "add_many_in", disk_full)
        # The store says an error of the disk as the database being unavailable, with the reason.
        with pytest.raises(Unavailable, match="disk full"):
            await m.tick(T0 + 30 * SEC)
    assert await deliveries(store) == []
    # The pipeline goes back to what was committed: the flush (and its nflog mark) happens again.
    await m.reload_state()
    await m.tick(T0 + 31 * SEC)
    assert len(await deliveries(store)) == 1


async def test_queued_notifications_wake_the_delivery_side_with_their_channels(store: Store) -> None:
    m = await manager(store, Clock())
    woken: list[Collection[str]] = []
    m.on_queued = woken.append
    await m.post([cpu("a")])
    assert woken == []
    await m.tick(T0 + 30 * SEC)
    [ops] = [c for c in await store.channels.all() if c.name == "ops"]
    assert woken == [{ops.id}]


def _unroutable(receiver: str, outcome: str) -> float:
    labels = {"receiver": receiver, "outcome": outcome}
    return REGISTRY.get_sample_value("alerting_notifications_unroutable_total", labels) or 0.0


def _db(name: str) -> PostedAlert:
    return PostedAlert({"alertname": name, "team": "db"}, {}, T0)


@pytest.mark.parametrize(
    ("fallback", "outcome", "level", "receivers"),
    [("spare", "fallback", logging.WARNING, ["spare", "spare"]), ("", "dropped", logging.ERROR, [])],
)
async def test_a_receiver_that_is_no_channel_is_counted_logged_once_and_falls_back(
    store: Store,
    caplog: pytest.LogCaptureFixture,
    fallback: str,
    outcome: str,
    level: int,
    receivers: list[str],
) -> None:
    await store.channels.create(
        Channel(name="spare", type=ChannelType.WEBHOOK, config={"url": "http://y"}), T0
    )
    tree = Route(
        receiver="ops",
        group_by=("alertname",),
        group_wait=30 * SEC,
        routes=(Route(matchers=('team="db"',), receiver="gone"),),
    )
    await store.routing.put(tree, T0)
    m = AlertPipeline(store, Clock(), WatchHub(), fallback_receiver=fallback)
    await m.load()
    before = _unroutable("gone", outcome)
    caplog.set_level(logging.WARNING, logger="alerting_server.alerts.dispatch.receivers")

    await m.post([_db("DiskFull"), _db("SlowQueries")])
    await m.tick(T0 + 30 * SEC)

    assert sorted(p["receiver"] for p in await deliveries(store)) == receivers
    assert _unroutable("gone", outcome) == before + 2
    [record] = [r for r in caplog.records if "'gone'" in r.getMessage()]
    assert record.levelno == level
    # Said again after the configuration changed, still once.
    await m.reload()
    await m.post([_db("Replication")])
    await m.tick(T0 + 60 * SEC)
    assert len([r for r in caplog.records if "'gone'" in r.getMessage()]) == 2
    assert _unroutable("gone", outcome) == before + 3


async def test_a_receiver_of_several_channels_notifies_each_under_its_own_key(store: Store) -> None:
    for name in ("team-db-webhook-0", "team-db-webhook-1"):
        await store.channels.create(
            Channel(
                name=name, type=ChannelType.WEBHOOK, config={"url": f"http://{name}"}, receiver="team-db"
            ),
            T0,
        )
    tree = Route(
        receiver="ops",
        group_by=("alertname",),
        group_wait=30 * SEC,
        routes=(Route(matchers=('team="db"',), receiver="team-db"),),
    )
    await store.routing.put(tree, T0)
    m = await manager(store, Clock())
    before = _unroutable("team-db", "dropped")

    await m.post([_db("DiskFull")])
    await m.tick(T0 + 30 * SEC)

    page = await store.deliveries.list(PageRequest(), channel_id=None, fingerprint=None, status=None)
    channels = {c.id: c.name for c in await store.channels.all()}
    assert sorted(channels[d.channel_id] for d in page.items) == ["team-db-webhook-0", "team-db-webhook-1"]
    assert len({d.idempotency_key for d in page.items}) == 2
    # The payload names the receiver, as Alertmanager's webhook body does.
    assert [p["receiver"] for p in await deliveries(store)] == ["team-db", "team-db"]
    assert _unroutable("team-db", "dropped") == before
