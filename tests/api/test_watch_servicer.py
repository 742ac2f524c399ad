"""WatchAlerts in the servicer: one message per event for every subscriber, and the cut-off of a
subscriber whose stream is stuck on a send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any, cast

import grpc
from grpc import aio

from alerting.v1 import alert_service_pb2
from alerting_server.alerts.watch import EventType, WatchHub
from alerting_server.api.alerts import AlertServicer
from alerting_server.model import Alert
from alerting_server.pipeline import AlertPipeline
from alerting_server.store import Store
from tests.alerts.test_watch import alert


class Manager:
    """What WatchAlerts uses of the pipeline."""

    def __init__(self, hub: WatchHub) -> None:
        self.hub = hub

    async def catch_up_to(self, revision: int) -> None:
        pass

    def alerts(self) -> list[Alert]:
        return []

    def receivers(self, alert: Alert) -> list[str]:
        return ["team"]


class Context:
    def __init__(self) -> None:
        self.aborted: grpc.Status | None = None

    async def send_initial_metadata(self, metadata: object) -> None:
        pass

    async def abort_with_status(self, status: grpc.Status) -> None:
        self.aborted = status
        raise aio.AbortError()


def watch(hub: WatchHub, context: Context) -> AsyncGenerator[alert_service_pb2.WatchAlertsResponse]:
    servicer = AlertServicer(cast("AlertPipeline", Manager(hub)), cast("Store", None))
    request = alert_service_pb2.WatchAlertsRequest(filter='alertname=~"a|b|c|d"')
    return cast("AsyncGenerator[Any]", servicer.WatchAlerts(request, cast("Any", context)))


async def test_every_subscriber_is_sent_the_one_message_made_for_an_event() -> None:
    hub = WatchHub()
    first, second = watch(hub, Context()), watch(hub, Context())
    pending = [asyncio.ensure_future(anext(first)), asyncio.ensure_future(anext(second))]
    await asyncio.sleep(0)
    hub.publish([(EventType.CREATED, alert("a"))])
    one, two = await asyncio.gather(*pending)
    assert one is two
    assert (one.type, one.alert.fingerprint, list(one.alert.receivers)) == (
        alert_service_pb2.ALERT_EVENT_TYPE_CREATED,
        "a",
        ["team"],
    )
    await first.aclose()
    await second.aclose()
    assert hub.subscribers == 0


async def test_a_subscriber_stuck_on_a_send_is_aborted_when_it_falls_behind() -> None:
    hub = WatchHub(subscriber_buffer=2)
    context = Context()
    stream = watch(hub, context)
    reading = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    hub.publish([(EventType.CREATED, alert("a"))])
    assert (await reading).alert.fingerprint == "a"
    # Its last message is still being sent (the stream waits at it) while three more come.
    hub.publish([(EventType.CREATED, alert(fp)) for fp in "bcd"])
    await asyncio.sleep(0)
    assert context.aborted is not None
    assert context.aborted.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "resume with since_revision=1" in context.aborted.details
    assert hub.subscribers == 0
    # Once the send is taken, the stream ends: nothing more is sent on an aborted call.
    remaining = [message async for message in stream]
    assert remaining == []
