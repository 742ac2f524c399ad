"""The delivery service and its sender on the real SQLite store, against real local receivers;
the clock is injected, so backoff and leases are computed, not waited for."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerting_server.model import ACKNOWLEDGE, Channel, ChannelType, Delivery, DeliveryStatus
from alerting_server.model.codec import alert_to_data
from alerting_server.model.outbox import Claimed
from alerting_server.notify.factory import notifier_for
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.outcome import RetryPolicy
from alerting_server.notify.sender import Sender
from alerting_server.notify.service import DeliveryOptions, DeliveryService
from alerting_server.notify.worker import queue_capacity
from alerting_server.store import Store
from tests.integration.test_delivery import eventually
from tests.notify.alerts import firing, resolved
from tests.notify.conftest import FixedClock
from tests.notify.receiver import Receiver, Reply

T0 = 1_700_000_000_000
POLICY = RetryPolicy(base_ms=1000, cap_ms=60_000, deadline_ms=600_000)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    await s.migrate()
    yield s
    await s.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
async def service(
    store: Store, clock: FixedClock, client: httpx.AsyncClient
) -> AsyncIterator[DeliveryService]:
    options = DeliveryOptions(external_url="http://alerting.example", policy=POLICY)
    svc = DeliveryService(store, clock, options, http_client=client, rand=lambda: 0.5)
    yield svc
    await svc.stop()


async def channel(store: Store, kind: ChannelType, config: dict[str, object], name: str = "hook") -> Channel:
    return await store.channels.create(Channel(name=name, type=kind, config=config), T0)


async def enqueue(store: Store, ch: Channel, payload: dict[str, object], key: str = "k1") -> Delivery:
    row = Delivery(
        id="",
        channel_id=ch.id,
        status=DeliveryStatus.PENDING,
        group_key=str(payload["group_key"]),
        idempotency_key=key,
        created_at=T0,
        updated_at=T0,
        next_attempt_at=T0,
    )
    return await store.deliveries.add(row, payload)


ROW = Delivery(
    id="",
    channel_id="",
    status=DeliveryStatus.PENDING,
    group_key='{}:{alertname="HighCPU"}',
    created_at=T0,
    updated_at=T0,
    next_attempt_at=T0,
)


def group(firing_alerts: int = 1, resolved_alerts: int = 0) -> dict[str, object]:
    return {
        "receiver": "hook",
        "group_key": '{}:{alertname="HighCPU"}',
        "group_labels": {"alertname": "HighCPU"},
        "firing": [alert_to_data(firing("HighCPU", str(i))) for i in range(firing_alerts)],
        "resolved": [alert_to_data(resolved("HighCPU", f"r{i}")) for i in range(resolved_alerts)],
    }


async def test_test_notification_is_sent_now_and_recorded(
    store: Store, service: DeliveryService, receiver: Receiver
) -> None:
    ch = await channel(store, ChannelType.WEBHOOK, {"url": receiver.url("/hook")})
    delivery = await service.test(ch.id)
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == (DeliveryStatus.DELIVERED, 1, T0)
    [request] = receiver.requests
    body = request.json()
    assert isinstance(body, dict)
    assert body["alerts"][0]["labels"]["alertname"] == "TestNotification"
    assert body["externalURL"] == "http://alerting.example"
    assert request.headers["idempotency-key"] == delivery.idempotency_key
    [attempt] = await store.deliveries.attempts(delivery.id)
    assert (attempt.outcome, attempt.at, attempt.error) == ("delivered", T0, "")


async def test_failures_retry_with_backoff_and_permanent_ones_fail(
    store: Store, service: DeliveryService, receiver: Receiver
) -> None:
    ch = await channel(store, ChannelType.WEBHOOK, {"url": receiver.url("/hook")})
    receiver.answer(Reply(503, b"busy", {"Retry-After": "7"}), Reply(422, b"no"))
    first = await service.test(ch.id)
    assert (first.status, first.next_attempt_at, first.last_error) == (
        DeliveryStatus.RETRYING,
        T0 + 7000,
        "HTTP 503: busy",
    )
    second = await service.test(ch.id)
    assert (second.status, second.last_error) == (DeliveryStatus.FAILED, "HTTP 422: no")
    [attempt] = await store.deliveries.attempts(second.id)
    assert (attempt.outcome, attempt.status_code) == ("failed", 422)


async def test_claim_once_hands_rows_to_their_channel_within_its_room(
    store: Store, service: DeliveryService, receiver: Receiver
) -> None:
    slack = await channel(store, ChannelType.SLACK, {"webhook_url": receiver.url("/slack")}, name="slack")
    for i in range(20):
        await enqueue(store, slack, group(), key=f"k{i}")
    # The workers are not started: claimed rows stay queued, as behind a slow receiver.
    assert await service.claim_once(T0) == 5  # Slack's queue holds 5 (1/s for 5 s).
    assert await service.claim_once(T0) == 0
    # A channel created after the channels were read: one row at a time until it is known.
    hook = await channel(store, ChannelType.WEBHOOK, {"url": receiver.url("/hook")})
    for i in range(3):
        await enqueue(store, hook, group(), key=f"h{i}")
    assert await service.claim_once(T0) == 1
    assert await service.claim_once(T0) == 2
    assert receiver.requests == []


async def test_rows_queued_for_a_channel_with_under_half_its_room_do_not_wake_the_claimer(
    store: Store, service: DeliveryService, receiver: Receiver
) -> None:
    """Each claim reads the due rows of the whole backlog: rows queued for a channel whose worker
    has room for less than half of its queue do not wake the claimer (the worker does, when its room
    is back to half, and the rows would be sent after what it holds anyway); rows for a channel with
    more room, or for one not read yet, do."""
    slack = await channel(store, ChannelType.SLACK, {"webhook_url": receiver.url("/slack")}, name="slack")
    hook = await channel(store, ChannelType.WEBHOOK, {"url": receiver.url("/hook")})

    def woken() -> list[bool]:
        told = []
        for channel_ids in ({slack.id}, {slack.id, hook.id}, {hook.id}, {"not-read-yet"}, None):
            service._wake.clear()
            service.wake(channel_ids)
            told.append(service._wake.is_set())
        return told

    # No channel read yet: each is told.
    assert woken() == [True] * 5
    # The workers are not started: what is claimed stays queued. Slack's queue holds 5.
    for i in range(3):
        await enqueue(store, slack, group(), key=f"k{i}")
    assert await service.claim_once(T0) == 3
    assert woken() == [True] * 5  # Room for 2 of 5: half (5 // 2), so told.
    for i in range(3, 5):
        await enqueue(store, slack, group(), key=f"k{i}")
    assert await service.claim_once(T0) == 2
    assert woken() == [False, True, True, True, True]


async def test_rows_of_a_deleted_channel_fail(
    store: Store, service: DeliveryService, receiver: Receiver
) -> None:
    ch = await channel(store, ChannelType.WEBHOOK, {"url": receiver.url("/hook")})
    row = await enqueue(store, ch, group())
    await store.channels.delete(ch.id)
    assert await service.claim_once(T0) == 1
    stored = await store.deliveries.get(row.id)
    assert (stored.status, stored.last_error) == (DeliveryStatus.FAILED, f"channel {ch.id} no longer exists")


async def test_a_deleted_channel_is_logged_once_not_at_every_refresh(
    store: Store, service: DeliveryService, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    ch = await channel(store, ChannelType.WEBHOOK, {"url": receiver.url("/hook")})
    await enqueue(store, ch, group())
    # Claimed: its worker (not started here) holds it, to be sent although the channel goes.
    assert await service.claim_once(T0) == 1
    await store.channels.delete(ch.id)
    with caplog.at_level(logging.INFO, logger="alerting_server.notify.service"):
        for i in range(1, 6):
            await service.claim_once(T0 + i * service.options.channels_refresh_ms)
    assert [r.getMessage() for r in caplog.records] == [
        f"channel {ch.id} deleted; its queued notifications are still sent"
    ]


async def test_send_resolved_and_the_acknowledge_seam(
    store: Store, client: httpx.AsyncClient, receiver: Receiver, clock: FixedClock
) -> None:
    slack = await channel(store, ChannelType.SLACK, {"webhook_url": receiver.url("/slack")}, name="slack")
    pd = await channel(
        store, ChannelType.PAGERDUTY, {"routing_key": "r" * 32, "url": receiver.url("/pd")}, name="pd"
    )
    receiver.default = Reply(202, b'{"status":"success"}')
    # Slack does not send resolved alerts by default: a resolved-only group is done, unsent.
    await enqueue(store, slack, group(firing_alerts=0, resolved_alerts=2), key="q")
    await enqueue(store, pd, {**group(), "action": ACKNOWLEDGE}, key="a")
    sender = Sender(store.deliveries, clock, "w", "", POLICY, lambda: 0.5)
    claimed = await store.deliveries.claim(T0, token="w", lease_until=T0 + 60_000, limit=5)
    channels = {slack.id: slack, pd.id: pd}
    for row in claimed:
        ch = channels[row.delivery.channel_id]
        outcome = await sender.send(ch, notifier_for(ch, client, clock=clock), row)
        assert outcome.status is DeliveryStatus.DELIVERED
    quiet = next(c.delivery for c in claimed if c.delivery.channel_id == slack.id)
    assert await store.deliveries.attempts(quiet.id) == []
    [request] = receiver.requests
    event = request.json()
    assert isinstance(event, dict)
    assert (request.path, event["event_action"]) == ("/pd", "acknowledge")


async def test_secrets_stay_out_of_errors_and_logs(
    store: Store, service: DeliveryService, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "T000/B000/XXXXXXXXSECRET"
    url = receiver.url(f"/services/{secret}")
    ch = await channel(store, ChannelType.WEBHOOK, {"url": url})
    receiver.default = Reply(400, f"bad hook {url}".encode())
    with caplog.at_level(logging.DEBUG, logger="alerting_server"):
        delivery = await service.test(ch.id)
    assert delivery.status is DeliveryStatus.FAILED
    assert secret not in delivery.last_error
    assert secret not in caplog.text
    assert "delivery" in caplog.text


async def test_a_template_failing_at_send_time_still_delivers_and_says_why(
    store: Store, service: DeliveryService, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    # Valid at create time; at send time `index` finds a string where it wants a map.
    config: dict[str, object] = {
        "webhook_url": receiver.url("/slack"),
        "title": '{{ index .CommonLabels "a" "b" }}',
    }
    ch = await channel(store, ChannelType.SLACK, config, name="slack")
    with caplog.at_level(logging.WARNING, logger="alerting_server"):
        delivery = await service.test(ch.id)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.last_error.startswith("template config.title: template: title:1:")
    [attempt] = await store.deliveries.attempts(delivery.id)
    assert (attempt.outcome, attempt.error) == ("delivered", delivery.last_error)
    assert "template config.title" in caplog.text
    body = receiver.requests[0].json()
    assert isinstance(body, dict)
    assert body["text"] == "[FIRING:1] TestNotification"


async def test_a_backlog_is_claimed_in_batches_not_one_free_slot_at_a_time(
    store: Store, clock: FixedClock, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """Claiming reads the due rows of the whole backlog: the claimer takes a channel's room when its
    worker is half empty, rather than again after every delivery that frees a slot."""
    limits = {ChannelType.WEBHOOK: ChannelLimits(concurrency=4, per_second=1_000_000, burst=1_000_000)}
    options = DeliveryOptions(policy=POLICY, limits=limits)
    svc = DeliveryService(store, clock, options, http_client=client, rand=lambda: 0.5)
    hook = await channel(store, ChannelType.WEBHOOK, {"url": receiver.url("/hook")})
    backlog = 600
    await store.deliveries.add_many(
        [
            (dataclasses.replace(ROW, channel_id=hook.id, idempotency_key=f"k{i}"), group())
            for i in range(backlog)
        ]
    )
    claims = 0
    claim = store.deliveries.claim

    async def counted(*args: Any, **kwargs: Any) -> list[Claimed]:
        nonlocal claims
        claims += 1
        return await claim(*args, **kwargs)

    store.deliveries.claim = counted  # type: ignore[method-assign]
    await svc.start()

    async def all_sent() -> bool:
        return len(receiver.requests) >= backlog

    try:
        await eventually(all_sent, 30, f"{backlog} webhook requests")
    finally:
        await svc.stop()
    capacity = queue_capacity(limits[ChannelType.WEBHOOK])  # 256: refilled by half, ~5 times
    assert claims <= 2 * (backlog // (capacity // 2) + 2)


async def test_channels_of_style_alertmanager_render_with_the_template_files_as_they_change(
    store: Store, service: DeliveryService, receiver: Receiver, clock: FixedClock
) -> None:
    config: dict[str, object] = {
        "webhook_url": receiver.url("/slack"),
        "style": "alertmanager",
        "title": '{{ template "mine" . }}',
    }
    ch = await channel(store, ChannelType.SLACK, config, name="slack")
    await store.notification_templates.replace_all("am", [("mine.tmpl", '{{ define "mine" }}v1{{ end }}')])

    def titles() -> list[str]:
        bodies = [r.json() for r in receiver.requests]
        return [b["attachments"][0]["title"] for b in bodies if isinstance(b, dict)]

    async def sent(count: int) -> bool:
        return len(titles()) == count

    await service.start()
    await enqueue(store, ch, group(), key="k1")
    service.wake()
    await eventually(lambda: sent(1), 5, "the first notification")
    # A user file redefines the template: the channel's worker renders with it once the files are
    # read again, with the channels.
    await store.notification_templates.replace_all("am", [("mine.tmpl", '{{ define "mine" }}v2{{ end }}')])
    clock.now += service.options.channels_refresh_ms
    await enqueue(store, ch, group(), key="k2")
    service.wake()
    await eventually(lambda: sent(2), 5, "the second notification")
    assert titles() == ["v1", "v2"]
    # The default templates stay callable beside the files.
    body = receiver.requests[1].json()
    assert isinstance(body, dict)
    assert body["attachments"][0]["fallback"].startswith("[FIRING:1] HighCPU")


async def test_a_change_another_replica_tells_is_read_at_once(
    store: Store, service: DeliveryService, receiver: Receiver
) -> None:
    config: dict[str, object] = {
        "webhook_url": receiver.url("/slack"),
        "style": "alertmanager",
        "title": '{{ template "mine" . }}',
    }
    ch = await channel(store, ChannelType.SLACK, config, name="slack")

    async def title() -> str:
        delivery = await service.test(ch.id)
        assert delivery.status is DeliveryStatus.DELIVERED, delivery.last_error
        body = receiver.requests[-1].json()
        assert isinstance(body, dict)
        return str(body["attachments"][0]["title"])

    await store.notification_templates.replace_all("am", [("m.tmpl", '{{ define "mine" }}v1{{ end }}')])
    await service.claim_once(T0)
    assert await title() == "v1"
    await store.notification_templates.replace_all("am", [("m.tmpl", '{{ define "mine" }}v2{{ end }}')])
    # Within the refresh interval the cached files serve, unless a change of theirs is told.
    service.config_changed("silences")
    await service.claim_once(T0)
    assert await title() == "v1"
    service.config_changed("notification_templates")
    await service.claim_once(T0)
    assert await title() == "v2"


async def test_a_channel_written_by_this_process_is_sent_to_as_written_at_once(
    store: Store, service: DeliveryService, receiver: Receiver
) -> None:
    """reload_channels (the server calls it before answering a write of channels or template files):
    what is sent next follows the write, with no refresh interval passed (the clock stands still),
    even a write within the millisecond of the one before (updated_at stays as it was)."""
    ch = await channel(store, ChannelType.WEBHOOK, {"url": receiver.url("/one")})
    await service.start()
    await enqueue(store, ch, group(), key="k1")
    service.wake()
    await eventually(lambda: _paths(receiver, ["/one"]), 5, "the first notification")
    await store.channels.update(
        ch.id, Channel(name="hook", type=ChannelType.WEBHOOK, config={"url": receiver.url("/two")}), T0
    )
    await service.reload_channels()
    await enqueue(store, ch, group(), key="k2")
    service.wake()
    await eventually(lambda: _paths(receiver, ["/one", "/two"]), 5, "the second notification, to the new URL")


async def test_channel_reads_that_overlap_apply_in_their_order(
    store: Store, service: DeliveryService, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read of the channels that began before a write and ends after the write's own read does not
    put the old channel back: the reads run one at a time."""
    ch = await channel(store, ChannelType.WEBHOOK, {"url": receiver.url("/old")})
    await service.start()
    await asyncio.sleep(0.05)  # the claimer's first read is done
    read = store.channels.all
    held = asyncio.Event()

    async def held_read() -> list[Channel]:
        channels = await read()
        task = asyncio.current_task()
        if task is not None and task.get_name() == "before":
            await held.wait()
        return channels

    monkeypatch.setattr(store.channels, "all", held_read)
    before = asyncio.create_task(service.reload_channels(), name="before")
    await asyncio.sleep(0.05)
    await store.channels.update(
        ch.id, Channel(name="hook", type=ChannelType.WEBHOOK, config={"url": receiver.url("/new")}), T0 + 1
    )
    after = asyncio.create_task(service.reload_channels())
    await asyncio.sleep(0.05)
    held.set()
    await asyncio.gather(before, after)
    await enqueue(store, ch, group())
    service.wake()
    await eventually(lambda: _paths(receiver, ["/new"]), 5, "the notification, to the URL written last")


async def _paths(receiver: Receiver, expected: list[str]) -> bool:
    return [r.path for r in receiver.requests] == expected
