"""WatchAlerts against a real server: a subscriber that stops reading is cut off (its stream ends with
RESOURCE_EXHAUSTED once it reads on), while one that reads gets every event, in order."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any, cast
from urllib.parse import quote, urlsplit

import grpc
import httpx
import pytest

from alerting.v1 import alert_service_pb2, alert_service_pb2_grpc
from alerting_server.alerts.watch import DEFAULT_SUBSCRIBER_BUFFER
from tests.integration.server import ServerProcess

# More than a subscriber may fall behind (DEFAULT_SUBSCRIBER_BUFFER) plus what the connection buffers
# on the way (the kernel's socket buffers, HTTP/2 flow-control windows), which large events fill.
EVENTS = 1600
PAD = "x" * 30_000
BATCH = 50
FILTER = 'alertname="Flood"'
EOF = cast("object", grpc.aio.EOF)  # type: ignore[attr-defined]  # missing from grpc-stubs

Call = grpc.aio.UnaryStreamCall[Any, alert_service_pb2.WatchAlertsResponse]


async def post_flood(api: httpx.AsyncClient) -> None:
    for begin in range(0, EVENTS, BATCH):
        body = [
            {"labels": {"alertname": "Flood", "i": str(i)}, "annotations": {"pad": PAD}}
            for i in range(begin, min(begin + BATCH, EVENTS))
        ]
        (await api.post("/api/v2/alerts", json=body, timeout=60)).raise_for_status()


def watch(channel: grpc.aio.Channel) -> Call:
    stub = alert_service_pb2_grpc.AlertServiceStub(channel)
    return cast("Call", stub.WatchAlerts(alert_service_pb2.WatchAlertsRequest(filter=FILTER)))


async def read_created(call: Call) -> list[str]:
    got: list[str] = []
    while len(got) < EVENTS:
        message = await call.read()
        assert isinstance(message, alert_service_pb2.WatchAlertsResponse), f"ended after {len(got)} events"
        if message.type == alert_service_pb2.ALERT_EVENT_TYPE_CREATED:
            got.append(message.alert.labels["i"])
    return got


async def test_a_grpc_watcher_that_stops_reading_is_cut_off_and_one_that_reads_gets_every_event(
    server: ServerProcess, api: httpx.AsyncClient
) -> None:
    async with (
        grpc.aio.insecure_channel(server.grpc_target) as fast_channel,
        grpc.aio.insecure_channel(server.grpc_target) as slow_channel,
    ):
        fast, slow = watch(fast_channel), watch(slow_channel)
        await fast.wait_for_connection()
        await slow.wait_for_connection()
        reading = asyncio.create_task(read_created(fast))
        await post_flood(api)
        got = await asyncio.wait_for(reading, 120)
        assert got == [str(i) for i in range(EVENTS)]

        # The one that did not read gets what was already on its way, then the status.
        received = 0

        async def read_on() -> None:
            nonlocal received
            while (await asyncio.wait_for(slow.read(), 60)) is not EOF:
                received += 1

        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await read_on()
        assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "resume with since_revision=" in (ended.value.details() or "")
        # Only what was on its way: the events held for it were dropped when it was cut off.
        assert received < EVENTS - DEFAULT_SUBSCRIBER_BUFFER


async def read_sse(reader: asyncio.StreamReader) -> list[dict[str, str]]:
    """The events of a chunked text/event-stream body until it ends."""
    events: list[dict[str, str]] = []
    buffer = b""
    while True:
        size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), 60)
        size = int(size_line.strip(), 16)
        if size == 0:
            return events
        buffer += await reader.readexactly(size)
        await reader.readexactly(2)
        *blocks, rest = buffer.split(b"\n\n")
        buffer = rest
        for block in blocks:
            event = {}
            for line in block.decode().split("\n"):
                name, _, value = line.partition(": ")
                event[name] = value
            events.append(event)


async def open_sse(
    base_url: str, *, receive_buffer: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(
        f"GET /alerts/watch?filter={quote(FILTER)} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"transfer-encoding: chunked" in head.lower()
    return reader, writer


async def test_an_sse_watcher_that_stops_reading_is_cut_off_and_one_that_reads_gets_every_event(
    server: ServerProcess, api: httpx.AsyncClient
) -> None:
    fast, fast_writer = await open_sse(server.base_url)
    slow, slow_writer = await open_sse(server.base_url, receive_buffer=4096)

    async def created() -> list[str]:
        got: list[str] = []
        buffer = b""
        while len(got) < EVENTS:
            size = int((await fast.readuntil(b"\r\n")).strip(), 16)
            assert size, f"the stream ended after {len(got)} events"
            buffer += await fast.readexactly(size + 2)
            *blocks, buffer = buffer.replace(b"\r\n", b"").split(b"\n\n")
            for block in blocks:
                if b"event: created" in block:
                    data = json.loads(block.split(b"data: ", 1)[1])
                    got.append(data["alert"]["labels"]["i"])
        return got

    reading = asyncio.create_task(created())
    await post_flood(api)
    got = await asyncio.wait_for(reading, 120)
    assert got == [str(i) for i in range(EVENTS)]

    events = await read_sse(slow)
    assert events[-1]["event"] == "error"
    error = json.loads(events[-1]["data"])["error"]
    assert error["code"] == "RESOURCE_EXHAUSTED"
    assert "resume with since_revision=" in error["message"]
    assert len(events) - 1 < EVENTS - DEFAULT_SUBSCRIBER_BUFFER
    fast_writer.close()
    slow_writer.close()
