from __future__ import annotations

import pytest

from alerting_server.model import ChannelType
from alerting_server.notify.integrations import DEFAULT_LIMITS
from alerting_server.notify.limits import ChannelLimits, TokenBucket
from alerting_server.notify.worker import queue_capacity


@pytest.mark.parametrize(
    ("per_second", "burst", "calls", "waits"),
    [
        # Slack's 1/s without burst: each message a second after the one before.
        (1.0, 1, [0, 0, 0], [0, 1000, 2000]),
        # A burst of 3 goes at once, the fourth waits for the rate.
        (1.0, 3, [0, 0, 0, 0], [0, 0, 0, 1000]),
        # Idle time refills the bucket, but never beyond the burst.
        (2.0, 2, [0, 0, 10_000, 10_000, 10_000], [0, 0, 0, 0, 500]),
        # PagerDuty's 120/min: 2/s.
        (2.0, 1, [0, 100, 200], [0, 400, 800]),
    ],
)
def test_token_bucket_reserves_slots(
    per_second: float, burst: int, calls: list[int], waits: list[int]
) -> None:
    bucket = TokenBucket(per_second, burst)
    assert [bucket.reserve(now) for now in calls] == waits


def test_defaults_respect_the_receivers_published_limits() -> None:
    assert DEFAULT_LIMITS[ChannelType.SLACK].per_second <= 1
    assert DEFAULT_LIMITS[ChannelType.PAGERDUTY].per_second * 60 <= 120
    assert set(DEFAULT_LIMITS) == set(ChannelType)


def test_queue_capacity_is_bounded_and_covers_the_senders() -> None:
    assert queue_capacity(ChannelLimits(concurrency=1, per_second=1, burst=1)) == 5
    assert queue_capacity(ChannelLimits(concurrency=16, per_second=10_000, burst=10)) == 256
    assert queue_capacity(ChannelLimits(concurrency=100, per_second=1, burst=1)) == 400


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        ChannelLimits(concurrency=0, per_second=1, burst=1)
