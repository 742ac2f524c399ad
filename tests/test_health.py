"""The readiness monitor: every service's gRPC health follows its probes, and the Check answer says
why while it is not serving."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from alerting_common.readiness import Problem, from_metadata
from alerting_server.health import HealthMonitor, Readiness

SERVICES = ("", "alerting.v1.RuleService", "alerting.v1.AlertService")


class Probe:
    """Answers what the test sets; counts its calls."""

    def __init__(self) -> None:
        self.answer: str | None = None
        self.error: Exception | None = None
        self.calls = 0
        self.called = asyncio.Event()

    async def __call__(self) -> str | None:
        self.calls += 1
        self.called.set()
        if self.error is not None:
            raise self.error
        return self.answer


@pytest_asyncio.fixture
async def readiness() -> AsyncIterator[tuple[Readiness, health_pb2_grpc.HealthStub]]:
    servicer = Readiness()
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield servicer, health_pb2_grpc.HealthStub(channel)
    await server.stop(None)


async def statuses(stub: health_pb2_grpc.HealthStub) -> dict[str, str]:
    answers = {}
    for name in SERVICES:
        response = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        answers[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return answers


async def problems(stub: health_pb2_grpc.HealthStub) -> list[Problem]:
    call = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    await call
    return from_metadata(await call.trailing_metadata() or ())


def everywhere(status: str) -> dict[str, str]:
    return dict.fromkeys(SERVICES, status)


async def test_nothing_is_serving_before_the_first_check(
    readiness: tuple[Readiness, health_pb2_grpc.HealthStub],
) -> None:
    _, stub = readiness

    response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)

    assert response.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_every_service_follows_the_probes_and_the_answer_says_why(
    readiness: tuple[Readiness, health_pb2_grpc.HealthStub],
) -> None:
    servicer, stub = readiness
    database, other = Probe(), Probe()
    monitor = HealthMonitor(servicer, SERVICES, {"database_url": database, "other": other}, interval_s=60)
    await monitor.start()
    try:
        assert await statuses(stub) == everywhere("SERVING")
        assert await problems(stub) == []

        database.answer = "database postgresql://u:***@db/alerting is unreachable: Connection refused"
        other.answer = "ünïcode survives the trip"
        assert len(await monitor.check()) == 2
        assert await statuses(stub) == everywhere("NOT_SERVING")
        assert await problems(stub) == [
            Problem("database_url", database.answer),
            Problem("other", other.answer),
        ]

        database.answer = other.answer = None
        assert await monitor.check() == ()
        assert await statuses(stub) == everywhere("SERVING")
        assert await problems(stub) == []
    finally:
        await monitor.stop()


async def test_a_probe_that_fails_unforeseen_is_a_problem_too(
    readiness: tuple[Readiness, health_pb2_grpc.HealthStub],
) -> None:
    servicer, stub = readiness
    probe = Probe()
    probe.error = RuntimeError("boom")
    monitor = HealthMonitor(servicer, SERVICES, {"database_url": probe}, interval_s=60)
    await monitor.start()
    try:
        assert await statuses(stub) == everywhere("NOT_SERVING")
        assert await problems(stub) == [Problem("database_url", "the check failed: RuntimeError")]
    finally:
        await monitor.stop()


async def test_the_monitor_checks_again_by_itself_until_stopped(
    readiness: tuple[Readiness, health_pb2_grpc.HealthStub],
) -> None:
    servicer, stub = readiness
    probe = Probe()
    probe.answer = "down"
    monitor = HealthMonitor(servicer, SERVICES, {"database_url": probe}, interval_s=0.01)
    await monitor.start()
    assert await statuses(stub) == everywhere("NOT_SERVING")

    probe.answer = None
    async with asyncio.timeout(5):
        # The round after the one that saw the change began: that one's answer is applied.
        for _ in range(2):
            probe.called.clear()
            await probe.called.wait()
    assert await statuses(stub) == everywhere("SERVING")
    await monitor.stop()
    calls = probe.calls
    await asyncio.sleep(0.05)

    assert probe.calls == calls


async def test_a_shutdown_stays_not_serving_whatever_the_probes_say(
    readiness: tuple[Readiness, health_pb2_grpc.HealthStub],
) -> None:
    servicer, stub = readiness
    monitor = HealthMonitor(servicer, SERVICES, {"database_url": Probe()}, interval_s=60)
    await monitor.start()
    await servicer.enter_graceful_shutdown()

    await monitor.check()

    assert await statuses(stub) == everywhere("NOT_SERVING")
    await monitor.stop()
