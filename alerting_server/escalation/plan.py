"""When each step of a policy is due: levels by their `after`, then the whole policy again `repeat` times.

Steps are numbered through the repeats: step k is level k % n of pass k // n. A level is due
`after` past the escalation's base (when the alert fired, moved later by the time it was paused).
"""

from __future__ import annotations

from dataclasses import dataclass

from alerting_server.model import EscalationPolicy

# A pass must take some time, or a policy whose levels are all at 0s would repeat at once.
MIN_GAP = 60_000


@dataclass(frozen=True)
class Step:
    index: int
    level: int
    repeat: int
    channels: tuple[str, ...]
    due: int
    users: tuple[str, ...] = ()
    schedules: tuple[str, ...] = ()


def total_steps(policy: EscalationPolicy) -> int:
    return len(policy.levels) * (policy.repeat + 1)


def pass_length(policy: EscalationPolicy) -> int:
    """How long one pass through the levels lasts before the next begins: the last level's `after`
    plus the interval that led to it, as PagerDuty waits the last rule's delay before it loops."""
    afters = [level.after for level in policy.levels]
    gap = afters[-1] - afters[-2] if len(afters) > 1 else afters[-1]
    return afters[-1] + max(gap, MIN_GAP)


def step(policy: EscalationPolicy, base: int, index: int) -> Step | None:
    """Step `index` of an escalation counted from `base`, or None past the last one."""
    if not 0 <= index < total_steps(policy):
        return None
    repeat, level = divmod(index, len(policy.levels))
    spec = policy.levels[level]
    return Step(
        index=index,
        level=level,
        repeat=repeat,
        channels=spec.channels,
        due=base + repeat * pass_length(policy) + spec.after,
        users=spec.users,
        schedules=spec.schedules,
    )
