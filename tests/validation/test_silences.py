from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from alerting_server.model import Silence
from alerting_server.validation.resources import validate_silence
from tests.validation.helpers import violations_of

NOW = 1_700_000_000_000
SILENCE = Silence(
    matchers=('host="server01"', 'severity=~"warning|info"'),
    starts_at=NOW,
    ends_at=NOW + 3_600_000,
    created_by="alice",
    comment="maintenance",
)


def errors(**changes: Any) -> dict[str, str]:
    return violations_of(lambda: validate_silence(dataclasses.replace(SILENCE, **changes), NOW))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"matchers": ("host=server01",)},
        # One matcher that needs the label is enough, even beside ones that match "".
        {"matchers": ('host="server01"', 'env=~".*"')},
        # Starting in the past is fine (Alertmanager moves it to now); ending in the past is not.
        {"starts_at": NOW - 10_000},
        {"starts_at": NOW + 60_000, "ends_at": NOW + 120_000},
    ],
)
def test_valid_silences(changes: dict[str, Any]) -> None:
    validate_silence(dataclasses.replace(SILENCE, **changes), NOW)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"matchers": ()}, "matchers", "at least one matcher is required"),
        ({"matchers": ('env=~".*"',)}, "matchers", "at least one matcher must not match the empty string"),
        (
            {"matchers": ('host=""', 'env!="prod"')},
            "matchers",
            "at least one matcher must not match the empty string",
        ),
        ({"matchers": ('host="a"', "bad matcher")}, "matchers[1]", "bad matcher format: bad matcher"),
        (
            {"matchers": ('host=~"(?!x)"',)},
            "matchers[0]",
            "invalid or unsupported Perl syntax: `(?!`",
        ),
        ({"matchers": tuple(f'l{i}="v"' for i in range(65))}, "matchers", "at most 64 matchers"),
        ({"ends_at": NOW}, "ends_at", "must be after starts_at"),
        ({"ends_at": NOW - 1}, "ends_at", "must be after starts_at"),
        ({"starts_at": NOW - 7_200_000, "ends_at": NOW - 3_600_000}, "ends_at", "must not be in the past"),
        ({"created_by": ""}, "created_by", "is required"),
        ({"comment": "  "}, "comment", "is required"),
        ({"comment": "x" * 70_000}, "comment", "must be at most 65536 characters"),
    ],
)
def test_invalid_silences(changes: dict[str, Any], field: str, reason: str) -> None:
    found = errors(**changes)
    assert list(found) == [field]
    assert reason in found[field]


def test_all_violations_at_once() -> None:
    found = errors(matchers=("nope",), ends_at=NOW - 1, created_by="", comment="")
    assert set(found) == {"matchers[0]", "ends_at", "created_by", "comment"}
