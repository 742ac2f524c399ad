"""Readiness: the gRPC health of every service follows what the server cannot work without.

A replica whose database is out of reach, or whose database schema is not the one its code was
written for (a newer replica migrated it, or it was restored from an older backup), answers
NOT_SERVING with the reason, and SERVING again by itself once the cause is gone; a load balancer or
an orchestrator then sends the traffic to the replicas that can take it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio  # type: ignore[attr-defined]

from alerting_common.readiness import Problem, to_metadata
from alerting_server.tasks import cancel

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

# Returns None when all is well, else what is wrong (naming no secret).
Probe = Callable[[], Awaitable[str | None]]


class Readiness(aio.HealthServicer):  # type: ignore[misc]
    """grpc.health.v1, whose Check answer carries, while something stands in the way, what it is
    (alerting_common/readiness.py)."""

    def __init__(self) -> None:
        super().__init__()
        # The stock servicer starts SERVING; nothing is known before the first check.
        self._server_status[""] = NOT_SERVING
        self.problems: tuple[Problem, ...] = ()

    async def Check(self, request: health_pb2.HealthCheckRequest, context: Any) -> Any:
        response = await super().Check(request, context)
        if self.problems:
            context.set_trailing_metadata(to_metadata(self.problems))
        return response


class HealthMonitor:
    """Runs each probe every `interval_s` and sets every service of `services` SERVING when none
    reports a problem, NOT_SERVING otherwise. `probes` maps the setting each one checks (the
    `field` of its problem) to the probe; a probe bounds its own time."""

    def __init__(
        self,
        readiness: Readiness,
        services: Sequence[str],
        probes: Mapping[str, Probe],
        interval_s: float = 1.0,
    ) -> None:
        self._readiness = readiness
        self._services = tuple(services)
        self._probes = dict(probes)
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._status: int | None = None

    async def start(self) -> None:
        """Checks once, so that the first answer is already the truth, then goes on checking."""
        await self.check()
        self._task = asyncio.create_task(self._run(), name="health-monitor")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def check(self) -> tuple[Problem, ...]:
        """One round of the probes; the services' status follows it. Returns the problems found."""
        problems = []
        for field, probe in self._probes.items():
            try:
                description = await probe()
            except Exception as exc:
                # A probe that fails in a way it did not foresee proves nothing is well either.
                log.exception("readiness probe of %s failed", field)
                description = f"the check failed: {type(exc).__name__}"
            if description:
                problems.append(Problem(field, description))
        await self._apply(tuple(problems))
        return tuple(problems)

    async def _apply(self, problems: tuple[Problem, ...]) -> None:
        if problems != self._readiness.problems:
            for problem in problems:
                if problem not in self._readiness.problems:
                    log.warning("not ready: %s: %s", problem.field, problem.description)
            if not problems and self._status is not None:
                log.warning("ready again")
        self._readiness.problems = problems
        status = NOT_SERVING if problems else SERVING
        if status != self._status:
            for name in self._services:
                await self._readiness.set(name, status)
            self._status = status

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.check()
