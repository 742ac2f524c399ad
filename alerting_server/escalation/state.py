"""One alert's escalation and the transitions that move it, all at an explicit `now`."""

from __future__ import annotations

import dataclasses

from alerting_server.escalation.plan import Step, step
from alerting_server.model import Ack, Escalation, EscalationPolicy


def start(fingerprint: str, policy: EscalationPolicy, fired_at: int, now: int) -> Escalation:
    return Escalation(fingerprint, policy, fired_at=fired_at, base=fired_at, updated_at=now)


def advance(esc: Escalation, *, paused: bool, now: int) -> tuple[Escalation, list[Step]]:
    """Pauses, resumes, and returns the steps due by `now`: every one of them, in order, so that
    a process that was down through several levels sends each once rather than skipping any."""
    if paused:
        if esc.paused_at is None:
            return dataclasses.replace(esc, paused_at=now, updated_at=now), []
        return esc, []
    if esc.paused_at is not None:
        esc = dataclasses.replace(esc, base=esc.base + (now - esc.paused_at), paused_at=None, updated_at=now)
    due: list[Step] = []
    while (s := step(esc.policy, esc.base, esc.next_step + len(due))) is not None and s.due <= now:
        due.append(s)
    if due:
        esc = dataclasses.replace(esc, next_step=esc.next_step + len(due), updated_at=now)
    return esc, due


def fall_through(esc: Escalation, now: int) -> tuple[Escalation, Step | None]:
    """The next step at once, before it is due: the level reached paged nobody (a gap in a schedule is
    not silence). None when no step is left."""
    s = step(esc.policy, esc.base, esc.next_step)
    if s is None:
        return esc, None
    return dataclasses.replace(esc, next_step=esc.next_step + 1, updated_at=now), s


def ack_expired(esc: Escalation, ack: Ack | None, now: int) -> bool:
    timeout = esc.policy.ack_timeout
    return ack is not None and timeout is not None and ack.at + timeout <= now


def restart(esc: Escalation, now: int) -> Escalation:
    """From level 0 again, counted from `now`: an acknowledgement that timed out."""
    return dataclasses.replace(esc, base=now, next_step=0, paused_at=None, run=esc.run + 1, updated_at=now)


def next_wakeup(esc: Escalation, ack: Ack | None) -> int | None:
    """When this escalation next needs a step: its next level, or the end of its acknowledgement."""
    if ack is not None:
        timeout = esc.policy.ack_timeout
        return None if timeout is None else ack.at + timeout
    if esc.paused_at is not None:
        return None
    s = step(esc.policy, esc.base, esc.next_step)
    return None if s is None else s.due
