"""On-call schedules: who is on call, computed from layers, rotations, restrictions and overrides.

The semantics are PagerDuty's schedule model:

- A schedule has a time zone and ordered layers; every local time below is in that zone.
- A layer covers [start, end) (no end: forever). Its rotation hands the turn to the next user in
  `users` every `turn_length`; turns are counted from the rotation's virtual start, which is the last
  moment at or before `start` whose local time is `handoff_time` (no handoff time: `start` itself),
  so a layer that starts mid-turn begins with the turn already running, as PagerDuty's
  `rotation_virtual_start` before the layer's start does. The first user of `users` holds that turn.
- A turn length of whole days counts calendar days in the schedule's zone: a daily or weekly rotation
  hands off at the same local time on both sides of a DST change (a turn across one is an hour
  shorter or longer). Other turn lengths count elapsed time.
- Restrictions limit a layer to windows of the day (daily: a local start time and a duration) or of
  the week (weekly: a day, a local start time and a duration); a window may cross midnight, and its
  end is the local time its duration after its start. The rotation keeps turning outside the
  windows: who covers a window is whoever's turn it is then, as in PagerDuty (restrictions do not
  move turns). With several restrictions a layer covers their union.
- Where layers overlap the later (higher) layer wins; where it has nobody the layers below show through.
- Overrides (user, start, end) win over every layer. Overlapping overrides put each of their users on
  call (PagerDuty keeps one user on call at a time; here neither is dropped without a word).
- Where nobody covers, the schedule has a gap: nobody is on call (PagerDuty creates no incident then;
  our escalation falls through to its next level, see alerting_server/escalation/targets.py).

PagerDuty's documents this follows: "Schedule Basics" (layers, the lowest layer in the list taking
precedence, gaps), "Setting up Restrictions for On-Call Shifts" (restrictions make gaps that other
layers may fill) and the REST API's schedule layer (`rotation_virtual_start`, which may be before
`start`; `rotation_turn_length_seconds`; daily and weekly restrictions with a start time of day, a
duration and, weekly, a start day).

final_schedule(schedule, overrides, start, end) -> [Shift]     the computed shifts over [start, end)
on_call(schedule, overrides, at) -> OnCall                      who is on call at `at`, and until when
"""

from alerting_server.oncall.final import MAX_RANGE, final_schedule, on_call, segments

__all__ = ["MAX_RANGE", "final_schedule", "on_call", "segments"]
