"""Prometheus remote-write 1.0 ingest (`POST /api/v1/write`) onto MetricsService.Write.

The body is a snappy block-compressed `prometheus.WriteRequest`. The gateway checks its headers and
its size and hands it on as it came (`prometheus_remote_write`): the server decodes it, so that a
sample costs one pass in compiled protobuf code and one in Python, not a message rebuilt for the
Write call and read again. Answers follow Prometheus' own receiver (storage/remote/write_handler.go),
because senders decide on the status whether to retry: 204 when written; 400 (never retried) for a
body that does not decode, an invalid series, samples the store refuses as out of order or
duplicate, or a native histogram that is not valid (the message names its field path:
`timeseries[3].histograms[0].positive_spans: ...`); 413 for a body that would decompress past the
cap; 415 for another protocol or encoding; 429 and 5xx (retried with back-off) from the gRPC status
of the write. Error bodies are plain text, as Prometheus writes them.
"""

from __future__ import annotations

import grpc
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from alerting.v1 import metrics_service_pb2
from alerting_common.jsonmap import JSONObject
from alerting_common.remote_write import (
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    MEDIA_TYPE,
    V1_MESSAGE,
    RemoteWriteError,
    decompressed_size,
)
from gateway.backend import Backend
from gateway.body import read_body
from gateway.errors import Endpoint, GatewayError, from_rpc_error, log
from gateway.routes import RpcRoute, discover_routes

PATH = "/api/v1/write"
WRITE = "alerting.v1.MetricsService.Write"
# The Write field the body goes into; the server names it in the errors of a body it refuses.
FIELD = "prometheus_remote_write"

_TEXT_ERROR: JSONObject = {"content": {"text/plain": {"schema": {"type": "string"}}}}
# The OpenAPI path item of the endpoint: it is served, so it is documented with the RPC routes.
OPENAPI_PATH_ITEM: JSONObject = {
    "post": {
        "operationId": "PrometheusRemoteWrite",
        "tags": ["MetricsService"],
        "summary": "Prometheus remote-write 1.0: a snappy-compressed prometheus.WriteRequest",
        "requestBody": {
            "required": True,
            "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        "responses": {
            "204": {"description": "Written"},
            "400": {"description": "Undecodable body, invalid series or refused samples", **_TEXT_ERROR},
            "415": {"description": "Not remote-write 1.0 with snappy", **_TEXT_ERROR},
            "default": {"description": "Error", **_TEXT_ERROR},
        },
    }
}


def check_headers(content_type: str, content_encoding: str) -> None:
    """415 unless the request is remote-write 1.0; missing headers mean 1.0, as in Prometheus."""
    media_type, *params = [part.strip() for part in (content_type or MEDIA_TYPE).split(";")]
    if media_type != MEDIA_TYPE:
        raise RemoteWriteError(415, f"expected {MEDIA_TYPE} as the media type, got {content_type}")
    for param in params:
        key, sep, value = param.partition("=")
        if not sep:
            raise RemoteWriteError(415, f"malformed content-type parameter {param!r} in {content_type}")
        if key == "proto" and value != V1_MESSAGE:
            raise RemoteWriteError(415, f"{value} protobuf message is not accepted; accepted {V1_MESSAGE}")
    if content_encoding and content_encoding.lower() != "snappy":
        raise RemoteWriteError(415, f"{content_encoding} encoding is not accepted; only snappy is")


def rejected_message(response: metrics_service_pb2.WriteResponse) -> str:
    reasons = "; ".join(f"sample {e.index}: {e.reason}" for e in response.errors[:10])
    return f"write refused, no sample stored: {reasons}"


def remote_write_endpoint(
    backend: Backend,
    max_body_bytes: int,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> Endpoint:
    route = _write_route()

    async def endpoint(request: Request) -> Response:
        try:
            check_headers(
                request.headers.get("content-type", ""), request.headers.get("content-encoding", "")
            )
            body = await read_body(request, max_body_bytes)
            decompressed_size(body, max_decompressed_bytes)
            write = metrics_service_pb2.WriteRequest(prometheus_remote_write=body, all_or_nothing=True)
            response = await backend.unary(route, write, request)
            assert isinstance(response, metrics_service_pb2.WriteResponse)
            if response.rejected:
                # As Prometheus: a request with an out-of-order or duplicate sample stores nothing
                # and is answered 400, so that the sender drops the batch instead of retrying
                # what can never be accepted.
                raise RemoteWriteError(400, rejected_message(response))
        except RemoteWriteError as exc:
            return PlainTextResponse(exc.message, status_code=exc.status)
        except GatewayError as exc:
            return PlainTextResponse(exc.message, status_code=exc.status)
        except grpc.aio.AioRpcError as exc:
            error = from_rpc_error(exc)
            # The server's words on the body, as Prometheus writes them: "timeseries[3]: ...".
            body_error = next((v.description for v in error.details if v.field == FIELD), None)
            return PlainTextResponse(body_error or error.message, status_code=error.status)
        except Exception:
            log.exception("unexpected error serving %s", request.url.path)
            return PlainTextResponse("internal error", status_code=500)
        return Response(status_code=204)

    return endpoint


def _write_route() -> RpcRoute:
    return next(r for r in discover_routes([metrics_service_pb2.DESCRIPTOR]) if r.name == WRITE)
