from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field


class RuleType(enum.Enum):
    ALERTING = "alerting"
    RECORDING = "recording"


class RuleHealth(enum.Enum):
    UNKNOWN = "unknown"
    OK = "ok"
    ERR = "err"


DEFAULT_GROUP = "default"
DEFAULT_DATASOURCE = "embedded"


@dataclass(frozen=True)
class Rule:
    """An alerting or recording rule. For a recording rule `name` is the recorded metric."""

    name: str
    query: str
    id: str = ""
    type: RuleType = RuleType.ALERTING
    duration: int = 0
    keep_firing_for: int = 0
    severity: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    group: str = DEFAULT_GROUP
    # Evaluation interval of the group; None takes the server's default.
    interval: int | None = None
    datasource: str = DEFAULT_DATASOURCE
    escalation_policy_id: str = ""
    health: RuleHealth = RuleHealth.UNKNOWN
    last_evaluation: int | None = None
    last_error: str = ""
    last_evaluation_duration: int | None = None
    created_at: int = 0
    updated_at: int = 0


def definition(rule: Rule) -> Rule:
    """The rule without what evaluation and the store write back (health, timestamps), to tell whether
    its definition changed."""
    return dataclasses.replace(
        rule,
        health=RuleHealth.UNKNOWN,
        last_evaluation=None,
        last_error="",
        last_evaluation_duration=None,
        created_at=0,
        updated_at=0,
    )


@dataclasses.dataclass(frozen=True)
class RuleHealthRow:
    """A rule's health as its last evaluation left it."""

    rule_id: str
    health: RuleHealth
    last_evaluation: int | None
    last_error: str
    last_evaluation_duration: int | None
