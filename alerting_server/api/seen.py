"""What was found of a series written before, by the form it was written in."""

from __future__ import annotations

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

    def get(self, key: K) -> V | None:
        return self._seen.get(key)

    def add(self, key: K, found: V) -> None:
        if len(self._seen) >= self._capacity:
            self._seen.clear()
        self._seen[key] = found
