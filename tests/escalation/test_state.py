"""Escalation timing with explicit timestamps: a 0s/10m/30m policy walked in milliseconds."""

from __future__ import annotations

import dataclasses

import pytest

from alerting_server.escalation import (
    ack_expired,
    advance,
    next_wakeup,
    pass_length,
    restart,
    start,
    step,
    total_steps,
)
from alerting_server.escalation.plan import MIN_GAP
from alerting_server.model import Ack, EscalationLevel, EscalationPolicy
from alerting_server.store.escalations import policy_from_data, policy_to_data

MIN = 60_000
T0 = 1_700_000_000_000
POLICY = EscalationPolicy(
    id="p1",
    name="infra",
    levels=(
        EscalationLevel(0, ("slack",)),
        EscalationLevel(10 * MIN, ("pager",)),
        EscalationLevel(30 * MIN, ("manager",)),
    ),
)


def levels_sent(
    policy: EscalationPolicy, times: list[int], paused_at: dict[int, bool] | None = None
) -> list[tuple[int, int, int]]:
    """(time, level, repeat) of every step sent when the escalation is advanced at `times`."""
    esc = start("fp", policy, T0, T0)
    sent = []
    for now in times:
        esc, steps = advance(esc, paused=(paused_at or {}).get(now, False), now=now)
        sent += [(now, s.level, s.repeat) for s in steps]
    return sent


def test_each_level_is_sent_once_when_its_after_has_passed() -> None:
    times = [T0, T0 + 1, T0 + 10 * MIN - 1, T0 + 10 * MIN, T0 + 20 * MIN, T0 + 30 * MIN, T0 + 99 * MIN]
    assert levels_sent(POLICY, times) == [(T0, 0, 0), (T0 + 10 * MIN, 1, 0), (T0 + 30 * MIN, 2, 0)]


def test_a_late_step_sends_every_missed_level_in_order_and_skips_none() -> None:
    assert levels_sent(POLICY, [T0 + 45 * MIN]) == [
        (T0 + 45 * MIN, 0, 0),
        (T0 + 45 * MIN, 1, 0),
        (T0 + 45 * MIN, 2, 0),
    ]


def test_the_policy_repeats_repeat_times_after_its_last_level_then_stops() -> None:
    policy = dataclasses.replace(POLICY, repeat=2)
    # One pass: the last level's after plus the interval that led to it (30m + 20m).
    assert pass_length(policy) == 50 * MIN
    assert total_steps(policy) == 9
    times = [T0 + m * MIN for m in range(0, 400, 5)]
    sent = levels_sent(policy, times)
    assert [(level, repeat) for _, level, repeat in sent] == [(lv, r) for r in range(3) for lv in range(3)]
    assert [t - T0 for t, _, _ in sent] == [m * MIN for m in (0, 10, 30, 50, 60, 80, 100, 110, 130)]


@pytest.mark.parametrize(
    ("afters", "length"),
    [
        ((0,), MIN_GAP),
        ((5 * MIN,), 10 * MIN),
        ((0, 0), MIN_GAP),
        ((0, 10 * MIN, 10 * MIN), 10 * MIN + MIN_GAP),
    ],
)
def test_a_pass_always_takes_time_so_a_repeat_never_coincides_with_the_last_level(
    afters: tuple[int, ...], length: int
) -> None:
    policy = EscalationPolicy("p", tuple(EscalationLevel(a, ("c",)) for a in afters), repeat=1)
    assert pass_length(policy) == length
    last = step(policy, 0, len(afters) - 1)
    first_repeat = step(policy, 0, len(afters))
    assert last is not None
    assert first_repeat is not None
    assert first_repeat.due > last.due
    assert step(policy, 0, 2 * len(afters)) is None


def test_a_pause_stops_the_climb_and_resuming_keeps_the_time_that_was_left() -> None:
    esc = start("fp", POLICY, T0, T0)
    esc, [first] = advance(esc, paused=False, now=T0)
    assert first.level == 0
    # Acknowledged 4 minutes in: level 1 was 6 minutes away.
    esc, none = advance(esc, paused=True, now=T0 + 4 * MIN)
    assert none == []
    assert esc.paused_at == T0 + 4 * MIN
    assert next_wakeup(esc, None) is None
    esc, none = advance(esc, paused=True, now=T0 + 60 * MIN)
    assert none == []
    # Unacknowledged at 60m: level 1 comes 6 minutes later, not at once, and nothing is skipped.
    esc, none = advance(esc, paused=False, now=T0 + 60 * MIN)
    assert none == []
    assert next_wakeup(esc, None) == T0 + 66 * MIN
    esc, [second] = advance(esc, paused=False, now=T0 + 66 * MIN)
    assert second.level == 1
    esc, [third] = advance(esc, paused=False, now=T0 + 86 * MIN)
    assert third.level == 2
    assert esc.finished
    assert next_wakeup(esc, None) is None


def test_an_acknowledgement_times_out_and_the_escalation_restarts_from_level_0() -> None:
    policy = dataclasses.replace(POLICY, ack_timeout=15 * MIN)
    esc = start("fp", policy, T0, T0)
    esc, _ = advance(esc, paused=False, now=T0 + 10 * MIN)
    assert esc.next_step == 2
    ack = Ack("alice", "", T0 + 12 * MIN)
    esc, _ = advance(esc, paused=True, now=T0 + 12 * MIN)
    assert next_wakeup(esc, ack) == T0 + 27 * MIN
    assert not ack_expired(esc, ack, T0 + 27 * MIN - 1)
    assert ack_expired(esc, ack, T0 + 27 * MIN)
    again = restart(esc, T0 + 27 * MIN)
    assert (again.next_step, again.run, again.paused_at) == (0, 1, None)
    again, [first] = advance(again, paused=False, now=T0 + 27 * MIN)
    assert first.level == 0
    assert next_wakeup(again, None) == T0 + 37 * MIN


def test_without_ack_timeout_an_acknowledgement_never_expires() -> None:
    esc = start("fp", POLICY, T0, T0)
    ack = Ack("alice", "", T0)
    assert not ack_expired(esc, ack, T0 + 10**12)
    assert next_wakeup(esc, ack) is None


def test_the_policy_snapshot_round_trips_as_data() -> None:
    policy = dataclasses.replace(POLICY, repeat=3, ack_timeout=5 * MIN)
    assert policy_from_data(policy_to_data(policy)) == dataclasses.replace(policy, created_at=0, updated_at=0)
