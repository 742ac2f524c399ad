"""Escalation through the live pipeline on a real SQLite store: a 0s/10m/30m policy in milliseconds."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from alerting_server.alerts.watch import WatchHub
from alerting_server.errors import Unavailable
from alerting_server.model import (
    AlertState,
    EscalationLevel,
    EscalationPolicy,
    HistoryEventType,
    PostedAlert,
    Route,
    Rule,
    Silence,
)
from alerting_server.pagination import PageRequest
from alerting_server.pipeline import AlertPipeline
from alerting_server.store import Store
from alerting_server.timeintervals import parse_time_interval
from tests.alerts.helpers import SEC, T0, Clock, firing, pagerduty, pipeline_store, webhook

MIN = 60 * SEC
LONG = T0 + 1000 * MIN  # ends_at far away: the alert keeps firing without being posted again


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    channels = [webhook("ops"), webhook("slack"), webhook("manager"), pagerduty("pager")]
    async with pipeline_store(tmp_path, channels) as s:
        yield s


async def policy(store: Store, **changes: object) -> EscalationPolicy:
    p = EscalationPolicy(
        name="infra",
        levels=(
            EscalationLevel(0, ("slack",)),
            EscalationLevel(10 * MIN, ("pager",)),
            EscalationLevel(30 * MIN, ("manager",)),
        ),
    )
    return await store.escalation_policies.create(dataclasses.replace(p, **changes), T0)  # type: ignore[arg-type]


async def route_to(store: Store, policy_id: str) -> None:
    # group_wait of an hour: what reaches the channels below comes from the escalation alone.
    route = Route(receiver="ops", group_wait=60 * MIN, escalation_policy_id=policy_id)
    await store.routing.put(route, T0)


async def started(store: Store, clock: Clock) -> AlertPipeline:
    m = AlertPipeline(store, clock, WatchHub())
    await m.load()
    return m


def cpu(host: str = "a", ends_at: int = LONG) -> PostedAlert:
    return PostedAlert({"alertname": "HighCPU", "host": host}, {}, T0, ends_at)


async def sent(store: Store) -> list[tuple[str, int]]:
    """(receiver, escalation level) of every escalation notification queued so far."""
    page = await store.deliveries.list(PageRequest(size=1000))
    payloads = [await store.deliveries.payload(d.id) for d in page.items]
    return [
        (str(p["receiver"]), int(p["escalation_level"])) for p in payloads if p.get("reason") == "escalation"
    ]


async def run(m: AlertPipeline, clock: Clock, minutes: list[int]) -> None:
    for minute in minutes:
        clock.now = T0 + minute * MIN
        await m.tick(clock.now)


async def test_an_unacknowledged_alert_climbs_every_level_once(store: Store) -> None:
    p = await policy(store)
    await route_to(store, p.id)
    clock = Clock()
    m = await started(store, clock)
    [fp] = await m.post([cpu()])
    assert await sent(store) == [("slack", 0)]
    await run(m, clock, [1, 9, 10, 11, 29, 30, 31, 100])
    assert await sent(store) == [("slack", 0), ("pager", 1), ("manager", 2)]
    assert m.get(fp).escalation_level == 2
    assert (await store.alerts.get(fp)).escalation_level == 2
    steps = (await store.history.list(fp, PageRequest(size=1000))).items
    assert [e.level for e in steps if e.type is HistoryEventType.ESCALATION] == [0, 1, 2]


async def test_the_next_step_is_when_the_pipeline_wakes_next(store: Store) -> None:
    p = await policy(store)
    await route_to(store, p.id)
    m = await started(store, Clock())
    await m.post([cpu()])
    assert await m.tick(T0 + MIN) == T0 + MIN + 10 * SEC  # at most MAX_SLEEP_MS
    assert min(await m.tick(T0 + 9 * MIN + 55 * SEC), T0 + 10 * MIN) == T0 + 10 * MIN


async def test_acknowledging_at_level_1_stops_the_climb_and_unacknowledging_resumes_it(store: Store) -> None:
    p = await policy(store)
    await route_to(store, p.id)
    clock = Clock()
    m = await started(store, clock)
    [fp] = await m.post([cpu()])
    await run(m, clock, [10, 15])
    await m.acknowledge(fp, "alice", "mine")
    await run(m, clock, [16, 30, 45, 60])
    assert await sent(store) == [("slack", 0), ("pager", 1)]
    # Acknowledged with 15 minutes left before level 2: unacknowledged at 60m, it comes at 75m.
    await m.unacknowledge(fp, "alice")
    await run(m, clock, [61, 74])
    assert await sent(store) == [("slack", 0), ("pager", 1)]
    await run(m, clock, [75])
    assert await sent(store) == [("slack", 0), ("pager", 1), ("manager", 2)]


async def test_acknowledging_tells_the_pagerduty_level_it_reached(store: Store) -> None:
    p = await policy(store)
    await route_to(store, p.id)
    clock = Clock()
    m = await started(store, clock)
    [fp] = await m.post([cpu()])
    await run(m, clock, [10])
    await m.acknowledge(fp, "alice")
    page = await store.deliveries.list(PageRequest(size=1000))
    acks = [
        payload
        for d in page.items
        if (payload := await store.deliveries.payload(d.id)).get("action") == "acknowledge"
    ]
    assert acks == [{"action": "acknowledge", "receiver": "pager", "group_key": f"escalation/{p.id}/{fp}"}]


async def test_resolve_ends_the_escalation(store: Store) -> None:
    p = await policy(store)
    await route_to(store, p.id)
    clock = Clock()
    m = await started(store, clock)
    [fp] = await m.post([cpu(ends_at=T0 + 5 * MIN)])
    await run(m, clock, [5, 10, 19])
    assert m.get(fp).state is AlertState.RESOLVED
    await run(m, clock, [30, 60])
    assert await sent(store) == [("slack", 0)]


async def test_a_silenced_alert_does_not_climb(store: Store) -> None:
    p = await policy(store)
    await route_to(store, p.id)
    await store.silences.create(Silence(('host="a"',), T0, T0 + 20 * MIN, "ann", "maintenance"), T0)
    clock = Clock()
    m = await started(store, clock)
    await m.post([cpu()])
    await run(m, clock, [1, 10, 19])
    assert await sent(store) == []
    # The time silenced does not count: the climb starts when the silence ends.
    await run(m, clock, [20, 29, 30])
    assert await sent(store) == [("slack", 0), ("pager", 1)]


async def test_the_policy_is_the_one_in_force_when_the_alert_fired(store: Store) -> None:
    p = await policy(store)
    await route_to(store, p.id)
    clock = Clock()
    m = await started(store, clock)
    await m.post([cpu()])
    edited = EscalationPolicy(name="infra", levels=(EscalationLevel(0, ("ops",)),))
    await store.escalation_policies.update(p.id, edited, T0 + MIN)
    await run(m, clock, [10, 30])
    assert await sent(store) == [("slack", 0), ("pager", 1), ("manager", 2)]


async def test_the_rules_policy_wins_over_the_routes(store: Store) -> None:
    by_route = await policy(store)
    by_rule = await policy(store, name="rule-policy", levels=(EscalationLevel(0, ("manager",)),))
    await route_to(store, by_route.id)
    rule = await store.rules.create(
        Rule(name="HighCPU", query="cpu > 1", severity="page", escalation_policy_id=by_rule.id), T0
    )
    clock = Clock()
    m = await started(store, clock)
    await m.apply([firing({"alertname": "HighCPU", "host": "a"}, T0, rule_id=rule.id, rule="HighCPU")])
    await run(m, clock, [0, 10])
    assert await sent(store) == [("manager", 0)]


async def test_the_policy_repeats_then_stops(store: Store) -> None:
    p = await policy(store, repeat=1)
    await route_to(store, p.id)
    clock = Clock()
    m = await started(store, clock)
    await m.post([cpu()])
    await run(m, clock, list(range(0, 300, 5)))
    assert await sent(store) == [("slack", 0), ("pager", 1), ("manager", 2)] * 2


async def test_an_acknowledgement_timeout_restarts_from_level_0(store: Store) -> None:
    p = await policy(store, ack_timeout=20 * MIN)
    await route_to(store, p.id)
    clock = Clock()
    m = await started(store, clock)
    [fp] = await m.post([cpu()])
    await run(m, clock, [10, 12])
    await m.acknowledge(fp, "alice")
    await run(m, clock, [20, 31])
    assert await sent(store) == [("slack", 0), ("pager", 1)]
    await run(m, clock, [32])
    assert not m.get(fp).acknowledged
    assert await sent(store) == [("slack", 0), ("pager", 1), ("slack", 0)]
    await run(m, clock, [42])
    assert await sent(store) == [("slack", 0), ("pager", 1), ("slack", 0), ("pager", 1)]
    kinds = [e.type for e in (await store.history.list(fp, PageRequest(size=1000))).items]
    assert HistoryEventType.UNACKNOWLEDGED in kinds


async def test_a_restart_between_levels_neither_skips_nor_repeats_one(store: Store) -> None:
    p = await policy(store)
    await route_to(store, p.id)
    clock = Clock()
    m = await started(store, clock)
    await m.post([cpu()])
    await run(m, clock, [10])
    # A new process on the same database, as after SIGKILL: nothing in memory survives.
    again = await started(store, clock)
    await run(again, clock, [10, 11, 29])
    assert await sent(store) == [("slack", 0), ("pager", 1)]
    await run(again, clock, [30, 31])
    assert await sent(store) == [("slack", 0), ("pager", 1), ("manager", 2)]


async def test_a_failed_commit_leaves_the_step_to_be_redone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = await policy(store)
    await route_to(store, p.id)
    clock = Clock()
    m = await started(store, clock)
    await m.post([cpu()])

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(store.deliveries, "add_many_in", disk_full)
        with pytest.raises(Unavailable, match="disk full"):
            await run(m, clock, [10])
    await m.reload_state()
    await run(m, clock, [11])
    assert await sent(store) == [("slack", 0), ("pager", 1)]


async def test_a_level_channel_that_is_gone_is_replaced_by_the_fallback_receiver(store: Store) -> None:
    # Escalations keep the policy as it was when the alert fired: a channel may be gone since.
    p = await policy(
        store, levels=(EscalationLevel(0, ("slack", "gone")), EscalationLevel(10 * MIN, ("gone",)))
    )
    await route_to(store, p.id)
    clock = Clock()
    m = AlertPipeline(store, clock, WatchHub(), fallback_receiver="manager")
    await m.load()
    [fp] = await m.post([cpu()])
    await run(m, clock, [10])
    assert sorted(await sent(store)) == [("manager", 0), ("manager", 1), ("slack", 0)]
    steps = (await store.history.list(fp, PageRequest(size=1000))).items
    assert [e.message for e in steps if e.type is HistoryEventType.ESCALATION] == [
        "level 0 of escalation policy 'infra'; no such channel: gone",
        "level 1 of escalation policy 'infra'; no such channel: gone",
    ]


async def test_an_alert_whose_routes_are_muted_by_time_does_not_climb_meanwhile(store: Store) -> None:
    # T0 is 22:13:20 UTC: muted until 22:20, as the route's notifications are.
    night = parse_time_interval("evening", [{"times": [{"start_time": "22:00", "end_time": "22:20"}]}])
    await store.time_intervals.create(night, T0)
    p = await policy(store)
    route = Route(
        receiver="ops", group_wait=60 * MIN, escalation_policy_id=p.id, mute_time_intervals=("evening",)
    )
    await store.routing.put(route, T0)
    clock = Clock()
    m = await started(store, clock)
    await m.post([cpu()])
    await run(m, clock, [1, 5])
    assert await sent(store) == []
    await run(m, clock, [7])
    assert await sent(store) == [("slack", 0)]
    # The muted minutes do not count: level 1 is 10 minutes after the climb started, not after T0.
    await run(m, clock, [10, 16])
    assert await sent(store) == [("slack", 0)]
    await run(m, clock, [18])
    assert await sent(store) == [("slack", 0), ("pager", 1)]
