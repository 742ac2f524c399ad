"""What any replica took for the alert pipeline, before the pipeline's owner applies it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class InboxKind(enum.Enum):
    POSTED = "posted"  # alerts from outside (Prometheus, amtool), with the time they were taken
    RULE = "rule"  # new versions of rule alerts, from the replica that evaluates their group
    ACK = "ack"
    UNACK = "unack"


@dataclass(frozen=True)
class InboxItem:
    id: int
    kind: InboxKind
    payload: dict[str, Any]
    created_at: int


# Items to store: each payload with the alert pipeline partition whose owner applies it.
InboxPayloads = Sequence[tuple[int, dict[str, Any]]]
