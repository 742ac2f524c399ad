"""When to try again: exponential backoff with full jitter, capped, never sooner than Retry-After.

Full jitter (a uniform delay in [0, min(cap, base * 2**attempt)]) spreads the retries of many
notifications that failed together, so a receiver coming back is not hit by all of them at once.
"""

from __future__ import annotations

from collections.abc import Callable

DEFAULT_BASE_MS = 500
DEFAULT_CAP_MS = 5 * 60 * 1000


def next_delay(
    attempt: int,
    *,
    base_ms: int = DEFAULT_BASE_MS,
    cap_ms: int = DEFAULT_CAP_MS,
    retry_after_ms: int | None = None,
    rand: Callable[[], float],
) -> int:
    """Milliseconds to wait after failed attempt number `attempt` (0 for the first).

    `rand` returns a float in [0, 1), as random.random does. A receiver's Retry-After is a floor
    the backoff may not undercut; it is still capped, so a hostile header cannot park a
    notification forever.
    """
    if attempt < 0:
        raise ValueError(f"attempt must not be negative, got {attempt}")
    if base_ms <= 0 or cap_ms <= 0:
        raise ValueError("base_ms and cap_ms must be positive")
    # Bounding the exponent keeps 2**attempt from growing into a huge integer on long outages.
    ceiling = min(cap_ms, base_ms * 2 ** min(attempt, 62))
    delay = int(rand() * ceiling)
    if retry_after_ms is not None:
        delay = max(delay, min(retry_after_ms, cap_ms))
    return delay
