"""A server-streaming RPC as Server-Sent Events (GET /alerts/watch).

Each message is one event: `id:` its revision, `event:` its type, `data:` its REST JSON. A client
that reconnects sends the last id back as `Last-Event-ID`, which resumes the stream from that
revision (the header wins over a `since_revision` parameter: it is the more recent of the two).
A gRPC error ends the stream with an `event: error` whose data is the REST error body.
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
from gateway.backend import Backend
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
            sse_events(call, keepalive),
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


def _error_event(error: GatewayError) -> str:
    return f"event: error\ndata: {_dumps(error.body())}\n\n"


def _dumps(data: JSON) -> str:
    # Compact JSON never contains a raw newline, which would end the SSE data line.
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


async def sse_events(
    call: grpc.aio.UnaryStreamCall[Message, Message], keepalive: float | None
) -> AsyncIterator[str]:
    read: asyncio.Future[object] | None = None
    try:
        while True:
            read = asyncio.ensure_future(call.read())
            while not read.done():
                done, _ = await asyncio.wait({read}, timeout=keepalive)
                if not done:
                    yield ": keepalive\n\n"
            item = read.result()
            if not isinstance(item, Message):  # grpc.aio.EOF
                return
            yield format_event(item)
    except grpc.aio.AioRpcError as exc:
        yield _error_event(from_rpc_error(exc))
    except Exception:
        log.exception("event stream failed")
        yield _error_event(internal_error())
    finally:
        if read is not None and not read.done():
            read.cancel()
        call.cancel()
