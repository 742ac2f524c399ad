from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import grpc
import httpx

from alerting.v1 import alert_service_pb2
from gateway.sse import EventStream, EventTexts

from .fakes import FakeServer, firing_alert


def watch_events(*revisions: int) -> list[alert_service_pb2.WatchAlertsResponse]:
    return [
        alert_service_pb2.WatchAlertsResponse(
            type=alert_service_pb2.ALERT_EVENT_TYPE_SNAPSHOT
            if r == 1
            else alert_service_pb2.ALERT_EVENT_TYPE_STATE_CHANGED,
            alert=firing_alert(f"fp{r}"),
            revision=r,
        )
        for r in revisions
    ]


def parse(stream: str) -> list[dict[str, str]]:
    """Server-Sent Events as dicts of their fields; comment lines are kept under ":"."""
    events = []
    for block in stream.split("\n\n"):
        if not block:
            continue
        event: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ") if not line.startswith(":") else (":", "", line[2:])
            event[name] = value
        events.append(event)
    return events


async def test_each_message_is_one_event_with_id_type_and_json(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    server.watch_events = watch_events(1, 2)

    response = await client.get(
        "/alerts/watch", params={"filter": '{host="a"}', "states": ["firing", "pending"]}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse(response.text)
    assert [(e["id"], e["event"]) for e in events] == [("1", "snapshot"), ("2", "state_changed")]
    data = json.loads(events[1]["data"])
    assert data["revision"] == 2
    assert data["type"] == "state_changed"
    assert data["alert"]["fingerprint"] == "fp2"
    assert data["alert"]["state"] == "firing"
    sent = server.last("WatchAlerts")
    assert isinstance(sent, alert_service_pb2.WatchAlertsRequest)
    assert sent.filter == '{host="a"}'
    assert list(sent.states) == [alert_service_pb2.ALERT_STATE_FIRING, alert_service_pb2.ALERT_STATE_PENDING]


async def test_last_event_id_resumes_from_that_revision(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    server.watch_events = watch_events(1, 2, 3, 4)

    response = await client.get(
        "/alerts/watch", params={"since_revision": "1"}, headers={"Last-Event-ID": "2"}
    )

    assert [e["id"] for e in parse(response.text)] == ["3", "4"]
    sent = server.last("WatchAlerts")
    assert isinstance(sent, alert_service_pb2.WatchAlertsRequest)
    assert sent.since_revision == 2


async def test_bad_last_event_id_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/alerts/watch", headers={"Last-Event-ID": "yesterday"})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "Last-Event-ID"


async def test_grpc_error_ends_the_stream_with_an_error_event(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    server.watch_events = watch_events(1)
    server.watch_end = grpc.StatusCode.RESOURCE_EXHAUSTED

    response = await client.get("/alerts/watch")

    events = parse(response.text)
    assert [e.get("event") for e in events] == ["snapshot", "error"]
    assert json.loads(events[1]["data"]) == {
        "error": {"code": "RESOURCE_EXHAUSTED", "message": "subscriber too slow", "details": []}
    }


class SilentCall:
    """A stream call that says nothing until told to end."""

    def __init__(self) -> None:
        self.end = asyncio.Event()
        self.cancelled = False

    async def read(self) -> object:
        await self.end.wait()
        return grpc.aio.EOF  # type: ignore[attr-defined]  # missing from grpc-stubs

    async def wait_for_connection(self) -> None:
        pass

    def cancel(self) -> bool:
        self.cancelled = True
        return True


async def test_idle_stream_sends_keepalive_comments() -> None:
    call = SilentCall()
    sent: list[dict[str, object]] = []
    gone = asyncio.Event()

    async def receive() -> dict[str, object]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))
        if len(sent) == 4:
            call.end.set()

    response = EventStream(call, 0.01, EventTexts(alert_service_pb2.WatchAlertsResponse))
    await asyncio.wait_for(response({"type": "http"}, receive, send), 10)

    assert sent[0]["type"] == "http.response.start"
    bodies = [m["body"] for m in sent[1:]]
    assert bodies[-1] == b""
    assert sent[-1]["more_body"] is False
    assert len(bodies) >= 4
    assert all(body == b": keepalive\n\n" for body in bodies[:-1])
    assert call.cancelled


async def test_a_client_that_goes_away_ends_the_call() -> None:
    call = SilentCall()
    gone = asyncio.Event()

    async def receive() -> dict[str, object]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        gone.set()

    response = EventStream(call, None, EventTexts(alert_service_pb2.WatchAlertsResponse))
    await asyncio.wait_for(response({"type": "http"}, receive, send), 10)

    assert call.cancelled


def test_the_text_of_an_event_is_made_once_for_every_stream_that_sends_it() -> None:
    texts = EventTexts(alert_service_pb2.WatchAlertsResponse)
    (event,) = watch_events(2)
    first = texts.text(event.SerializeToString())
    # Another stream's copy of the same message: the same text, not made again.
    assert texts.text(bytes(event.SerializeToString())) is first
    assert first.startswith(b"id: 2\nevent: state_changed\ndata: {")
    other = texts.text(watch_events(3)[0].SerializeToString())
    assert other is not first
    assert other.startswith(b"id: 3\n")
