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
import json
from collections.abc import AsyncIterator

import grpc
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

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
        return StreamingResponse(
            sse_events(call, keepalive, texts),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

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


class _Quiet:
    """Tells a stream that waits when it has sent nothing for `seconds`: one timer per stream, moved
    on when it fires rather than set again for every event."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._waiter: asyncio.Future[bool] | None = None
        self._timer = self._loop.call_later(seconds, self._check)

    def sent(self) -> None:
        self._last = self._loop.time()

    async def wait(self, read: asyncio.Future[object]) -> bool:
        """Until `read` is done (False) or a keep-alive is due (True)."""
        waiter: asyncio.Future[bool] = self._loop.create_future()
        self._waiter = waiter
        read.add_done_callback(self._done)
        try:
            return await waiter
        finally:
            read.remove_done_callback(self._done)
            self._waiter = None

    def close(self) -> None:
        self._timer.cancel()

    def _done(self, _: object) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(False)

    def _check(self) -> None:
        now = self._loop.time()
        if now - self._last >= self._seconds:
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(True)
            self._last = now
        self._timer = self._loop.call_at(self._last + self._seconds, self._check)


async def sse_events(
    call: StreamCall | grpc.aio.UnaryStreamCall[Message, Message],
    keepalive: float | None,
    texts: EventTexts | None = None,
) -> AsyncIterator[str | bytes]:
    """Messages (or their bytes, with `texts`) as events, then the end or an error event."""
    read: asyncio.Future[object] | None = None
    quiet = None if keepalive is None else _Quiet(keepalive)
    try:
        while True:
            if quiet is None:
                item = await call.read()
            else:
                # The read goes on across keep-alives: cancelling it would end the call.
                read = asyncio.ensure_future(call.read())
                while not read.done():
                    if await quiet.wait(read):
                        yield ": keepalive\n\n"
                item, read = read.result(), None
            if isinstance(item, bytes) and texts is not None:
                yield texts.text(item)
            elif isinstance(item, Message):
                yield format_event(item)
            else:  # grpc.aio.EOF
                return
            if quiet is not None:
                quiet.sent()
    except grpc.aio.AioRpcError as exc:
        yield _error_event(from_rpc_error(exc))
    except Exception:
        log.exception("event stream failed")
        yield _error_event(internal_error())
    finally:
        if quiet is not None:
            quiet.close()
        if read is not None and not read.done():
            read.cancel()
        call.cancel()
