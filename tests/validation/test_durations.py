from __future__ import annotations

import pytest

from alerting_server.errors import Violations
from alerting_server.validation.durations import MAX_DURATION_MS, check_duration_ms, parse_duration_field
from tests.validation.helpers import collected


@pytest.mark.parametrize(
    ("ms", "positive", "reason"),
    [
        (None, True, None),
        (0, False, None),
        (300_000, True, None),
        (MAX_DURATION_MS, False, None),
        (0, True, "must be greater than zero"),
        (-1000, False, "must not be negative, got -1s"),
        (MAX_DURATION_MS + 1, False, "out of range: at most 292y24w3d23h47m16s854ms"),
    ],
)
def test_check_duration_ms(ms: int | None, positive: bool, reason: str | None) -> None:
    found = collected(lambda v: check_duration_ms(v, "duration", ms, positive=positive))
    assert found == ({} if reason is None else {"duration": reason})


@pytest.mark.parametrize(
    ("text", "positive", "ms", "reason"),
    [
        ("5m", False, 300_000, None),
        ("1h30m", True, 5_400_000, None),
        ("0s", False, 0, None),
        ("0", False, 0, None),
        ("0s", True, None, "must be greater than zero"),
        ("", False, None, "empty duration string"),
        ("5 minutes", False, None, "not a valid duration string: '5 minutes'"),
        ("-5m", False, None, "not a valid duration string: '-5m'"),
        ("1m1h", False, None, "units must be in descending order"),
        ("999999999y", False, None, "duration out of range"),
        (30, False, None, 'must be a duration string such as "5m", got int'),
        (None, False, None, 'must be a duration string such as "5m", got NoneType'),
    ],
)
def test_parse_duration_field(text: object, positive: bool, ms: int | None, reason: str | None) -> None:
    v = Violations()
    assert parse_duration_field(v, "groups[0].interval", text, positive=positive) == ms
    found = {item.field: item.description for item in v.items}
    if reason is None:
        assert found == {}
    else:
        assert list(found) == ["groups[0].interval"]
        assert reason in found["groups[0].interval"]
