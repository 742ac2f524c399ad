"""The gateway application: every annotated RPC as a REST route, plus operations endpoints."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Iterable

import grpc
from google.protobuf.descriptor import FileDescriptor
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway import ackpage, alertmanager, calendar, console, ops, remote_write
from gateway.backend import Backend, ChannelOptions
from gateway.body import DEFAULT_MAX_BODY_BYTES
from gateway.errors import Endpoint, GatewayError
from gateway.guard import Authenticate, Guard
from gateway.local import LocalServer
from gateway.openapi import openapi_document
from gateway.promapi import (
    STATIC_OPENAPI_PATHS,
    STATIC_ROUTES,
    prometheus_endpoint,
    prometheus_methods,
    serves_prometheus,
)
from gateway.router import IndexedRouter
from gateway.routes import default_files, discover_routes
from gateway.sse import stream_endpoint
from gateway.telemetry import MetricsMiddleware
from gateway.unary import unary_endpoint


def create_app(
    grpc_target: str,
    *,
    channel: grpc.aio.Channel | None = None,
    credentials: grpc.ChannelCredentials | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    timeout: float | None = 30.0,
    readiness_timeout: float = 2.0,
    sse_keepalive: float | None = 15.0,
    channel_options: ChannelOptions = (),
    files: Iterable[FileDescriptor] | None = None,
    local: LocalServer | None = None,
    authenticate: Authenticate | None = None,
    token_scope: console.TokenScope | None = None,
    allowed_hosts: Collection[str] | None = None,
    origins: Collection[str] = (),
) -> Starlette:
    """The REST gateway onto the gRPC server at `grpc_target`.

        `channel`: use this channel (it stays the caller's to close) instead of opening an insecure one
        to `grpc_target`. `credentials`: TLS credentials of the channel (insecure without).
        `max_body_bytes`: larger request bodies are refused with 413. `timeout`:
        deadline in seconds of unary calls. `sse_keepalive`: seconds between keep-alive comments on idle
        event streams. `files`: the proto files whose annotated services are served (default: every
        `alerting.v1` file). `local`: the servicers behind `grpc_target` when they live in this process;
        calls then skip the transport. `authenticate`: the
        server's token check, made before a request body is read (the servicers check the token again,
        with its scope). `token_scope`: the scope of a token, for the console to show only the forms
    it may use. `allowed_hosts`: the names a request's Host may carry (None: any), against DNS
        rebinding. `origins`: `host[:port]` of the origins that are this gateway besides the request's
        Host (gateway/guard.py).
    """
    backend = Backend(
        grpc_target,
        channel=channel,
        credentials=credentials,
        timeout=timeout,
        channel_options=channel_options,
        local=local,
    )
    rpc_routes = discover_routes(default_files() if files is None else files)
    document = openapi_document(rpc_routes)
    paths = document["paths"]
    assert isinstance(paths, dict)
    paths[remote_write.PATH] = remote_write.OPENAPI_PATH_ITEM
    paths.update(STATIC_OPENAPI_PATHS)
    paths.update(alertmanager.OPENAPI_PATHS)
    paths.update(calendar.OPENAPI_PATHS)

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    operations: dict[str, Endpoint] = {
        "/healthz": ops.healthz,
        "/readyz": ops.readyz(backend, readiness_timeout),
        "/metrics": ops.metrics,
        "/openapi.json": openapi,
    }
    routes: list[BaseRoute] = [Route(path, operations[path], methods=["GET"]) for path in ops.OPERATIONS]
    # Before GET /schedules/{id}, whose {id} would take "primary.ics" too.
    routes.extend(calendar.calendar_routes(backend, rpc_routes))
    ack_json: dict[str, Endpoint] = {}
    for route in rpc_routes:
        methods = [route.http_method]
        if serves_prometheus(route):
            endpoint = prometheus_endpoint(route, backend, max_body_bytes)
            methods = prometheus_methods(route)
        elif route.server_streaming:
            endpoint = stream_endpoint(route, backend, sse_keepalive)
        else:
            endpoint = unary_endpoint(route, backend, max_body_bytes)
        if route.path == ackpage.PATH:
            # Served by the page, which answers browsers in HTML and hands JSON callers to these.
            ack_json[route.name] = endpoint
            continue
        routes.append(Route(route.path, endpoint, methods=methods, name=route.name))
    if ack_json:
        routes.append(ackpage.ack_page_route(backend, rpc_routes, ack_json, max_body_bytes))
    routes.append(
        Route(
            remote_write.PATH,
            remote_write.remote_write_endpoint(backend, max_body_bytes),
            methods=["POST"],
            name="prometheus.RemoteWrite",
        )
    )
    routes.extend(STATIC_ROUTES)
    routes.extend(alertmanager.alertmanager_routes(backend, max_body_bytes))
    routes.extend(console.console_routes(backend, rpc_routes, max_body_bytes, sse_keepalive, token_scope))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await backend.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(MetricsMiddleware),
            Middleware(console.ConsoleToken),
            Middleware(Guard, authenticate=authenticate, allowed_hosts=allowed_hosts, origins=origins),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.router = IndexedRouter(routes, lifespan=lifespan)
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    """Router errors (no such path, method not allowed) in the REST error body."""
    assert isinstance(exc, HTTPException)
    code = {404: "NOT_FOUND", 405: "UNIMPLEMENTED"}.get(exc.status_code, "UNKNOWN")
    response = GatewayError(exc.status_code, code, exc.detail).response()
    if exc.headers:
        response.headers.update(exc.headers)
    return response
