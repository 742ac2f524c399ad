"""Properties of the final schedule over random layers, restrictions and overrides in a zone with DST:
who is on call at a moment is who the shifts say, until when they say."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting_server.model import Layer, Override, Restriction, RestrictionType, Schedule
from alerting_server.oncall import final_schedule, on_call

H = 3_600_000
DAY = 24 * H
# 2026-03-20T00:00Z: the range below crosses Berlin's spring DST change (2026-03-29).
T = 1_773_964_800_000
USERS = ("ana", "bo", "cy", "dee")

restrictions = st.lists(
    st.one_of(
        st.builds(
            Restriction,
            st.just(RestrictionType.DAILY),
            st.integers(0, 47).map(lambda half_hours: half_hours * 30 * 60_000),
            st.integers(1, 24).map(lambda hours: hours * H),
        ),
        st.builds(
            Restriction,
            st.just(RestrictionType.WEEKLY),
            st.integers(0, 47).map(lambda half_hours: half_hours * 30 * 60_000),
            st.integers(1, 168).map(lambda hours: hours * H),
            st.integers(0, 6),
        ),
    ),
    max_size=3,
)
layers = st.builds(
    Layer,
    name=st.just("layer"),
    start=st.integers(-10 * DAY, 10 * DAY).map(lambda d: T + d // H * H),
    turn_length=st.sampled_from([H, 6 * H, 12 * H, DAY, 2 * DAY, 7 * DAY]),
    users=st.lists(st.sampled_from(USERS), min_size=1, max_size=4).map(tuple),
    end=st.one_of(st.none(), st.integers(11 * DAY, 30 * DAY).map(lambda d: T + d)),
    handoff_time=st.one_of(st.none(), st.integers(0, 23).map(lambda hour: hour * H)),
    restrictions=restrictions.map(tuple),
)
overrides = st.lists(
    st.builds(
        lambda user, start, hours, i: Override(user, T + start * H, T + start * H + hours * H, id=str(i)),
        st.sampled_from(USERS),
        st.integers(0, 20 * 24),
        st.integers(1, 48),
        st.integers(0, 10**6),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layers=st.lists(layers, min_size=1, max_size=3),
    overrides=overrides,
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    moments=st.lists(st.integers(0, 20 * DAY), min_size=1, max_size=5),
)
def test_on_call_agrees_with_the_shifts(
    layers: list[Layer], overrides: list[Override], zone: str, moments: list[int]
) -> None:
    schedule = Schedule(name="s", time_zone=zone, layers=tuple(layers))
    start, end = T, T + 30 * DAY
    shifts = final_schedule(schedule, overrides, start, end)
    by_user: dict[str, list[tuple[int, int]]] = {}
    for shift in shifts:
        assert start <= shift.start < shift.end <= end
        by_user.setdefault(shift.user, []).append((shift.start, shift.end))
    for spans in by_user.values():
        spans.sort()
        # A user's shifts neither overlap nor touch (touching ones would be one shift).
        assert all(a_end < b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    for offset in moments:
        at = T + offset
        answer = on_call(schedule, overrides, at)
        assert set(answer.users) == {s.user for s in shifts if s.start <= at < s.end}
        if answer.until is not None and answer.until < end:
            assert answer.until > at
            changed = {s.user for s in shifts if s.start <= answer.until < s.end}
            assert changed != set(answer.users)
            # Nothing changes before `until`.
            before = answer.until - 1
            assert {s.user for s in shifts if s.start <= before < s.end} == set(answer.users)
