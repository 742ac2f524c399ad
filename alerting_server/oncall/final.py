"""The final schedule: layers stacked (the higher wins), overrides over all, gaps where nobody covers."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from alerting_server.model import OnCall, Override, Schedule, Shift
from alerting_server.oncall.rotation import DAY, layer_shifts

# The longest range computed at once (a year and a day); on_call looks ahead in growing steps up to it.
MAX_RANGE = 366 * DAY
_LOOKAHEAD = (8 * DAY, 64 * DAY, MAX_RANGE)


@dataclass(frozen=True)
class Segment:
    """The users on call over [start, end); consecutive segments have different users."""

    start: int
    end: int
    users: tuple[str, ...]


class _Cover:
    """Sorted disjoint intervals with the user on each; `at(t)` answers in O(log n)."""

    def __init__(self, shifts: list[tuple[int, int, str]]) -> None:
        self.shifts = shifts
        self.starts = [s for s, _, _ in shifts]

    def at(self, t: int) -> str | None:
        i = bisect.bisect_right(self.starts, t) - 1
        if i >= 0 and t < self.shifts[i][1]:
            return self.shifts[i][2]
        return None


def segments(schedule: Schedule, overrides: Sequence[Override], start: int, end: int) -> list[Segment]:
    """Who is on call over [start, end), as maximal segments; gaps are left out."""
    zone = ZoneInfo(schedule.time_zone)
    covers = [_Cover(layer_shifts(layer, zone, start, end)) for layer in schedule.layers]
    active = sorted((o for o in overrides if o.start < end and o.end > start), key=lambda o: (o.start, o.id))
    points = {start, end}
    for cover in covers:
        for s, e, _ in cover.shifts:
            points.update((s, e))
    for o in active:
        points.update((max(o.start, start), min(o.end, end)))
    ordered = sorted(points)
    out: list[Segment] = []
    for s, e in itertools.pairwise(ordered):
        users = tuple(dict.fromkeys(o.user for o in active if o.start <= s < o.end))
        if not users:
            for cover in reversed(covers):
                user = cover.at(s)
                if user is not None:
                    users = (user,)
                    break
        if not users:
            continue
        if out and out[-1].end == s and out[-1].users == users:
            out[-1] = Segment(out[-1].start, e, users)
        else:
            out.append(Segment(s, e, users))
    return out


def final_schedule(schedule: Schedule, overrides: Sequence[Override], start: int, end: int) -> list[Shift]:
    """The shifts over [start, end), clipped to it, by start then user; a user's consecutive
    segments are one shift even when someone else joins or leaves them (overlapping overrides)."""
    open_shifts: dict[str, Shift] = {}
    done: list[Shift] = []
    for seg in segments(schedule, overrides, start, end):
        for user, shift in list(open_shifts.items()):
            if user not in seg.users or shift.end != seg.start:
                done.append(open_shifts.pop(user))
        for user in seg.users:
            current = open_shifts.get(user)
            open_shifts[user] = Shift(user, current.start if current else seg.start, seg.end)
    done.extend(open_shifts.values())
    return sorted(done, key=lambda s: (s.start, s.user))


def on_call(schedule: Schedule, overrides: Sequence[Override], at: int) -> OnCall:
    """Who is on call at `at` and until when: the end of their segment, or during a gap the start of
    the next one; None when nothing changes within MAX_RANGE."""
    for ahead in _LOOKAHEAD:
        segs = segments(schedule, overrides, at, at + ahead)
        if segs and segs[0].start == at:
            if segs[0].end < at + ahead:
                return OnCall(segs[0].users, segs[0].end)
        elif segs:
            return OnCall((), segs[0].start)
    if segs and segs[0].start == at:
        return OnCall(segs[0].users, None)
    return OnCall((), None)
