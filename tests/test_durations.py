from __future__ import annotations

import pytest

from alerting_common.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "ms", "canonical"),
    [
        ("0", 0, "0s"),
        ("0s", 0, "0s"),
        ("250ms", 250, "250ms"),
        ("30s", 30_000, "30s"),
        ("5m", 300_000, "5m"),
        ("90m", 5_400_000, "1h30m"),
        ("1h30m", 5_400_000, "1h30m"),
        ("24h", 86_400_000, "1d"),
        ("2w", 1_209_600_000, "2w"),
        ("1y", 31_536_000_000, "1y"),
        ("1m30s500ms", 90_500, "1m30s500ms"),
    ],
)
def test_round_trip(text: str, ms: int, canonical: str) -> None:
    assert parse_duration(text) == ms
    assert format_duration(ms) == canonical
    assert parse_duration(canonical) == ms


@pytest.mark.parametrize("text", ["", "5", "m", "1.5h", "-1m", "5M", "30m1h", "1h1h", "5 m", "1e3s"])
def test_rejects_what_prometheus_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
