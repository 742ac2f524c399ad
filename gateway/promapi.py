"""Prometheus' HTTP API on MetricsService: queries (/api/v1/query, /api/v1/query_range), the listings a
metric browser reads (/api/v1/labels, /api/v1/label/<name>/values, /api/v1/series), and the
/api/v1/metadata and /api/v1/status/buildinfo that Grafana asks for.

Same parameters, same JSON shape and the same error shape as Prometheus, so Grafana and other
Prometheus clients work unchanged. Where Prometheus accepts form-encoded POST beside GET, so do we.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import grpc
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alerting.v1 import metrics_service_pb2
from alerting_common.histograms import expand, populated_buckets
from alerting_common.jsonmap import JSON, JSONObject
from alerting_common.naming import enum_to_json
from gateway.backend import Backend
from gateway.body import read_body
from gateway.buildinfo import build_info
from gateway.errors import HTTP_STATUS, GatewayError, log
from gateway.promparams import (
    PromError,
    check_range,
    format_time,
    format_value,
    parse_limit,
    parse_step,
    parse_time,
)
from gateway.routes import RpcRoute

QUERY = "alerting.v1.MetricsService.Query"
QUERY_RANGE = "alerting.v1.MetricsService.QueryRange"
LABEL_NAMES = "alerting.v1.MetricsService.ListLabelNames"
LABEL_VALUES = "alerting.v1.MetricsService.ListLabelValues"
SERIES = "alerting.v1.MetricsService.ListSeries"

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


class Params:
    """A request's path parameters, form body and query string, looked up as Go's Request.Form is:
    the body's values before the query string's."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def get(self, name: str) -> str:
        return next((value for key, value in self._pairs if key == name), "")

    def all(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


Handler = Callable[[Params], Message]


def serves_prometheus(route: RpcRoute) -> bool:
    return route.name in _REQUEST_BUILDERS


def prometheus_methods(route: RpcRoute) -> list[str]:
    """GET, and POST where Prometheus takes it too (it does not for label values)."""
    return ["GET"] if route.name == LABEL_VALUES else ["GET", "POST"]


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
    pairs = list(request.path_params.items())
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        raw = await read_body(request, max_body_bytes)
        pairs += parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return Params(pairs + list(request.query_params.multi_items()))


def _instant(params: Params) -> Message:
    message = metrics_service_pb2.QueryRequest(query=params.get("query"), datasource=params.get("datasource"))
    if params.get("time"):
        message.time.FromMilliseconds(parse_time(params.get("time"), "time"))
    return message


def _range(params: Params) -> Message:
    start = parse_time(params.get("start"), "start")
    end = parse_time(params.get("end"), "end")
    step = parse_step(params.get("step"))
    check_range(start, end, step)
    message = metrics_service_pb2.QueryRangeRequest(
        query=params.get("query"), datasource=params.get("datasource")
    )
    message.start.FromMilliseconds(start)
    message.end.FromMilliseconds(end)
    message.step.FromMilliseconds(step)
    return message


def _selection(params: Params) -> metrics_service_pb2.SeriesSelection:
    selection = metrics_service_pb2.SeriesSelection(
        match=params.all("match[]"), limit=parse_limit(params.get("limit"))
    )
    for name in ("start", "end"):
        if params.get(name):
            getattr(selection, name).FromMilliseconds(parse_time(params.get(name), name))
    return selection


def _label_names(params: Params) -> Message:
    return metrics_service_pb2.ListLabelNamesRequest(selection=_selection(params))


def _label_values(params: Params) -> Message:
    return metrics_service_pb2.ListLabelValuesRequest(name=params.get("name"), selection=_selection(params))


def _series(params: Params) -> Message:
    if not params.all("match[]"):
        raise PromError("no match[] parameter provided")
    return metrics_service_pb2.ListSeriesRequest(selection=_selection(params))


_REQUEST_BUILDERS: dict[str, Handler] = {
    QUERY: _instant,
    QUERY_RANGE: _range,
    LABEL_NAMES: _label_names,
    LABEL_VALUES: _label_values,
    SERIES: _series,
}


def result_json(response: Message) -> JSONObject:
    """The success body of any of the routes above."""
    data: JSON
    if isinstance(response, metrics_service_pb2.ListLabelNamesResponse):
        data = list(response.names)
    elif isinstance(response, metrics_service_pb2.ListLabelValuesResponse):
        data = list(response.values)
    elif isinstance(response, metrics_service_pb2.ListSeriesResponse):
        data = [dict(s.labels) for s in response.series]
    else:
        return _query_json(response)
    body: JSONObject = {"status": "success", "data": data}
    if response.warnings:
        body["warnings"] = list(response.warnings)
    return body


def _query_json(response: Message) -> JSONObject:
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
        result = [_matrix_series(s) for s in response.series]
    else:
        result_type = "vector"
        result = [
            {
                "metric": dict(s.labels),
                "histogram": [format_time(p.timestamp_ms), histogram_json(p.histogram)],
            }
            if p.HasField("histogram")
            else {"metric": dict(s.labels), "value": [format_time(p.timestamp_ms), format_value(p.value)]}
            for s in response.series
            for p in s.points[-1:]
        ]
    body: JSONObject = {"status": "success", "data": {"resultType": result_type, "result": result}}
    if response.warnings:
        body["warnings"] = list(response.warnings)
    return body


def _matrix_series(s: metrics_service_pb2.Series) -> JSONObject:
    """A series of a matrix: its floats as `values` and its histograms as `histograms`, each key only
    when the series has such points (Prometheus' marshalSeriesJSON)."""
    out: JSONObject = {"metric": dict(s.labels)}
    floats: list[JSON] = []
    histograms: list[JSON] = []
    for p in s.points:
        if p.HasField("histogram"):
            histograms.append([format_time(p.timestamp_ms), histogram_json(p.histogram)])
        else:
            floats.append([format_time(p.timestamp_ms), format_value(p.value)])
    if floats or not histograms:
        out["values"] = floats
    if histograms:
        out["histograms"] = histograms
    return out


def histogram_json(h: metrics_service_pb2.NativeHistogram) -> JSONObject:
    """Prometheus' jsonutil.MarshalHistogram: count, sum and the populated buckets as
    [boundary rule, lower, upper, count], the key `buckets` left out when there are none."""
    out: JSONObject = {"count": format_value(h.count), "sum": format_value(h.sum)}
    buckets: list[JSON] = [
        [rule, format_value(lower), format_value(upper), format_value(count)]
        for rule, lower, upper, count in populated_buckets(
            h.schema,
            h.zero_threshold,
            h.zero_count,
            expand([(s.offset, s.length) for s in h.positive_spans], list(h.positive_buckets)),
            expand([(s.offset, s.length) for s in h.negative_spans], list(h.negative_buckets)),
            list(h.custom_values),
        )
    ]
    if buckets:
        out["buckets"] = buckets
    return out


def _error(error_type: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"status": "error", "errorType": error_type, "error": message}, status_code=status)


async def _buildinfo(request: Request) -> Response:
    # Our own version, not a Prometheus one we would have to live up to. Grafana reads `version` to
    # guess a Prometheus' features; it finds none here and keeps to the API every Prometheus serves
    # (label values through /api/v1/series), which this server answers. A data source set to a
    # Prometheus type and version in Grafana uses that setting instead.
    return JSONResponse({"status": "success", "data": build_info()})


async def _metadata(request: Request) -> Response:
    # The store keeps samples, not the TYPE/HELP/UNIT metadata remote write sends beside them: nothing
    # to list, in the shape of a Prometheus that has none (an empty object, not an error).
    return JSONResponse({"status": "success", "data": {}})


# Prometheus' status and metadata routes that answer from the gateway itself, no RPC behind them.
STATIC_ROUTES = [
    Route("/api/v1/status/buildinfo", _buildinfo, methods=["GET"], name="prometheus.BuildInfo"),
    Route("/api/v1/metadata", _metadata, methods=["GET"], name="prometheus.Metadata"),
]


def _static_operation(name: str, summary: str) -> JSONObject:
    return {
        "get": {
            "operationId": f"Prometheus{name}",
            "tags": ["MetricsService"],
            "summary": summary,
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/PrometheusResult"}}
                    },
                }
            },
        }
    }


# Served, so documented with the RPC routes.
STATIC_OPENAPI_PATHS: dict[str, JSONObject] = {
    "/api/v1/status/buildinfo": _static_operation(
        "BuildInfo", "This server's own version and build, in Prometheus' shape"
    ),
    "/api/v1/metadata": _static_operation("Metadata", "Metric metadata: none is kept, so always {}"),
}
