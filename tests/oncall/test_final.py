"""The final schedule as tables: explicit times in, shifts and on-call answers out."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from alerting_server.model import Layer, OnCall, Override, Restriction, RestrictionType, Schedule, Shift
from alerting_server.oncall import final_schedule, on_call

H = 3_600_000
DAY = 24 * H
WEEK = 7 * DAY
UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def t(text: str, zone: ZoneInfo = UTC) -> int:
    """'2026-01-05 09:00' in `zone` as epoch ms."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=zone).timestamp() * 1000)


def shifts(schedule: Schedule, start: str, end: str, *overrides: Override) -> list[tuple[str, str, str]]:
    zone = ZoneInfo(schedule.time_zone)
    out = final_schedule(schedule, overrides, t(start, zone), t(end, zone))
    return [(s.user, fmt(s.start, zone), fmt(s.end, zone)) for s in out]


def fmt(ms: int, zone: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, zone).strftime("%Y-%m-%d %H:%M")


def schedule(*layers: Layer, zone: str = "UTC") -> Schedule:
    return Schedule(name="primary", time_zone=zone, layers=layers)


WEEKLY = Layer(
    name="weekly",
    start=t("2026-01-05 09:00"),
    turn_length=WEEK,
    handoff_time=9 * H,
    users=("ana", "bo", "cy"),
)


def test_a_weekly_rotation_hands_off_every_week_at_the_handoff_time() -> None:
    assert shifts(schedule(WEEKLY), "2026-01-05 00:00", "2026-02-02 09:00") == [
        ("ana", "2026-01-05 09:00", "2026-01-12 09:00"),
        ("bo", "2026-01-12 09:00", "2026-01-19 09:00"),
        ("cy", "2026-01-19 09:00", "2026-01-26 09:00"),
        ("ana", "2026-01-26 09:00", "2026-02-02 09:00"),
    ]


@pytest.mark.parametrize(
    ("at", "users", "until"),
    [
        ("2026-01-05 08:59", (), "2026-01-05 09:00"),  # before the layer starts: a gap
        ("2026-01-05 09:00", ("ana",), "2026-01-12 09:00"),
        ("2026-01-12 08:59", ("ana",), "2026-01-12 09:00"),
        ("2026-01-12 09:00", ("bo",), "2026-01-19 09:00"),
        ("2026-07-01 12:00", ("bo",), "2026-07-06 09:00"),  # turn 25 (from 2026-06-29)
    ],
)
def test_who_is_on_call_at_a_time_and_until_when(at: str, users: tuple[str, ...], until: str) -> None:
    assert on_call(schedule(WEEKLY), (), t(at)) == OnCall(users, t(until))


def test_a_daily_rotation_without_handoff_time_turns_at_the_layer_start() -> None:
    daily = Layer(name="d", start=t("2026-01-01 18:30"), turn_length=DAY, users=("ana", "bo"))
    assert shifts(schedule(daily), "2026-01-01 00:00", "2026-01-04 00:00") == [
        ("ana", "2026-01-01 18:30", "2026-01-02 18:30"),
        ("bo", "2026-01-02 18:30", "2026-01-03 18:30"),
        ("ana", "2026-01-03 18:30", "2026-01-04 00:00"),
    ]


def test_a_layer_starting_after_its_handoff_time_begins_inside_the_first_users_turn() -> None:
    # The rotation's virtual start is the handoff before the layer's start (09:00), so ana's
    # first turn is cut short by the start and bo takes over at the next 09:00.
    daily = Layer(
        name="d", start=t("2026-01-01 15:00"), turn_length=DAY, handoff_time=9 * H, users=("ana", "bo")
    )
    assert shifts(schedule(daily), "2026-01-01 00:00", "2026-01-03 09:00") == [
        ("ana", "2026-01-01 15:00", "2026-01-02 09:00"),
        ("bo", "2026-01-02 09:00", "2026-01-03 09:00"),
    ]


def test_a_turn_shorter_than_a_day_counts_elapsed_time() -> None:
    twelve = Layer(name="h", start=t("2026-01-01 08:00"), turn_length=12 * H, users=("ana", "bo", "cy"))
    assert shifts(schedule(twelve), "2026-01-01 08:00", "2026-01-02 20:00") == [
        ("ana", "2026-01-01 08:00", "2026-01-01 20:00"),
        ("bo", "2026-01-01 20:00", "2026-01-02 08:00"),
        ("cy", "2026-01-02 08:00", "2026-01-02 20:00"),
    ]


def test_a_layer_ends_at_its_end() -> None:
    ending = Layer(
        name="d", start=t("2026-01-01 00:00"), end=t("2026-01-02 12:00"), turn_length=DAY, users=("ana",)
    )
    assert shifts(schedule(ending), "2026-01-01 00:00", "2026-01-05 00:00") == [
        ("ana", "2026-01-01 00:00", "2026-01-02 12:00")
    ]
    assert on_call(schedule(ending), (), t("2026-01-02 12:00")) == OnCall((), None)


# Berlin: CET (UTC+1) until 2026-03-29 02:00 local, CEST (UTC+2) until 2026-10-25 03:00 local.
BERLIN_DAILY = Layer(
    name="daily",
    start=t("2026-03-27 09:00", BERLIN),
    turn_length=DAY,
    handoff_time=9 * H,
    users=("ana", "bo"),
)


def test_a_daily_handoff_stays_at_local_nine_across_the_spring_dst_change() -> None:
    sched = schedule(BERLIN_DAILY, zone="Europe/Berlin")
    assert shifts(sched, "2026-03-27 09:00", "2026-03-30 09:00") == [
        ("ana", "2026-03-27 09:00", "2026-03-28 09:00"),
        ("bo", "2026-03-28 09:00", "2026-03-29 09:00"),
        ("ana", "2026-03-29 09:00", "2026-03-30 09:00"),
    ]
    # In UTC the handoff moves from 08:00 to 07:00, and the turn across the change is 23 hours.
    got = final_schedule(sched, (), t("2026-03-28 08:00"), t("2026-03-29 07:00"))
    assert got == [Shift("bo", t("2026-03-28 08:00"), t("2026-03-29 07:00"))]
    assert got[0].end - got[0].start == 23 * H


def test_a_daily_handoff_stays_at_local_nine_across_the_autumn_dst_change() -> None:
    sched = schedule(BERLIN_DAILY, zone="Europe/Berlin")
    # 2026-10-24 is 211 days after the layer's start: bo's turn, ana's the even ones.
    assert shifts(sched, "2026-10-24 00:00", "2026-10-26 12:00") == [
        ("ana", "2026-10-24 00:00", "2026-10-24 09:00"),
        ("bo", "2026-10-24 09:00", "2026-10-25 09:00"),
        ("ana", "2026-10-25 09:00", "2026-10-26 09:00"),
        ("bo", "2026-10-26 09:00", "2026-10-26 12:00"),
    ]
    # The turn across the change is 25 hours.
    assert on_call(sched, (), t("2026-10-24 09:00", BERLIN)) == OnCall(
        ("bo",), t("2026-10-24 09:00", BERLIN) + 25 * H
    )


def test_a_weekly_handoff_keeps_its_local_time_across_a_dst_change() -> None:
    weekly = Layer(
        name="w",
        start=t("2026-03-23 09:00", BERLIN),
        turn_length=WEEK,
        handoff_time=9 * H,
        users=("ana", "bo"),
    )
    got = final_schedule(
        schedule(weekly, zone="Europe/Berlin"),
        (),
        t("2026-03-23 09:00", BERLIN),
        t("2026-04-06 09:00", BERLIN),
    )
    assert got == [
        Shift("ana", t("2026-03-23 08:00"), t("2026-03-30 07:00")),
        Shift("bo", t("2026-03-30 07:00"), t("2026-04-06 07:00")),
    ]


NIGHTS = Layer(
    name="nights",
    start=t("2026-01-05 00:00"),
    turn_length=WEEK,
    handoff_time=0,
    users=("ana", "bo"),
    restrictions=(Restriction(RestrictionType.DAILY, start_time=22 * H, duration=10 * H),),
)


def test_a_daily_restriction_that_crosses_midnight_covers_the_night() -> None:
    assert shifts(schedule(NIGHTS), "2026-01-05 00:00", "2026-01-08 00:00") == [
        ("ana", "2026-01-05 00:00", "2026-01-05 08:00"),  # the window of the 4th night, cut at the start
        ("ana", "2026-01-05 22:00", "2026-01-06 08:00"),
        ("ana", "2026-01-06 22:00", "2026-01-07 08:00"),
        ("ana", "2026-01-07 22:00", "2026-01-08 00:00"),
    ]


def test_a_restricted_window_across_a_handoff_is_split_between_the_two_turns() -> None:
    assert shifts(schedule(NIGHTS), "2026-01-11 20:00", "2026-01-12 10:00") == [
        ("ana", "2026-01-11 22:00", "2026-01-12 00:00"),
        ("bo", "2026-01-12 00:00", "2026-01-12 08:00"),
    ]
    assert on_call(schedule(NIGHTS), (), t("2026-01-12 08:00")) == OnCall((), t("2026-01-12 22:00"))


def test_a_weekly_restriction_spans_days_and_wraps_the_week_end() -> None:
    weekend = Layer(
        name="weekend",
        start=t("2026-01-01 00:00"),
        turn_length=WEEK,
        users=("ana",),
        restrictions=(Restriction(RestrictionType.WEEKLY, start_time=18 * H, duration=63 * H, start_day=4),),
    )
    assert shifts(schedule(weekend), "2026-01-05 00:00", "2026-01-19 00:00") == [
        ("ana", "2026-01-05 00:00", "2026-01-05 09:00"),  # the window from Friday 2026-01-02
        ("ana", "2026-01-09 18:00", "2026-01-12 09:00"),
        ("ana", "2026-01-16 18:00", "2026-01-19 00:00"),
    ]


BUSINESS_HOURS = tuple(
    Restriction(RestrictionType.WEEKLY, start_time=9 * H, duration=8 * H, start_day=day) for day in range(5)
)
DAYTIME = Layer(
    name="daytime",
    start=t("2026-01-05 00:00"),
    turn_length=DAY,
    handoff_time=9 * H,
    users=("dee", "eve"),
    restrictions=BUSINESS_HOURS,
)


def test_the_higher_layer_wins_where_layers_overlap_and_the_lower_shows_elsewhere() -> None:
    assert shifts(schedule(WEEKLY, DAYTIME), "2026-01-09 00:00", "2026-01-13 00:00") == [
        ("ana", "2026-01-09 00:00", "2026-01-09 09:00"),
        ("eve", "2026-01-09 09:00", "2026-01-09 17:00"),  # Friday: the fifth day, eve's turn
        ("ana", "2026-01-09 17:00", "2026-01-12 09:00"),  # the weekend: no daytime layer
        ("dee", "2026-01-12 09:00", "2026-01-12 17:00"),
        ("bo", "2026-01-12 17:00", "2026-01-13 00:00"),
    ]


def test_an_override_inside_a_shift_splits_it() -> None:
    sick = Override("bo", t("2026-01-06 12:00"), t("2026-01-07 12:00"))
    assert shifts(schedule(WEEKLY), "2026-01-05 09:00", "2026-01-12 09:00", sick) == [
        ("ana", "2026-01-05 09:00", "2026-01-06 12:00"),
        ("bo", "2026-01-06 12:00", "2026-01-07 12:00"),
        ("ana", "2026-01-07 12:00", "2026-01-12 09:00"),
    ]
    assert on_call(schedule(WEEKLY), (sick,), t("2026-01-06 13:00")) == OnCall(("bo",), t("2026-01-07 12:00"))


def test_an_override_across_a_handoff_covers_both_shifts_and_beats_every_layer() -> None:
    cover = Override("cy", t("2026-01-12 06:00"), t("2026-01-12 12:00"))
    assert shifts(schedule(WEEKLY, DAYTIME), "2026-01-12 00:00", "2026-01-12 18:00", cover) == [
        ("ana", "2026-01-12 00:00", "2026-01-12 06:00"),
        ("cy", "2026-01-12 06:00", "2026-01-12 12:00"),
        ("dee", "2026-01-12 12:00", "2026-01-12 17:00"),
        ("bo", "2026-01-12 17:00", "2026-01-12 18:00"),
    ]


def test_overlapping_overrides_put_both_users_on_call() -> None:
    one = Override("bo", t("2026-01-06 10:00"), t("2026-01-06 14:00"), id="1")
    two = Override("cy", t("2026-01-06 12:00"), t("2026-01-06 16:00"), id="2")
    assert shifts(schedule(WEEKLY), "2026-01-06 09:00", "2026-01-06 17:00", one, two) == [
        ("ana", "2026-01-06 09:00", "2026-01-06 10:00"),
        ("bo", "2026-01-06 10:00", "2026-01-06 14:00"),
        ("cy", "2026-01-06 12:00", "2026-01-06 16:00"),
        ("ana", "2026-01-06 16:00", "2026-01-06 17:00"),
    ]
    assert on_call(schedule(WEEKLY), (one, two), t("2026-01-06 13:00")) == OnCall(
        ("bo", "cy"), t("2026-01-06 14:00")
    )


def test_an_override_fills_a_gap() -> None:
    fill = Override("cy", t("2026-01-06 10:00"), t("2026-01-06 12:00"))
    assert shifts(schedule(NIGHTS), "2026-01-06 06:00", "2026-01-06 23:00", fill) == [
        ("ana", "2026-01-06 06:00", "2026-01-06 08:00"),
        ("cy", "2026-01-06 10:00", "2026-01-06 12:00"),
        ("ana", "2026-01-06 22:00", "2026-01-06 23:00"),
    ]


def test_a_gap_has_nobody_on_call_until_the_next_shift() -> None:
    assert on_call(schedule(NIGHTS), (), t("2026-01-06 12:00")) == OnCall((), t("2026-01-06 22:00"))
    assert on_call(schedule(), (), t("2026-01-06 12:00")) == OnCall((), None)


def test_one_user_on_call_forever_has_no_until() -> None:
    alone = Layer(name="a", start=t("2026-01-01 00:00"), turn_length=WEEK, users=("ana",))
    assert on_call(schedule(alone), (), t("2026-02-01 00:00")) == OnCall(("ana",), None)
