from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from alerting_server.model import EscalationLevel, EscalationPolicy
from alerting_server.validation.resources import validate_escalation_policy
from tests.validation.helpers import violations_of

CHANNELS = {"ops-slack", "pager", "ch-9"}
POLICY = EscalationPolicy(
    name="infra",
    levels=(
        EscalationLevel(after=0, channels=("ops-slack",)),
        EscalationLevel(after=600_000, channels=("pager", "ch-9")),
        EscalationLevel(after=600_000, channels=("pager",)),
    ),
    repeat=2,
    ack_timeout=1_800_000,
)


def errors(**changes: Any) -> dict[str, str]:
    return violations_of(lambda: validate_escalation_policy(dataclasses.replace(POLICY, **changes), CHANNELS))


def level(after: int, *channels: str) -> EscalationLevel:
    return EscalationLevel(after=after, channels=channels)


@pytest.mark.parametrize(
    "changes",
    [{}, {"repeat": 0}, {"repeat": 9}, {"ack_timeout": None}, {"levels": (level(300_000, "pager"),)}],
)
def test_valid_policies(changes: dict[str, Any]) -> None:
    validate_escalation_policy(dataclasses.replace(POLICY, **changes), CHANNELS)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"name": ""}, "name", "must not be empty"),
        ({"name": "n" * 300}, "name", "must be at most 256 characters"),
        ({"levels": ()}, "levels", "at least one level is required"),
        ({"levels": tuple(level(0, "pager") for _ in range(33))}, "levels", "at most 32 levels"),
        ({"levels": (level(-1, "pager"),)}, "levels[0].after", "must not be negative"),
        (
            {"levels": (level(0, "pager"), level(600_000, "pager"), level(300_000, "pager"))},
            "levels[2].after",
            "must not be earlier than levels[1].after",
        ),
        ({"levels": (level(0),)}, "levels[0].channels", "at least one channel, user or schedule is required"),
        (
            {"levels": (level(0, "pager"), level(1, "ghost"))},
            "levels[1].channels[0]",
            "no channel with id or name 'ghost'",
        ),
        (
            {"levels": (level(0, "pager", "pager"),)},
            "levels[0].channels[1]",
            "channel 'pager' is listed twice",
        ),
        ({"repeat": -1}, "repeat", "must be between 0 and 9, got -1"),
        ({"repeat": 10}, "repeat", "must be between 0 and 9, got 10"),
        ({"ack_timeout": 0}, "ack_timeout", "must be greater than zero"),
        ({"ack_timeout": -5}, "ack_timeout", "must not be negative"),
    ],
)
def test_invalid_policies(changes: dict[str, Any], field: str, reason: str) -> None:
    found = errors(**changes)
    assert list(found) == [field]
    assert reason in found[field]


def test_every_bad_field_is_reported() -> None:
    found = errors(name="", levels=(level(10, "ghost"), level(5)), repeat=12)
    assert set(found) == {"name", "levels[0].channels[0]", "levels[1].after", "levels[1].channels", "repeat"}


def people_errors(*levels: EscalationLevel) -> dict[str, str]:
    policy = dataclasses.replace(POLICY, levels=levels)
    return violations_of(lambda: validate_escalation_policy(policy, CHANNELS, {"ana", "u1"}, {"primary"}))


def test_a_level_may_page_users_and_schedules_without_channels() -> None:
    levels = (EscalationLevel(0, (), users=("ana",)), EscalationLevel(1, (), schedules=("primary",)))
    validate_escalation_policy(dataclasses.replace(POLICY, levels=levels), CHANNELS, {"ana"}, {"primary"})


def test_users_and_schedules_of_a_level_are_known_and_listed_once() -> None:
    assert people_errors(
        EscalationLevel(0, ("ghost",), users=("ana", "bo", "ana"), schedules=("secondary",)),
    ) == {
        "levels[0].channels[0]": "no channel with id or name 'ghost'",
        "levels[0].users[1]": "no user with id or name 'bo'",
        "levels[0].users[2]": "user 'ana' is listed twice",
        "levels[0].schedules[0]": "no schedule with id or name 'secondary'",
    }
