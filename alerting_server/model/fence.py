"""The leases a write is made under (several replicas on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class LeaseLost(Exception):
    """A write under leases its replica no longer holds: refused (by the database, or before it)."""


@dataclass(frozen=True)
class Fence:
    """Each lease name at the epoch it was granted to `holder`: the database refuses the write unless
    `holder` still holds every one of them (store/leases.py)."""

    holder: str
    leases: Mapping[str, int]
