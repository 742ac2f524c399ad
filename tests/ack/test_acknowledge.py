"""Acknowledgement and history in the live pipeline, on a real SQLite store, at explicit times."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from alerting_server.ack.links import AckLinks
from alerting_server.alerts.watch import EventType, WatchHub
from alerting_server.api.alerts import with_delivery_outcomes
from alerting_server.errors import FailedPrecondition, NotFound
from alerting_server.model import (
    AlertState,
    Channel,
    ChannelType,
    HistoryEventType,
    PostedAlert,
    Route,
    Silence,
)
from alerting_server.pagination import PageRequest
from alerting_server.pipeline import AlertPipeline
from alerting_server.store import Store
from alerting_server.store.tables import deliveries
from tests.alerts.helpers import SEC, T0, Clock, pagerduty, pipeline_store, webhook


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    route = Route(
        receiver="ops",
        group_by=("alertname",),
        group_wait=0,
        routes=(Route(receiver="pd", matchers=('host="a"',), continue_=True),),
    )
    async with pipeline_store(tmp_path, [webhook("ops"), pagerduty("pd")], route) as s:
        yield s


async def started(store: Store, clock: Clock) -> AlertPipeline:
    m = AlertPipeline(store, clock, WatchHub())
    await m.load()
    return m


def cpu(host: str, ends_at: int | None = None) -> PostedAlert:
    return PostedAlert({"alertname": "HighCPU", "host": host}, {"summary": f"cpu on {host}"}, T0, ends_at)


async def events(store: Store, fp: str) -> list[tuple[HistoryEventType, str]]:
    page = await store.history.list(fp, PageRequest(size=1000))
    return [(e.type, e.by or e.channel or e.message) for e in page.items]


async def payloads(store: Store) -> list[dict[str, object]]:
    page = await store.deliveries.list(PageRequest(size=1000))
    return [await store.deliveries.payload(d.id) for d in page.items]


async def test_an_acknowledgement_is_durable_watched_and_recorded(store: Store) -> None:
    clock = Clock()
    m = await started(store, clock)
    [fp] = await m.post([cpu("b")])
    _, watcher = m.hub.subscribe(0, m.alerts)
    clock.now = T0 + 5 * SEC
    acked = await m.acknowledge(fp, "alice", "looking")
    assert acked.ack is not None
    assert (acked.ack.by, acked.ack.comment, acked.ack.at) == ("alice", "looking", T0 + 5 * SEC)
    # Committed before the call returns, without a pipeline step.
    assert (await store.alerts.get(fp)).ack == acked.ack
    event = await watcher.next()
    assert (event.type, event.alert.acknowledged) == (EventType.ACKNOWLEDGED, True)
    assert (await events(store, fp))[-1] == (HistoryEventType.ACKNOWLEDGED, "alice")

    clock.now = T0 + 6 * SEC
    unacked = await m.unacknowledge(fp, "bob")
    assert unacked.ack is None
    assert (await store.alerts.get(fp)).ack is None
    assert (await watcher.next()).type is EventType.UNACKNOWLEDGED
    assert (await events(store, fp))[-1] == (HistoryEventType.UNACKNOWLEDGED, "bob")
    # A restart sees the same.
    again = await started(store, clock)
    assert again.get(fp).ack is None


async def test_later_posts_keep_the_acknowledgement_until_the_alert_fires_anew(store: Store) -> None:
    clock = Clock()
    m = await started(store, clock)
    [fp] = await m.post([cpu("b")])
    await m.acknowledge(fp, "alice")
    await m.post([cpu("b")])
    assert m.get(fp).acknowledged
    clock.now = T0 + 10 * SEC
    await m.post([cpu("b", ends_at=T0 + 10 * SEC)])
    assert m.get(fp).state is AlertState.RESOLVED
    with pytest.raises(FailedPrecondition):
        await m.acknowledge(fp, "alice")
    clock.now = T0 + 20 * SEC
    await m.post([PostedAlert({"alertname": "HighCPU", "host": "b"}, {}, T0 + 20 * SEC)])
    assert m.get(fp).state is AlertState.FIRING
    assert not m.get(fp).acknowledged


async def test_acknowledging_an_unknown_alert_is_not_found(store: Store) -> None:
    m = await started(store, Clock())
    with pytest.raises(NotFound):
        await m.acknowledge("0123456789abcdef", "alice")
    with pytest.raises(NotFound):
        await m.unacknowledge("0123456789abcdef", "alice")


async def test_pagerduty_channels_of_the_alert_get_an_acknowledge(store: Store) -> None:
    clock = Clock()
    m = await started(store, clock)
    [fp_a, fp_b] = await m.post([cpu("a"), cpu("b")])
    await m.tick(T0)
    sent = await payloads(store)
    assert sorted(str(p["receiver"]) for p in sent) == ["ops", "pd"]
    pd_group = next(p["group_key"] for p in sent if p["receiver"] == "pd")
    await m.acknowledge(fp_a, "alice")
    acks = [p for p in await payloads(store) if p.get("action") == "acknowledge"]
    # Only the PagerDuty receiver has an incident to acknowledge; the webhook gets nothing.
    assert acks == [{"action": "acknowledge", "receiver": "pd", "group_key": pd_group}]
    # Host b reaches no PagerDuty channel, and acknowledging twice does not acknowledge again.
    await m.acknowledge(fp_b, "alice")
    await m.acknowledge(fp_a, "bob", "mine now")
    assert len([p for p in await payloads(store) if p.get("action") == "acknowledge"]) == 1
    assert m.get(fp_a).ack is not None
    assert m.get(fp_a).ack.by == "bob"  # type: ignore[union-attr]


async def test_history_has_every_change_in_order_with_delivery_outcomes(store: Store) -> None:
    clock = Clock()
    m = await started(store, clock)
    [fp] = await m.post([cpu("b")])
    await m.tick(T0)
    silence = await store.silences.create(Silence(('host="b"',), T0, T0 + 60 * SEC, "ann", "quiet"), T0)
    await m.reload()
    await m.tick(T0 + SEC)
    clock.now = T0 + 2 * SEC
    await m.acknowledge(fp, "alice", "on it")
    await m.tick(T0 + 60 * SEC)  # the silence ends
    clock.now = T0 + 70 * SEC
    await m.post([cpu("b", ends_at=T0 + 70 * SEC)])

    page = await store.history.list(fp, PageRequest(size=1000))
    kinds = [e.type for e in page.items]
    assert kinds == [
        HistoryEventType.STATE_CHANGE,
        HistoryEventType.NOTIFICATION,
        HistoryEventType.SILENCED,
        HistoryEventType.ACKNOWLEDGED,
        HistoryEventType.UNSILENCED,
        HistoryEventType.STATE_CHANGE,
    ]
    first, note, silenced = page.items[:3]
    assert (first.state, first.at) == (AlertState.FIRING, T0)
    assert silenced.message == silence.id
    assert page.items[-1].state is AlertState.RESOLVED
    assert (note.channel, note.outcome) == ("ops", "pending")

    # The outcome and attempts come from the delivery when the history is read.
    [delivery] = (await store.deliveries.list(PageRequest(), fingerprint=fp)).items
    async with store.transaction() as connection:
        await connection.execute(
            sa.update(deliveries).where(deliveries.c.id == delivery.id).values(status="delivered", attempts=2)
        )
    merged = await with_delivery_outcomes(store, page.items)
    assert (merged[1].outcome, merged[1].attempts) == ("delivered", 2)
    assert merged[0] == page.items[0]


async def test_history_older_than_the_retention_is_pruned_by_the_step(store: Store) -> None:
    clock = Clock()
    m = AlertPipeline(store, clock, WatchHub(), history_retention_ms=3600 * SEC)
    await m.load()
    [fp] = await m.post([cpu("b", ends_at=T0 + 10 * 3600 * SEC)])
    await m.tick(T0)
    assert len(await events(store, fp)) == 2
    await m.tick(T0 + 3600 * SEC)  # within the hour since the last prune: nothing is looked at
    assert len(await events(store, fp)) == 2
    clock.now = T0 + 3601 * SEC
    await m.acknowledge(fp, "alice")
    await m.tick(T0 + 3601 * SEC)
    await m.tick(T0 + 2 * 3600 * SEC)
    assert [kind for kind, _ in await events(store, fp)] == [HistoryEventType.ACKNOWLEDGED]


async def test_notifications_carry_a_signed_link_per_firing_alert(store: Store) -> None:
    links = AckLinks(b"k", "https://alerts.example", ttl_ms=3600 * SEC)
    m = AlertPipeline(store, Clock(), WatchHub(), links=links)
    await m.load()
    [fp_b, fp_c] = await m.post([cpu("b"), cpu("c")])
    await m.tick(T0)
    [ops] = await payloads(store)
    urls = ops["ack_urls"]
    assert isinstance(urls, dict)
    assert sorted(urls) == sorted([fp_b, fp_c])
    for fp, url in urls.items():
        link = links.verify(url.removeprefix("https://alerts.example/ack/"), T0)
        assert (link.fingerprint, link.expires_at) == (fp, T0 + 3600 * SEC)
        assert link.episode == m.get(fp).started_at  # the firing it was sent for
    assert "ack_url" not in ops  # a link acknowledges one alert; this group has two
    # A group of one alert (host a goes to PagerDuty alone) carries its link as the group's too.
    [fp_a] = await m.post([cpu("a")])
    await m.tick(T0 + SEC)
    pd = next(p for p in await payloads(store) if p["receiver"] == "pd")
    assert pd["ack_url"] == pd["ack_urls"][fp_a]  # type: ignore[index]


async def test_an_opsgenie_receiver_gets_an_acknowledge_too(tmp_path: Path) -> None:
    genie = Channel(name="og", type=ChannelType.OPSGENIE, config={"api_key": "k", "style": "alertmanager"})
    route = Route(receiver="og", group_by=("alertname",), group_wait=0)
    async with pipeline_store(tmp_path, [genie], route) as store:
        m = await started(store, Clock())
        [fp] = await m.post([cpu("a")])
        await m.tick(T0)
        [sent] = await payloads(store)
        await m.acknowledge(fp, "alice")
        acks = [p for p in await payloads(store) if p.get("action") == "acknowledge"]
        assert acks == [{"action": "acknowledge", "receiver": "og", "group_key": sent["group_key"]}]
