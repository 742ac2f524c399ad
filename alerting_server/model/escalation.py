from __future__ import annotations

from dataclasses import dataclass

MAX_REPEAT = 9


@dataclass(frozen=True)
class EscalationLevel:
    after: int
    channels: tuple[str, ...]


@dataclass(frozen=True)
class EscalationPolicy:
    name: str
    levels: tuple[EscalationLevel, ...]
    repeat: int = 0
    ack_timeout: int | None = None
    id: str = ""
    created_at: int = 0
    updated_at: int = 0
