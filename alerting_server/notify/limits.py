"""Per-channel concurrency and rate: receivers throttle us, and what they would reject with 429 we
had better not send. Each integration has its own (notify/integrations/)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelLimits:
    concurrency: int
    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.per_second <= 0 or self.burst < 1:
            raise ValueError(f"limits must be positive: {self}")


class TokenBucket:
    """The generic cell rate algorithm, which is a token bucket kept as one number. Each call
    reserves a slot, now or in the future, and says how long to wait for it: waiting callers queue
    in order, and the bucket itself never sleeps (time is a parameter)."""

    def __init__(self, per_second: float, burst: int) -> None:
        self._interval = 1000.0 / per_second
        self._tolerance = (burst - 1) * self._interval
        # The theoretical arrival time of the next slot at the steady rate.
        self._tat = float("-inf")

    def reserve(self, now_ms: int) -> int:
        """Milliseconds until the reserved slot (0: go now)."""
        tat = max(self._tat, float(now_ms))
        self._tat = tat + self._interval
        return max(0, math.ceil(tat - self._tolerance - now_ms))
