"""Operational endpoints: liveness, readiness (the server's gRPC health) and Prometheus metrics."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.backend import Backend, call_metadata
from gateway.errors import Endpoint

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
# Path -> what it answers; served with GET.
OPERATIONS: dict[str, str] = {
    "/healthz": "Liveness: the gateway process answers.",
    "/readyz": "Readiness: the gRPC server reports SERVING.",
    "/metrics": "Prometheus exposition of the process's metrics.",
    "/openapi.json": "This document.",
}


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def readyz(backend: Backend, timeout: float) -> Endpoint:
    """200 when the server's overall health (service "") is SERVING, 503 otherwise or unreachable."""

    async def endpoint(request: Request) -> Response:
        check = backend.channel.unary_unary(
            HEALTH_CHECK,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            response = await check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout, metadata=call_metadata(request)
            )
        except grpc.aio.AioRpcError as exc:
            return JSONResponse({"status": "unavailable", "reason": exc.code().name}, status_code=503)
        serving = response.status == health_pb2.HealthCheckResponse.SERVING
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        return JSONResponse({"status": status.lower()}, status_code=200 if serving else 503)

    return endpoint


async def metrics(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
