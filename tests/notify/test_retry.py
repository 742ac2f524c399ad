from __future__ import annotations

import pytest

from alerting_server.notify.retry import next_delay


def test_full_jitter_spans_zero_to_the_exponential_ceiling() -> None:
    assert next_delay(0, base_ms=100, cap_ms=10_000, rand=lambda: 0.0) == 0
    assert next_delay(0, base_ms=100, cap_ms=10_000, rand=lambda: 0.5) == 50
    assert next_delay(3, base_ms=100, cap_ms=10_000, rand=lambda: 0.5) == 400
    assert next_delay(3, base_ms=100, cap_ms=10_000, rand=lambda: 0.999) == 799


def test_ceiling_is_capped_even_after_many_attempts() -> None:
    assert next_delay(10, base_ms=100, cap_ms=10_000, rand=lambda: 0.5) == 5_000
    assert next_delay(10_000, base_ms=100, cap_ms=10_000, rand=lambda: 0.5) == 5_000


def test_retry_after_is_a_floor_under_the_jitter() -> None:
    assert next_delay(0, base_ms=100, cap_ms=10_000, retry_after_ms=3_000, rand=lambda: 0.5) == 3_000
    assert next_delay(8, base_ms=100, cap_ms=60_000, retry_after_ms=1_000, rand=lambda: 0.5) == 12_800


def test_retry_after_is_capped() -> None:
    assert next_delay(0, base_ms=100, cap_ms=10_000, retry_after_ms=86_400_000, rand=lambda: 0.1) == 10_000


@pytest.mark.parametrize(
    "kwargs", [{"attempt": -1}, {"attempt": 0, "base_ms": 0}, {"attempt": 0, "cap_ms": -5}]
)
def test_rejects_nonsense(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        next_delay(rand=lambda: 0.5, **kwargs)
