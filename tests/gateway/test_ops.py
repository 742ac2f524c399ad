from __future__ import annotations

import grpc
import httpx
from grpc_health.v1 import health_pb2

from alerting.v1 import routing_service_pb2
from alerting_common.readiness import Problem
from alerting_server.health import Readiness
from gateway import create_app

from .fakes import FakeServer


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_follows_the_server_health(client: httpx.AsyncClient, server: FakeServer) -> None:
    serving = await client.get("/readyz")
    await server.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    not_serving = await client.get("/readyz")

    assert (serving.status_code, serving.json()) == (200, {"status": "serving"})
    assert (not_serving.status_code, not_serving.json()) == (503, {"status": "not_serving"})


async def test_readyz_names_what_in_the_routing_cannot_deliver(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    problem = routing_service_pb2.RoutingProblem(
        field="routes[0].receiver", description="no channel with id or name 'ops-slack'"
    )
    server.route = routing_service_pb2.Route(receiver="email", problems=[problem])

    response = await client.get("/readyz")

    # Still ready: the server works, and takes the fix.
    assert (response.status_code, response.json()) == (
        200,
        {
            "status": "serving",
            "problems": [
                {
                    "field": "routing.routes[0].receiver",
                    "description": "no channel with id or name 'ops-slack'",
                }
            ],
        },
    )


async def test_readyz_says_what_keeps_the_server_from_serving() -> None:
    readiness = Readiness()
    server = FakeServer(health=readiness)
    await server.start()
    channel = grpc.aio.insecure_channel(server.target)
    app = create_app(server.target, channel=channel)
    problem = Problem(
        "database_url", "database postgresql://ops:***@db/alerting is unreachable: Connection refused"
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as http:
            await readiness.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
            readiness.problems = (problem,)
            not_serving = await http.get("/readyz")
            await readiness.set("", health_pb2.HealthCheckResponse.SERVING)
            readiness.problems = ()
            serving = await http.get("/readyz")
    finally:
        await channel.close(None)
        await server.stop()

    assert (not_serving.status_code, not_serving.json()) == (
        503,
        {"status": "not_serving", "problems": [{"field": problem.field, "description": problem.description}]},
    )
    assert (serving.status_code, serving.json()) == (200, {"status": "serving"})


async def test_readyz_without_a_server_is_503() -> None:
    channel = grpc.aio.insecure_channel("127.0.0.1:1")
    app = create_app("127.0.0.1:1", channel=channel, readiness_timeout=5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        response = await http.get("/readyz")
    await channel.close(None)

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "UNAVAILABLE"}


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/rules/nope-1")
    await client.get("/rules/nope-2")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    line = next(
        line
        for line in response.text.splitlines()
        if line.startswith("alerting_gateway_http_requests_total{")
        and 'route="/rules/{id}"' in line
        and 'status="404"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 2
    assert "alerting_gateway_http_request_duration_seconds_bucket" in response.text
    assert "python_info" in response.text  # the default registry's collectors
