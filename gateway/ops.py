"""Operational endpoints: liveness, readiness (the server's gRPC health, and what in its routing
tree cannot deliver) and Prometheus metrics."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from alerting.v1 import routing_service_pb2
from alerting_common.jsonmap import JSON, JSONObject
from alerting_common.readiness import from_metadata
from gateway.backend import Backend, call_metadata
from gateway.errors import Endpoint

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
GET_ROUTING = "/alerting.v1.RoutingService/GetRouting"
# Path -> what it answers; served with GET.
OPERATIONS: dict[str, str] = {
    "/healthz": "Liveness: the gateway process answers.",
    "/readyz": "Readiness: the gRPC server reports SERVING; `problems` lists what keeps it from serving "
    "(its database out of reach, a schema of another version) and what in the routing tree cannot "
    "deliver (when the caller may read the routing).",
    "/metrics": "Prometheus exposition of the process's metrics.",
    "/openapi.json": "This document.",
}


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def readyz(backend: Backend, timeout: float) -> Endpoint:
    """200 when the server's overall health (service "") is SERVING, 503 otherwise or unreachable;
    the body lists the problems the server gave with its answer, then the routing's."""

    async def endpoint(request: Request) -> Response:
        check = backend.channel.unary_unary(
            HEALTH_CHECK,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            call = check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout, metadata=call_metadata(request)
            )
            response = await call
            trailers = await call.trailing_metadata()
        except grpc.aio.AioRpcError as exc:
            return JSONResponse({"status": "unavailable", "reason": exc.code().name}, status_code=503)
        serving = response.status == health_pb2.HealthCheckResponse.SERVING
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        body: JSONObject = {"status": status.lower()}
        problems: list[JSON] = [
            {"field": p.field, "description": p.description} for p in from_metadata(trailers or ())
        ]
        if serving:
            # Still ready: the server works and takes fixes; a route that cannot deliver is a
            # problem of its configuration, said here so that a probe's log shows it.
            problems.extend(await _routing_problems(backend, request, timeout))
        if problems:
            body["problems"] = problems
        return JSONResponse(body, status_code=200 if serving else 503)

    return endpoint


async def _routing_problems(backend: Backend, request: Request, deadline_s: float) -> list[JSON]:
    get = backend.channel.unary_unary(
        GET_ROUTING,
        request_serializer=routing_service_pb2.GetRoutingRequest.SerializeToString,
        response_deserializer=routing_service_pb2.GetRoutingResponse.FromString,
    )
    try:
        response = await get(
            routing_service_pb2.GetRoutingRequest(), timeout=deadline_s, metadata=call_metadata(request)
        )
    except grpc.aio.AioRpcError:
        # No tree yet, or a caller without a read token: nothing to say about the routing.
        return []
    return [{"field": f"routing.{p.field}", "description": p.description} for p in response.route.problems]


async def metrics(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
