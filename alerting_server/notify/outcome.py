"""Where a delivery goes after one attempt: delivered, retried later, or failed for good."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alerting_server.model import DeliveryStatus
from alerting_server.model.outbox import Outcome
from alerting_server.notify.notifier import DeliveryResult
from alerting_server.notify.retry import DEFAULT_BASE_MS, DEFAULT_CAP_MS, next_delay

DEFAULT_DEADLINE_MS = 60 * 60 * 1000


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts, and how long after it was queued a notification is still worth
    sending: a page an hour late is still worth it, a day late it is noise."""

    base_ms: int = DEFAULT_BASE_MS
    cap_ms: int = DEFAULT_CAP_MS
    deadline_ms: int = DEFAULT_DEADLINE_MS


def decide(
    result: DeliveryResult,
    *,
    attempts: int,
    created_at: int,
    now: int,
    policy: RetryPolicy,
    rand: Callable[[], float],
) -> Outcome:
    """`attempts` counts this one. A retry never lands past the deadline: the last one is at it."""
    if result.ok:
        # A reason on success (a template that fell back, recipients refused) stays visible.
        return Outcome(DeliveryStatus.DELIVERED, attempts, last_error=result.reason, delivered_at=now)
    if not result.retryable:
        return Outcome(DeliveryStatus.FAILED, attempts, last_error=result.reason)
    deadline = created_at + policy.deadline_ms
    if now >= deadline:
        reason = f"gave up after {attempts} attempts: {result.reason}"
        return Outcome(DeliveryStatus.FAILED, attempts, last_error=reason)
    delay = next_delay(
        attempts - 1,
        base_ms=policy.base_ms,
        cap_ms=policy.cap_ms,
        retry_after_ms=result.retry_after_ms,
        rand=rand,
    )
    return Outcome(
        DeliveryStatus.RETRYING,
        attempts,
        last_error=result.reason,
        next_attempt_at=min(now + delay, deadline),
    )
