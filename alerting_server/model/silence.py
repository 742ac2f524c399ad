from __future__ import annotations

import enum
from dataclasses import dataclass


class SilenceState(enum.Enum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Silence:
    """Mutes alerts matching every matcher between starts_at and ends_at."""

    matchers: tuple[str, ...]
    starts_at: int
    ends_at: int
    created_by: str
    comment: str
    id: str = ""
    created_at: int = 0
    updated_at: int = 0

    def state(self, now: int) -> SilenceState:
        if now >= self.ends_at:
            return SilenceState.EXPIRED
        if now < self.starts_at:
            return SilenceState.PENDING
        return SilenceState.ACTIVE
