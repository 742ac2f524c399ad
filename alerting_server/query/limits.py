"""What one evaluation may cost: Prometheus' query.max-samples and query.timeout.

Samples are counted as the evaluator holds them: what a selector loads, and each intermediate
value while its parent still needs it (released when the parent is done, as Prometheus does). An
instant vector is stored as series by steps whether or not every step has a sample, so that is
what it counts. The deadline is checked at every node and inside the loops over steps, so an
evaluation past it stops instead of running on in its thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from alerting_server.query.errors import QueryTimeout, TooManySamples

DEFAULT_MAX_SAMPLES = 50_000_000
DEFAULT_TIMEOUT_MS = 2 * 60 * 1000


@dataclass(frozen=True)
class QueryLimits:
    max_samples: int = DEFAULT_MAX_SAMPLES
    timeout_ms: int = DEFAULT_TIMEOUT_MS


DEFAULT_LIMITS = QueryLimits()


class Budget:
    """One evaluation's use of its limits."""

    def __init__(self, limits: QueryLimits) -> None:
        self.max_samples = limits.max_samples
        self.deadline = time.monotonic() + limits.timeout_ms / 1000
        self.held = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise QueryTimeout()

    def hold(self, samples: int) -> None:
        """`samples` more are held from now on; call before allocating them, so that nothing too large is."""
        self.held += samples
        if self.held > self.max_samples:
            raise TooManySamples()
