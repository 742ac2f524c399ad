"""Routes muted by time intervals, through the live pipeline on a real SQLite store with a set clock.

T0 is Tuesday 2023-11-14 22:13:20 UTC. The route groups by alertname, waits 30s, then flushes every
5 minutes: at T0+30s, T0+5m30s, T0+10m30s...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from alerting_server.alerts.watch import EventType, WatchHub
from alerting_server.model import PostedAlert, Route
from alerting_server.pagination import PageRequest
from alerting_server.pipeline import AlertPipeline
from alerting_server.store import Store
from alerting_server.timeintervals import parse_time_interval
from tests.alerts.helpers import SEC, T0, Clock, pipeline_store, webhook

MIN = 60 * SEC
FLUSHES = [T0 + 30 * SEC + k * 5 * MIN for k in range(12)]


def tree(**muting: tuple[str, ...]) -> Route:
    child = Route(matchers=('alertname="HighCPU"',), **muting)  # type: ignore[arg-type]
    return Route(
        receiver="ops", group_by=("alertname",), group_wait=30 * SEC, group_interval=5 * MIN, routes=(child,)
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with pipeline_store(tmp_path, [webhook("ops")]) as s:
        # 22:00-23:00 UTC; 22:20-23:00 UTC
        for name, start in (("late-evening", "22:00"), ("after-22-20", "22:20")):
            interval = parse_time_interval(name, [{"times": [{"start_time": start, "end_time": "23:00"}]}])
            await s.time_intervals.create(interval, T0)
        yield s


async def deliveries(store: Store) -> list[dict[str, Any]]:
    page = await store.deliveries.list(PageRequest(), channel_id=None, fingerprint=None, status=None)
    return [await store.deliveries.payload(d.id) for d in page.items]


async def pipeline(store: Store, route: Route) -> AlertPipeline:
    await store.routing.put(route, T0)
    m = AlertPipeline(store, Clock(), WatchHub())
    await m.load()
    return m


# Firing for two hours: it outlasts every flush of the tests.
CPU = PostedAlert({"alertname": "HighCPU", "host": "a"}, {}, T0, T0 + 120 * MIN)


async def test_a_muted_route_sends_nothing_inside_the_interval_and_sends_after_it(store: Store) -> None:
    m = await pipeline(store, tree(mute_time_intervals=("late-evening",)))
    _, watcher = m.hub.subscribe(0, m.alerts)
    [fp] = await m.post([CPU])
    assert (await watcher.next()).type is EventType.CREATED

    await m.tick(FLUSHES[0])
    assert await deliveries(store) == []
    # Shown on the alert, stored, and told to watchers as silences are.
    assert m.get(fp).muted_by == ("late-evening",)
    assert (await store.alerts.get(fp)).muted_by == ("late-evening",)
    event = await watcher.next()
    assert (event.type, event.alert.muted_by) == (EventType.UPDATED, ("late-evening",))

    # 22:58:50 is still inside; nothing written to the notification log either.
    for at in FLUSHES[1:10]:
        await m.tick(at)
    assert await deliveries(store) == []
    assert await store.nflog.all() == []

    # 23:03:50: the first flush after the interval sends.
    await m.tick(FLUSHES[10])
    [payload] = await deliveries(store)
    assert [a["labels"]["host"] for a in payload["firing"]] == ["a"]
    assert m.get(fp).muted_by == ()
    event = await watcher.next()
    assert (event.type, event.alert.muted_by) == (EventType.UPDATED, ())


async def test_an_active_route_sends_only_inside_one_of_its_intervals(store: Store) -> None:
    m = await pipeline(store, tree(active_time_intervals=("after-22-20",)))
    [fp] = await m.post([CPU])
    await m.tick(FLUSHES[0])  # 22:13:50
    await m.tick(FLUSHES[1])  # 22:18:50
    assert await deliveries(store) == []
    assert m.get(fp).muted_by == ("after-22-20",)
    await m.tick(FLUSHES[2])  # 22:23:50
    assert len(await deliveries(store)) == 1
    assert m.get(fp).muted_by == ()


async def test_a_changed_time_interval_applies_on_reload(store: Store) -> None:
    m = await pipeline(store, tree(mute_time_intervals=("late-evening",)))
    [fp] = await m.post([CPU])
    await m.tick(FLUSHES[0])
    assert m.get(fp).muted_by == ("late-evening",)
    interval = await store.time_intervals.get_by_name("late-evening")
    changed = parse_time_interval("late-evening", [{"weekdays": ["saturday", "sunday"]}])
    await store.time_intervals.update(interval.id, changed, T0)
    await m.reload()
    await m.tick(FLUSHES[1])
    assert len(await deliveries(store)) == 1
    assert m.get(fp).muted_by == ()
