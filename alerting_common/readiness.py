"""Why a server is not ready, as its gRPC health answer carries it to the gateway's /readyz.

grpc.health.v1 has a status and nothing else; the server adds one trailing metadata entry per
problem to its Check answer, so that a probe's log (and a person reading /readyz) sees what to fix,
whether the gateway runs in the server's process or on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Binary ("-bin"): a description may hold any character, and gRPC carries such values as they are.
METADATA_KEY = "alerting-readiness-problem-bin"


@dataclass(frozen=True)
class Problem:
    """What stands in the way: the setting at fault (`database_url`) and what is wrong with it."""

    field: str
    description: str


def to_metadata(problems: Sequence[Problem]) -> tuple[tuple[str, bytes], ...]:
    return tuple(
        (METADATA_KEY, json.dumps({"field": p.field, "description": p.description}).encode())
        for p in problems
    )


def from_metadata(metadata: Iterable[tuple[str, str | bytes]]) -> list[Problem]:
    """The problems in a Check answer's trailing metadata; entries that are not ours, or that a
    server of another version wrote differently, are left out."""
    problems = []
    for key, value in metadata:
        if key != METADATA_KEY or not isinstance(value, bytes):
            continue
        try:
            entry = json.loads(value)
        except ValueError:
            continue
        if isinstance(entry, dict):
            field, description = entry.get("field"), entry.get("description")
            if isinstance(field, str) and isinstance(description, str):
                problems.append(Problem(field, description))
    return problems
