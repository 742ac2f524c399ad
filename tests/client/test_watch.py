"""watch_alerts: an iterator (sync) and async iterator of WatchAlertsResponse."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.message import Message

from alerting.client import AlertingClient, AsyncAlertingClient, ResourceExhaustedError
from alerting.v1 import alert_service_pb2 as alert_pb

from .fakes import Context, FakeAlertingServer, StreamHandler

EVENTS = [
    alert_pb.WatchAlertsResponse(
        type=alert_pb.ALERT_EVENT_TYPE_SNAPSHOT, alert=alert_pb.Alert(fingerprint="fp1"), revision=7
    ),
    alert_pb.WatchAlertsResponse(
        type=alert_pb.ALERT_EVENT_TYPE_STATE_CHANGED,
        alert=alert_pb.Alert(fingerprint="fp1", state=alert_pb.ALERT_STATE_FIRING),
        revision=8,
    ),
]


async def three_events(request: Message, context: Context) -> AsyncIterator[Message]:
    for event in EVENTS:
        yield event


async def one_event_then_cut_off(request: Message, context: Context) -> AsyncIterator[Message]:
    yield EVENTS[0]
    await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "subscriber too slow")


def endless(cancelled: asyncio.Event) -> StreamHandler:
    async def handler(request: Message, context: Context) -> AsyncIterator[Message]:
        yield EVENTS[0]
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    return handler


async def test_sync_watch_yields_every_event_and_sends_the_filter(fake: FakeAlertingServer) -> None:
    fake.streams["WatchAlerts"] = three_events
    with AlertingClient(fake.target, token="t", timeout=0.01) as client:
        # The 10 ms client default must not apply: a stream has no deadline unless asked.
        events = await asyncio.to_thread(
            lambda: list(
                client.watch_alerts(
                    filter='{host="a"}', states=[alert_pb.ALERT_STATE_FIRING], since_revision=6
                )
            )
        )
    assert events == EVENTS
    [call] = fake.called("WatchAlerts")
    assert call.request == alert_pb.WatchAlertsRequest(
        filter='{host="a"}', states=[alert_pb.ALERT_STATE_FIRING], since_revision=6
    )
    assert call.metadata["authorization"] == "Bearer t"


async def test_async_watch_yields_every_event(fake: FakeAlertingServer) -> None:
    fake.streams["WatchAlerts"] = three_events
    async with AsyncAlertingClient(fake.target) as client:
        events = [event async for event in client.watch_alerts()]
    assert events == EVENTS


async def test_sync_watch_error_after_first_event(fake: FakeAlertingServer) -> None:
    fake.streams["WatchAlerts"] = one_event_then_cut_off
    received: list[alert_pb.WatchAlertsResponse] = []

    def consume(client: AlertingClient) -> None:
        for event in client.watch_alerts():
            received.append(event)

    with AlertingClient(fake.target) as client, pytest.raises(ResourceExhaustedError, match="too slow"):
        await asyncio.to_thread(consume, client)
    assert received == EVENTS[:1]


async def test_async_watch_error_after_first_event(fake: FakeAlertingServer) -> None:
    fake.streams["WatchAlerts"] = one_event_then_cut_off
    received: list[alert_pb.WatchAlertsResponse] = []

    async def consume(client: AsyncAlertingClient) -> None:
        async for event in client.watch_alerts():
            received.append(event)

    async with AsyncAlertingClient(fake.target) as client:
        with pytest.raises(ResourceExhaustedError):
            await consume(client)
    assert received == EVENTS[:1]


async def test_closing_the_async_watch_cancels_the_stream(fake: FakeAlertingServer) -> None:
    cancelled = asyncio.Event()
    fake.streams["WatchAlerts"] = endless(cancelled)
    async with (
        AsyncAlertingClient(fake.target) as client,
        contextlib.aclosing(client.watch_alerts()) as watch,
    ):
        assert await anext(watch) == EVENTS[0]
        await watch.aclose()
        await asyncio.wait_for(cancelled.wait(), timeout=5)


async def test_closing_the_sync_watch_cancels_the_stream(fake: FakeAlertingServer) -> None:
    cancelled = asyncio.Event()
    fake.streams["WatchAlerts"] = endless(cancelled)

    def first_then_close(client: AlertingClient) -> alert_pb.WatchAlertsResponse:
        with contextlib.closing(client.watch_alerts()) as watch:
            return next(watch)

    with AlertingClient(fake.target) as client:
        assert await asyncio.to_thread(first_then_close, client) == EVENTS[0]
        await asyncio.wait_for(cancelled.wait(), timeout=5)
