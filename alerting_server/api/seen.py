"""What was found of a series written before, by the form it was written in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class SeenSeries(Generic[K, V]):
    """A series that comes back every interval (a scrape, a remote-write batch) is decoded and
    checked once: what that found is kept under the series as it was written.

    Bounded: when full it starts over, so a stream of new series costs what it did without it.
    """

    def __init__(self, capacity: int = 250_000) -> None:
        self._capacity = capacity
        self._seen: dict[K, V] = {}
        # What was found of the series written as `key`, or None: the dict's own lookup, without a
        # method call around it (it runs once per series of every write). The dict is cleared in
        # place, never replaced.
        self.get: Callable[[K], V | None] = self._seen.get

    def add(self, key: K, found: V) -> None:
        if len(self._seen) >= self._capacity:
            self._seen.clear()
        self._seen[key] = found
