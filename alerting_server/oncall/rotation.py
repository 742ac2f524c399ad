"""A layer's turns: who holds the rotation over which interval, and the windows its restrictions allow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from alerting_server.model import Layer, Restriction, RestrictionType

DAY = 86_400_000
Interval = tuple[int, int]


def to_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def local(ms: int, zone: ZoneInfo) -> dt.datetime:
    """The naive local wall-clock time of `ms` in `zone`."""
    return dt.datetime.fromtimestamp(ms / 1000, zone).replace(tzinfo=None)


def from_local(wall: dt.datetime, zone: ZoneInfo) -> int:
    """A naive local time to epoch ms; a time that a DST gap skips is read with the offset before it."""
    return to_ms(wall.replace(tzinfo=zone))


class Rotation:
    """The turns of one layer, from its virtual start."""

    def __init__(self, layer: Layer, zone: ZoneInfo) -> None:
        self.layer = layer
        self.zone = zone
        self.days = layer.turn_length // DAY if layer.turn_length % DAY == 0 else 0
        begin = local(layer.start, zone)
        if layer.handoff_time is not None:
            handoff = dt.datetime.combine(begin.date(), dt.time()) + dt.timedelta(
                milliseconds=layer.handoff_time
            )
            if from_local(handoff, zone) > layer.start:
                handoff -= dt.timedelta(days=1)
            begin = handoff
        self.virtual_start_local = begin
        self.virtual_start = from_local(begin, zone)

    def turn_start(self, k: int) -> int:
        if self.days:
            return from_local(self.virtual_start_local + dt.timedelta(days=k * self.days), self.zone)
        return self.virtual_start + k * self.layer.turn_length

    def turn_at(self, t: int) -> int:
        k = (t - self.virtual_start) // self.layer.turn_length
        while self.turn_start(k) > t:
            k -= 1
        while self.turn_start(k + 1) <= t:
            k += 1
        return k

    def turns(self, lo: int, hi: int) -> Iterator[tuple[int, int, str]]:
        """(start, end, user) of the turns over [lo, hi), clipped to it."""
        k = self.turn_at(lo)
        users = self.layer.users
        begin = self.turn_start(k)
        while begin < hi:
            end = self.turn_start(k + 1)
            yield max(begin, lo), min(end, hi), users[k % len(users)]
            k += 1
            begin = end


def restriction_windows(
    restrictions: tuple[Restriction, ...], zone: ZoneInfo, lo: int, hi: int
) -> list[Interval]:
    """The union of the restrictions' windows over [lo, hi), sorted and disjoint."""
    first = local(lo, zone).date() - dt.timedelta(days=7)
    last = local(hi, zone).date()
    windows: list[Interval] = []
    for restriction in restrictions:
        day = first
        while day <= last:
            if restriction.type is RestrictionType.DAILY or day.weekday() == restriction.start_day:
                begin = dt.datetime.combine(day, dt.time()) + dt.timedelta(
                    milliseconds=restriction.start_time
                )
                end = begin + dt.timedelta(milliseconds=restriction.duration)
                s, e = max(from_local(begin, zone), lo), min(from_local(end, zone), hi)
                if s < e:
                    windows.append((s, e))
            day += dt.timedelta(days=1)
    return union(windows)


def union(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def layer_shifts(layer: Layer, zone: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, str]]:
    """(start, end, user) over [lo, hi) where the layer covers: its span, turns and restrictions."""
    lo = max(lo, layer.start)
    if layer.end is not None:
        hi = min(hi, layer.end)
    if lo >= hi or not layer.users:
        return []
    turns = list(Rotation(layer, zone).turns(lo, hi))
    if not layer.restrictions:
        return turns
    windows = restriction_windows(layer.restrictions, zone, lo, hi)
    out: list[tuple[int, int, str]] = []
    i = 0
    for ts, te, user in turns:
        while i < len(windows) and windows[i][1] <= ts:
            i += 1
        j = i
        while j < len(windows) and windows[j][0] < te:
            s, e = max(ts, windows[j][0]), min(te, windows[j][1])
            if s < e:
                out.append((s, e, user))
            j += 1
    return out
