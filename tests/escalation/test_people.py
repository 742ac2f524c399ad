"""Escalation through people: a level pages users and whoever is on call in a schedule when the level is
reached; a level that pages nobody falls through; a person's link acknowledges as them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from alerting_server.ack import Acknowledgements
from alerting_server.ack.links import AckLinks
from alerting_server.alerts.watch import WatchHub
from alerting_server.model import (
    ChannelType,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    HistoryEventType,
    Layer,
    Override,
    PostedAlert,
    Route,
    Schedule,
    User,
)
from alerting_server.pagination import PageRequest
from alerting_server.pipeline import AlertPipeline
from alerting_server.store import Store
from tests.alerts.helpers import SEC, T0, Clock, pipeline_store, webhook

MIN = 60 * SEC
HOUR = 60 * MIN
LONG = T0 + 1000 * MIN


def person(name: str) -> User:
    return User(
        name=name,
        email=f"{name}@example.org",
        time_zone="UTC",
        contact_methods=(ContactMethod(ChannelType.WEBHOOK, f"http://{name}.example.org/hook"),),
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with pipeline_store(tmp_path, [webhook("ops"), webhook("manager")]) as s:
        yield s


async def setup(store: Store, *levels: EscalationLevel, layer_start: int = T0 - 50 * MIN) -> dict[str, str]:
    """ana, bo and cy; schedule "primary" hands over every hour from `layer_start` (ana first)."""
    ids = {name: (await store.users.create(person(name), T0)).id for name in ("ana", "bo", "cy")}
    layer = Layer(name="hourly", start=layer_start, turn_length=HOUR, users=(ids["ana"], ids["bo"]))
    schedule = await store.schedules.create(Schedule(name="primary", time_zone="UTC", layers=(layer,)), T0)
    ids["primary"] = schedule.id
    policy = await store.escalation_policies.create(EscalationPolicy(name="infra", levels=levels), T0)
    await store.routing.put(Route(receiver="ops", group_wait=60 * MIN, escalation_policy_id=policy.id), T0)
    return ids


LINKS = AckLinks(b"k" * 32, "https://alerting.example.org")


async def started(store: Store, clock: Clock) -> AlertPipeline:
    m = AlertPipeline(store, clock, WatchHub(), links=LINKS)
    await m.load()
    return m


def cpu() -> PostedAlert:
    return PostedAlert({"alertname": "HighCPU", "host": "a"}, {}, T0, LONG)


async def pages(store: Store) -> list[tuple[str, int, str]]:
    """(channel, level, the person its link acknowledges as) of every escalation notification."""
    page = await store.deliveries.list(PageRequest(size=1000))
    names = {c.id: c.name for c in await store.channels.all()}
    out = []
    for d in page.items:
        payload = await store.deliveries.payload(d.id)
        if payload.get("reason") == "escalation":
            person = LINKS.verify(str(payload["ack_url"]).rsplit("/", 1)[1], T0).person
            out.append((names[d.channel_id], int(payload["escalation_level"]), person))
    # By level; within one, by channel name (their rows are made at the same millisecond).
    return sorted(out, key=lambda p: (p[1], p[0]))


async def test_a_schedule_level_pages_whoever_is_on_call_when_it_is_reached(store: Store) -> None:
    await setup(
        store,
        EscalationLevel(0, (), schedules=("primary",)),
        EscalationLevel(15 * MIN, (), schedules=("primary",)),
        EscalationLevel(20 * MIN, ("manager",), users=("cy",)),
    )
    clock = Clock()
    m = await started(store, clock)
    await m.post([cpu()])
    assert await pages(store) == [("ana-webhook", 0, "ana")]
    # The handoff at T0 + 10m: level 1 pages bo, who is on call by then.
    for minute in (10, 15, 20):
        clock.now = T0 + minute * MIN
        await m.tick(clock.now)
    assert await pages(store) == [
        ("ana-webhook", 0, "ana"),
        ("bo-webhook", 1, "bo"),
        ("cy-webhook", 2, "cy"),
        ("manager", 2, ""),
    ]


async def test_an_override_is_who_the_level_pages(store: Store) -> None:
    ids = await setup(store, EscalationLevel(0, (), schedules=("primary",)))
    await store.schedules.add_override(
        Override(user=ids["cy"], start=T0 - MIN, end=T0 + MIN, schedule_id=ids["primary"]), T0
    )
    m = await started(store, Clock())
    await m.post([cpu()])
    assert await pages(store) == [("cy-webhook", 0, "cy")]


async def test_a_gap_falls_through_to_the_next_level_and_the_history_says_so(store: Store) -> None:
    # The layer starts an hour after the alert fires: nobody is on call at level 0.
    await setup(
        store,
        EscalationLevel(0, (), schedules=("primary",)),
        EscalationLevel(30 * MIN, (), users=("bo",)),
        layer_start=T0 + HOUR,
    )
    m = await started(store, Clock())
    [fp] = await m.post([cpu()])
    assert await pages(store) == [("bo-webhook", 1, "bo")]
    history = (await store.history.list(fp, PageRequest(size=1000))).items
    events = [e for e in history if e.type is HistoryEventType.ESCALATION]
    assert [(e.level, e.message) for e in events] == [
        (
            0,
            "level 0 of escalation policy 'infra'; nobody is on call in schedule 'primary'; "
            "nobody was paged: falls through to level 1",
        ),
        (1, "level 1 of escalation policy 'infra'"),
    ]
    assert m.get(fp).escalation_level == 1


async def test_an_ack_through_a_persons_link_records_them_and_stops_the_climb(store: Store) -> None:
    await setup(
        store,
        EscalationLevel(0, (), schedules=("primary",)),
        EscalationLevel(15 * MIN, ("manager",)),
    )
    clock = Clock()
    m = await started(store, clock)
    await m.post([cpu()])
    page = await store.deliveries.list(PageRequest(size=10))
    [url] = [str((await store.deliveries.payload(d.id))["ack_url"]) for d in page.items]
    acks = Acknowledgements(m, clock, LINKS, store.history)
    clock.now = T0 + MIN
    alert = await acks.acknowledge_by_link(url.rsplit("/", 1)[1], by="")
    assert alert.ack is not None
    assert alert.ack.by == "ana"
    clock.now = T0 + 30 * MIN
    await m.tick(clock.now)
    assert [name for name, _, _ in await pages(store)] == ["ana-webhook"]


async def test_an_ack_acknowledges_the_pagerduty_incidents_of_the_people_paged(store: Store) -> None:
    ids = await setup(store, EscalationLevel(0, (), schedules=("primary",)))
    pager = ContactMethod(ChannelType.PAGERDUTY, "0123456789abcdef0123456789abcdef")
    ana = await store.users.get(ids["ana"])
    await store.users.update(
        ana.id, User(ana.name, ana.email, ana.time_zone, (*ana.contact_methods, pager)), T0
    )
    clock = Clock()
    m = await started(store, clock)
    [fp] = await m.post([cpu()])
    assert [name for name, _, _ in await pages(store)] == ["ana-pagerduty", "ana-webhook"]
    clock.now = T0 + MIN
    await m.acknowledge(fp, "ana")
    page = await store.deliveries.list(PageRequest(size=100))
    names = {c.id: c.name for c in await store.channels.all()}
    acks = [
        names[d.channel_id]
        for d in page.items
        if (await store.deliveries.payload(d.id)).get("action") == "acknowledge"
    ]
    assert acks == ["ana-pagerduty"]
    # Paged once: a restart of the pipeline reads whom it paged back from the store.
    [esc] = await store.escalations.all()
    assert [names[c] for c in esc.paged] == ["ana-webhook", "ana-pagerduty"]
