"""The gateway's own request metrics, by route template and status, in the default registry."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "alerting_gateway_http_requests_total",
    "HTTP requests answered by the REST gateway.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "alerting_gateway_http_request_duration_seconds",
    "Time to answer an HTTP request (the whole stream for Server-Sent Events).",
    ["method", "route"],
)
UNMATCHED = "<unmatched>"


class MetricsMiddleware:
    """Counts every HTTP request under the template of the route that served it (`/rules/{id}`), so
    that the label set stays bounded whatever ids callers send."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", UNMATCHED)
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)
