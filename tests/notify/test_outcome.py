from __future__ import annotations

from alerting_server.model import DeliveryStatus
from alerting_server.model.outbox import Outcome
from alerting_server.notify.notifier import DELIVERED, DeliveryResult
from alerting_server.notify.outcome import RetryPolicy, decide

POLICY = RetryPolicy(base_ms=1000, cap_ms=60_000, deadline_ms=3_600_000)
T0 = 1_700_000_000_000


def half() -> float:
    return 0.5


def test_delivered() -> None:
    outcome = decide(DELIVERED, attempts=2, created_at=T0, now=T0 + 5, policy=POLICY, rand=half)
    assert outcome == Outcome(DeliveryStatus.DELIVERED, 2, delivered_at=T0 + 5)


def test_permanent_errors_fail_at_once_with_the_reason() -> None:
    result = DeliveryResult(ok=False, retryable=False, status_code=400, reason="HTTP 400: bad")
    outcome = decide(result, attempts=1, created_at=T0, now=T0, policy=POLICY, rand=half)
    assert outcome == Outcome(DeliveryStatus.FAILED, 1, last_error="HTTP 400: bad")


def test_retries_back_off_with_jitter() -> None:
    result = DeliveryResult(ok=False, retryable=True, status_code=503, reason="HTTP 503")
    times = [
        decide(result, attempts=n, created_at=T0, now=T0, policy=POLICY, rand=half).next_attempt_at
        for n in (1, 2, 3, 10)
    ]
    assert times == [T0 + 500, T0 + 1000, T0 + 2000, T0 + 30_000]


def test_retry_after_is_a_floor() -> None:
    result = DeliveryResult(
        ok=False, retryable=True, status_code=429, retry_after_ms=20_000, reason="HTTP 429"
    )
    outcome = decide(result, attempts=1, created_at=T0, now=T0, policy=POLICY, rand=half)
    assert (outcome.status, outcome.next_attempt_at) == (DeliveryStatus.RETRYING, T0 + 20_000)


def test_the_last_retry_is_at_the_deadline_then_it_fails() -> None:
    result = DeliveryResult(ok=False, retryable=True, reason="timed out (ReadTimeout)")
    near = T0 + POLICY.deadline_ms - 100
    outcome = decide(result, attempts=20, created_at=T0, now=near, policy=POLICY, rand=half)
    assert outcome.next_attempt_at == T0 + POLICY.deadline_ms
    late = decide(result, attempts=21, created_at=T0, now=T0 + POLICY.deadline_ms, policy=POLICY, rand=half)
    assert late == Outcome(
        DeliveryStatus.FAILED, 21, last_error="gave up after 21 attempts: timed out (ReadTimeout)"
    )
