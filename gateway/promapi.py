"""Prometheus' HTTP query API (/api/v1/query, /api/v1/query_range) on MetricsService.Query/QueryRange.

Same parameters, same JSON shape and the same error shape as Prometheus, so Grafana and other
Prometheus clients work unchanged. Like Prometheus, GET and form-encoded POST are both accepted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import grpc
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from alerting.jsonmap import JSON, JSONObject
from alerting.naming import enum_to_json
from alerting.v1 import metrics_service_pb2
from gateway.backend import Backend
from gateway.body import read_body
from gateway.errors import HTTP_STATUS, GatewayError, log
from gateway.promparams import PromError, check_range, format_time, format_value, parse_step, parse_time
from gateway.routes import RpcRoute

QUERY = "alerting.v1.MetricsService.Query"
QUERY_RANGE = "alerting.v1.MetricsService.QueryRange"

# Prometheus' errorType and HTTP status for a gRPC code; other codes keep the REST status.
_ERROR_TYPES: dict[grpc.StatusCode, tuple[str, int]] = {
    grpc.StatusCode.INVALID_ARGUMENT: ("bad_data", 400),
    grpc.StatusCode.NOT_FOUND: ("not_found", 404),
    grpc.StatusCode.CANCELLED: ("canceled", 499),
    grpc.StatusCode.DEADLINE_EXCEEDED: ("timeout", 503),
    grpc.StatusCode.UNAVAILABLE: ("unavailable", 503),
    grpc.StatusCode.RESOURCE_EXHAUSTED: ("execution", 422),
    grpc.StatusCode.FAILED_PRECONDITION: ("execution", 422),
}
_RESULT_TYPE = metrics_service_pb2.ResultType.DESCRIPTOR

Params = dict[str, str]
Handler = Callable[[Params], Message]


def serves_prometheus(route: RpcRoute) -> bool:
    return route.name in _REQUEST_BUILDERS


def prometheus_endpoint(
    route: RpcRoute, backend: Backend, max_body_bytes: int
) -> Callable[[Request], Awaitable[Response]]:
    build = _REQUEST_BUILDERS[route.name]

    async def endpoint(request: Request) -> Response:
        try:
            params = await _form(request, max_body_bytes)
            response = await backend.unary(route, build(params), request)
        except PromError as exc:
            return _error("bad_data", str(exc), 400)
        except GatewayError as exc:
            return _error("bad_data", exc.message, exc.status)
        except grpc.aio.AioRpcError as exc:
            error_type, status = _ERROR_TYPES.get(exc.code(), ("internal", HTTP_STATUS.get(exc.code(), 500)))
            message = exc.details() if status < 500 or error_type != "internal" else "internal error"
            return _error(error_type, message or exc.code().name.lower(), status)
        except Exception:
            log.exception("unexpected error serving %s", request.url.path)
            return _error("internal", "internal error", 500)
        return JSONResponse(result_json(response))

    return endpoint


async def _form(request: Request, max_body_bytes: int) -> Params:
    """Query string and form body merged; the body wins, as in Go's Request.FormValue."""
    params = dict(request.query_params)
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        raw = await read_body(request, max_body_bytes)
        params.update(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    return params


def _instant(params: Params) -> Message:
    message = metrics_service_pb2.QueryRequest(
        query=params.get("query", ""), datasource=params.get("datasource", "")
    )
    if params.get("time"):
        message.time.FromMilliseconds(parse_time(params["time"], "time"))
    return message


def _range(params: Params) -> Message:
    start = parse_time(params.get("start", ""), "start")
    end = parse_time(params.get("end", ""), "end")
    step = parse_step(params.get("step", ""))
    check_range(start, end, step)
    message = metrics_service_pb2.QueryRangeRequest(
        query=params.get("query", ""), datasource=params.get("datasource", "")
    )
    message.start.FromMilliseconds(start)
    message.end.FromMilliseconds(end)
    message.step.FromMilliseconds(step)
    return message


_REQUEST_BUILDERS: dict[str, Handler] = {QUERY: _instant, QUERY_RANGE: _range}


def result_json(response: Message) -> JSONObject:
    """`{"status": "success", "data": {"resultType": ..., "result": ...}}` of a query response."""
    assert isinstance(response, metrics_service_pb2.QueryResponse | metrics_service_pb2.QueryRangeResponse)
    result_type = enum_to_json(_RESULT_TYPE, response.result_type)
    result: JSON
    if result_type in ("scalar", "string"):
        assert isinstance(response, metrics_service_pb2.QueryResponse)
        at = format_time(response.scalar.timestamp_ms)
        value = format_value(response.scalar.value) if result_type == "scalar" else response.string_value
        result = [at, value]
    elif result_type == "matrix":
        result = [
            {
                "metric": dict(s.labels),
                "values": [[format_time(p.timestamp_ms), format_value(p.value)] for p in s.points],
            }
            for s in response.series
        ]
    else:
        result_type = "vector"
        result = [
            {"metric": dict(s.labels), "value": [format_time(p.timestamp_ms), format_value(p.value)]}
            for s in response.series
            for p in s.points[-1:]
        ]
    body: JSONObject = {"status": "success", "data": {"resultType": result_type, "result": result}}
    if response.warnings:
        body["warnings"] = list(response.warnings)
    return body


def _error(error_type: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"status": "error", "errorType": error_type, "error": message}, status_code=status)
