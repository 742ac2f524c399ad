"""A server-streaming RPC as Server-Sent Events (GET /alerts/watch).

Each message is one event: `id:` its revision, `event:` its type, `data:` its REST JSON. A client
that reconnects sends the last id back as `Last-Event-ID`, which resumes the stream from that
revision (the header wins over a `since_revision` parameter: it is the more recent of the two).
A gRPC error ends the stream with an `event: error` whose data is the REST error body.

The messages come from the backend as their bytes; the text of an event is made once for the
bytes of its message and reused for every other stream that sends the same (the WatchAlerts
subscribers of one event), which spares each subscriber decoding it and writing its JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import grpc
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from alerting_common.jsonmap import JSON, descriptor_of, to_json
from gateway.backend import Backend, StreamCall
from gateway.errors import (
    Endpoint,
    GatewayError,
    from_rpc_error,
    guarded,
    internal_error,
    invalid_argument,
    log,
)
from gateway.routes import RpcRoute
from gateway.unary import build_request

# The request field that Last-Event-ID fills, and the response fields that name an event.
RESUME_FIELD = "since_revision"
ID_FIELD = "revision"
TYPE_FIELD = "type"


def stream_endpoint(route: RpcRoute, backend: Backend, keepalive: float | None) -> Endpoint:
    """`keepalive`: seconds of silence after which a comment line is sent, so that proxies keep the
    connection and a gone client is noticed; None sends none."""

    texts = EventTexts(route.response_class)

    async def endpoint(request: Request) -> Response:
        message = await build_request(route, request, max_body_bytes=0)
        last_event_id = request.headers.get("last-event-id", "").strip()
        if last_event_id and RESUME_FIELD in descriptor_of(message).fields_by_name:
            if not last_event_id.isdigit():
                raise invalid_argument("Last-Event-ID", "expected a revision number")
            setattr(message, RESUME_FIELD, int(last_event_id))
        call = backend.stream(route, message, request)
        # A refused stream (too many watchers, a revision no longer retained) is an HTTP error status,
        # not a 200 whose first event is the error.
        await call.wait_for_connection()
        return EventStream(call, keepalive, texts)

    return guarded(endpoint)


def format_event(message: Message) -> str:
    data = to_json(message)
    lines = []
    if ID_FIELD in data:
        lines.append(f"id: {data[ID_FIELD]}")
    if TYPE_FIELD in data:
        lines.append(f"event: {data[TYPE_FIELD]}")
    lines.append(f"data: {_dumps(data)}")
    return "\n".join(lines) + "\n\n"


class EventTexts:
    """The SSE text of the latest messages of one route, by their bytes."""

    SIZE = 256

    def __init__(self, response_class: type[Message]) -> None:
        self._response_class = response_class
        self._texts: dict[bytes, bytes] = {}

    def text(self, raw: bytes) -> bytes:
        text = self._texts.get(raw)
        if text is None:
            text = self._texts[raw] = format_event(self._response_class.FromString(raw)).encode()
            if len(self._texts) > self.SIZE:
                del self._texts[next(iter(self._texts))]
        return text


def _error_event(error: GatewayError) -> str:
    return f"event: error\ndata: {_dumps(error.body())}\n\n"


def _dumps(data: JSON) -> str:
    # Compact JSON never contains a raw newline, which would end the SSE data line.
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


class EventStream(Response):
    """The events of a stream call as a text/event-stream body, read and written in turn by the
    request's own task: no task, future or timer per event, which is what a feed with many
    subscribers pays for each. A keep-alive comment goes out from a timer when the stream has been
    quiet; the client going away ends the call."""

    media_type = "text/event-stream"

    def __init__(self, call: StreamCall, keepalive: float | None, texts: EventTexts) -> None:
        self._call = call
        self._keepalive = keepalive
        self._texts = texts
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._send: Send | None = None
        self._reading = False
        self._last = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._pinging: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        gone = False
        finished = False

        def went_away(_: object) -> None:
            nonlocal gone
            if not finished:
                gone = True
                task.cancel()

        listener = asyncio.ensure_future(_disconnect(receive))
        listener.add_done_callback(went_away)
        self._send = send
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            loop = asyncio.get_running_loop()
            self._last = loop.time()
            if self._keepalive is not None:
                self._timer = loop.call_later(self._keepalive, self._check)
            final = await self._events(send)
            await self._stop_pinging()
            if final:
                await send({"type": "http.response.body", "body": final, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not gone:
                raise
            task.uncancel()
        finally:
            finished = True
            listener.remove_done_callback(went_away)
            listener.cancel()
            if self._timer is not None:
                self._timer.cancel()
            if self._pinging is not None:
                self._pinging.cancel()
            self._call.cancel()

    async def _events(self, send: Send) -> bytes:
        """Sends the events until the call ends; returns the error event that ends it, if any."""
        loop = asyncio.get_running_loop()
        texts = self._texts
        try:
            while True:
                self._reading = True
                item = await self._call.read()
                self._reading = False
                if isinstance(item, bytes):
                    body = texts.text(item)
                elif isinstance(item, Message):
                    body = format_event(item).encode()
                else:  # grpc.aio.EOF
                    return b""
                await send({"type": "http.response.body", "body": body, "more_body": True})
                self._last = loop.time()
        except grpc.aio.AioRpcError as exc:
            return _error_event(from_rpc_error(exc)).encode()
        except Exception:
            log.exception("event stream failed")
            return _error_event(internal_error()).encode()

    def _check(self) -> None:
        assert self._keepalive is not None
        loop = asyncio.get_running_loop()
        now = loop.time()
        if now - self._last >= self._keepalive:
            # Only while waiting for an event: one being sent says more than a keep-alive.
            if self._reading and (self._pinging is None or self._pinging.done()):
                self._pinging = asyncio.ensure_future(self._ping())
            self._last = now
        self._timer = loop.call_at(self._last + self._keepalive, self._check)

    async def _ping(self) -> None:
        assert self._send is not None
        await self._send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})

    async def _stop_pinging(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pinging is not None and not self._pinging.done():
            self._pinging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinging


KEEPALIVE = b": keepalive\n\n"


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
