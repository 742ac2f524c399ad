"""Dispatcher timing to the millisecond: group_wait, group_interval, repeat_interval, resolve, muting."""

from __future__ import annotations

import dataclasses
import json

import pytest

from alerting_server.alerts import (
    Dispatcher,
    Inhibitor,
    Notification,
    NotifyReason,
    SilenceMuter,
    compile_routes,
)
from alerting_server.model import AlertState, InhibitRule, Route, Silence
from tests.alerts.helpers import firing, resolved

T0 = 1_700_000_000_000
S = 1000
MIN = 60 * S
WAIT, INTERVAL, REPEAT = 30 * S, 5 * MIN, 60 * MIN

TREE = Route(
    receiver="default",
    group_by=("alertname",),
    group_wait=WAIT,
    group_interval=INTERVAL,
    repeat_interval=REPEAT,
    escalation_policy_id="pol",
    routes=(Route(matchers=('team="db"',), receiver="db", continue_=True),),
)


def dispatcher(**kw: bool) -> Dispatcher:
    return Dispatcher(compile_routes(TREE), **kw)


A = firing({"alertname": "HighCPU", "instance": "a"}, T0)
B = firing({"alertname": "HighCPU", "instance": "b"}, T0)


def names(n: Notification) -> tuple[list[str], list[str]]:
    return [a.labels["instance"] for a in n.firing], [a.labels["instance"] for a in n.resolved]


def test_first_flush_exactly_group_wait_after_the_group_appears() -> None:
    d = dispatcher()
    d.ingest([A], T0)
    assert d.next_wakeup() == T0 + WAIT
    assert d.due(T0 + WAIT - 1) == []
    d.ingest([B], T0 + 10 * S)  # joins the group, does not move its timer
    (n,) = d.due(T0 + WAIT)
    assert names(n) == (["a", "b"], [])
    assert n.reason is NotifyReason.FIRST_NOTIFICATION
    assert (n.receiver, n.route_id, n.route_key, n.escalation_policy_id) == ("default", "{}", "{}", "pol")
    assert n.group_key == '{}:{alertname="HighCPU"}'
    assert n.group_labels == {"alertname": "HighCPU"}
    assert n.at == T0 + WAIT
    assert d.next_wakeup() == T0 + WAIT + INTERVAL


def test_alert_older_than_group_wait_flushes_at_once() -> None:
    d = dispatcher()
    old = firing({"alertname": "Old"}, T0 - WAIT - 1)
    d.ingest([old], T0)
    assert d.next_wakeup() == T0
    assert len(d.due(T0)) == 1
    # Exactly group_wait old is not older: Alertmanager compares with Before.
    d2 = dispatcher()
    d2.ingest([firing({"alertname": "Old"}, T0 - WAIT)], T0)
    assert d2.next_wakeup() == T0 + WAIT


def test_a_resumed_group_waits_only_what_was_left_of_group_wait() -> None:
    # A pipeline partition taken over 20 s into its group's wait: 10 s are left, not 30 again.
    d = dispatcher()
    d.ingest([A], T0 + 20 * S, resume=True)
    assert d.next_wakeup() == T0 + WAIT
    assert d.due(T0 + WAIT - 1) == []
    (n,) = d.due(T0 + WAIT)
    assert names(n) == (["a"], [])
    # Without resume (a restart, as Alertmanager), the wait starts again.
    d2 = dispatcher()
    d2.ingest([A], T0 + 20 * S)
    assert d2.next_wakeup() == T0 + 20 * S + WAIT


def test_unchanged_group_waits_strictly_more_than_repeat_interval() -> None:
    d = dispatcher()
    d.ingest([A], T0)
    assert len(d.due(T0 + WAIT)) == 1
    t = T0 + WAIT
    # Flushes every group_interval, silently, until more than repeat_interval has passed.
    for _ in range(REPEAT // INTERVAL):
        t += INTERVAL
        assert d.due(t) == [], t - (T0 + WAIT)
    assert t == T0 + WAIT + REPEAT  # exactly repeat_interval: not yet
    t += INTERVAL
    (n,) = d.due(t)
    assert n.reason is NotifyReason.REPEAT
    assert names(n) == (["a"], [])


def test_new_alert_is_sent_at_the_next_group_interval() -> None:
    d = dispatcher()
    d.ingest([A], T0)
    d.due(T0 + WAIT)
    d.ingest([B], T0 + WAIT + 1)
    assert d.due(T0 + WAIT + INTERVAL - 1) == []
    (n,) = d.due(T0 + WAIT + INTERVAL)
    assert n.reason is NotifyReason.NEW_ALERTS
    assert names(n) == (["a", "b"], [])


def test_resolved_alert_is_sent_once_then_dropped_and_empty_group_removed() -> None:
    d = dispatcher()
    d.ingest([A, B], T0)
    d.due(T0 + WAIT)
    d.ingest([resolved(A, T0 + MIN)], T0 + MIN)
    (n,) = d.due(T0 + WAIT + INTERVAL)
    assert n.reason is NotifyReason.NEW_RESOLVED
    assert names(n) == (["b"], ["a"])
    assert [list(g.alerts) for g in d.groups()] == [[B.fingerprint]]
    assert d.due(T0 + WAIT + 2 * INTERVAL) == []
    d.ingest([resolved(B, T0 + 12 * MIN)], T0 + 12 * MIN)
    (n,) = d.due(T0 + WAIT + 3 * INTERVAL)
    assert n.reason is NotifyReason.ALL_RESOLVED
    assert names(n) == ([], ["b"])
    assert d.groups() == []
    assert d.next_wakeup() is None


def test_fire_and_resolve_inside_group_wait_is_never_notified() -> None:
    d = dispatcher()
    d.ingest([A], T0)
    d.ingest([resolved(A, T0 + WAIT - 1)], T0 + WAIT - 1)
    assert d.due(T0 + WAIT) == []
    assert d.groups() == []


def test_fire_and_resolve_between_notifications() -> None:
    d = dispatcher()
    d.ingest([A], T0)
    d.due(T0 + WAIT)
    d.ingest([B], T0 + MIN)
    d.ingest([resolved(B, T0 + 2 * MIN)], T0 + 2 * MIN)
    # As in Alertmanager with send_resolved: a resolution the log has not seen is news while
    # something still fires, even if the receiver never heard of B firing.
    (n,) = d.due(T0 + WAIT + INTERVAL)
    assert (n.reason, names(n)) == (NotifyReason.NEW_RESOLVED, (["a"], ["b"]))
    # With nothing firing any more it is not: the last notification had no firing alert.
    d.ingest([resolved(A, T0 + 6 * MIN)], T0 + 6 * MIN)
    assert [n.reason for n in d.due(T0 + WAIT + 2 * INTERVAL)] == [NotifyReason.ALL_RESOLVED]
    d.ingest([firing({"alertname": "HighCPU", "instance": "c"}, T0 + 12 * MIN)], T0 + 12 * MIN)
    d.ingest([resolved(firing({"alertname": "HighCPU", "instance": "c"}, 0), T0 + 13 * MIN)], T0 + 13 * MIN)
    assert d.due(T0 + 13 * MIN + WAIT) == []


def test_alert_with_future_end_time_resolves_when_it_passes() -> None:
    d = dispatcher()
    ext = dataclasses.replace(A, resolved_at=T0 + WAIT + INTERVAL)  # an external alert's endsAt
    d.ingest([ext], T0)
    (n,) = d.due(T0 + WAIT)
    assert names(n) == (["a"], [])
    (n,) = d.due(T0 + WAIT + INTERVAL)
    assert names(n) == ([], ["a"])


def test_continue_sends_to_both_receivers_with_their_own_log() -> None:
    d = dispatcher()
    db = firing({"alertname": "Slow", "team": "db"}, T0)
    d.ingest([db], T0)
    got = {(n.receiver, n.route_id) for n in d.due(T0 + WAIT)}
    assert got == {("db", '{}/{team="db"}/0')}
    # The root is only reached when no child matches; with continue it is still the child alone.
    d.ingest([firing({"alertname": "Slow", "team": "web"}, T0)], T0 + 1)
    assert [n.receiver for n in d.due(T0 + 1 + WAIT)] == ["default"]


def test_group_by_all_makes_one_group_per_alert() -> None:
    d = Dispatcher(compile_routes(Route(receiver="r", group_by=("...",), group_wait=0)))
    d.ingest([A, B], T0)
    assert sorted(n.group_key for n in d.due(T0)) == [
        '{}:{alertname="HighCPU", instance="a"}',
        '{}:{alertname="HighCPU", instance="b"}',
    ]


def test_pending_alerts_are_ignored() -> None:
    d = dispatcher()
    d.ingest([dataclasses.replace(A, state=AlertState.PENDING)], T0)
    assert d.groups() == []


def test_silenced_alerts_are_left_out_and_all_muted_group_sends_nothing() -> None:
    d = dispatcher()
    d.ingest([A, B], T0)
    silence = Silence(('instance="a"',), T0, T0 + WAIT + INTERVAL, "me", "maintenance", id="s1")
    muters = [SilenceMuter([silence])]
    (n,) = d.due(T0 + WAIT, muters)
    assert names(n) == (["b"], [])
    # Once the silence ends, A counts as new.
    (n,) = d.due(T0 + WAIT + INTERVAL, muters)
    assert n.reason is NotifyReason.NEW_ALERTS
    assert names(n) == (["a", "b"], [])
    everything = SilenceMuter([Silence(('alertname="HighCPU"',), T0, T0 + 10 * REPEAT, "me", "all", id="s2")])
    d2 = dispatcher()
    d2.ingest([A], T0)
    assert d2.due(T0 + WAIT, [everything]) == []
    assert d2.nflog.get(d2.groups()[0].id, "default") is None


def test_inhibited_alerts_are_left_out() -> None:
    d = dispatcher()
    source = firing({"alertname": "NodeDown", "instance": "a"}, T0)
    ih = Inhibitor([InhibitRule(('alertname="NodeDown"',), ('alertname="HighCPU"',), ("instance",))])
    ih.update([A, B, source], T0 + WAIT)
    d.ingest([A, B, source], T0)
    got = {n.group_labels["alertname"]: names(n) for n in d.due(T0 + WAIT, [ih])}
    assert got == {"HighCPU": (["b"], []), "NodeDown": (["a"], [])}


def test_annotation_changes_count_only_when_asked() -> None:
    for flag, expected in ((False, []), (True, [NotifyReason.NEW_ALERTS])):
        d = dispatcher(annotations_are_changes=flag)
        d.ingest([A], T0)
        d.due(T0 + WAIT)
        d.ingest([dataclasses.replace(A, annotations={"summary": "now 99%"})], T0 + MIN)
        assert [n.reason for n in d.due(T0 + WAIT + INTERVAL)] == expected


def test_snapshot_restore_does_not_renotify() -> None:
    d = dispatcher()
    d.ingest([A], T0)
    d.due(T0 + WAIT)
    d.ingest([B], T0 + MIN)
    data = json.loads(json.dumps(d.snapshot()))  # survives a trip through JSON
    fresh = dispatcher()
    fresh.restore(data)
    assert fresh.snapshot() == data
    assert fresh.next_wakeup() == T0 + WAIT + INTERVAL
    fresh.ingest([A, B], T0 + 2 * MIN)
    (n,) = fresh.due(T0 + WAIT + INTERVAL)
    assert n.reason is NotifyReason.NEW_ALERTS
    assert fresh.due(T0 + WAIT + 2 * INTERVAL) == []


def test_restart_without_groups_still_does_not_renotify() -> None:
    d = dispatcher()
    d.ingest([A], T0)
    d.due(T0 + WAIT)
    data = d.snapshot()
    data["groups"] = []
    fresh = dispatcher()
    fresh.restore(data)
    fresh.ingest([A], T0 + 10 * MIN)  # A started long ago: immediate flush, but nothing new
    assert fresh.next_wakeup() == T0 + 10 * MIN
    assert fresh.due(T0 + 10 * MIN) == []


def test_restore_drops_groups_of_routes_that_are_gone() -> None:
    d = dispatcher()
    d.ingest([firing({"alertname": "Slow", "team": "db"}, T0)], T0)
    fresh = Dispatcher(compile_routes(Route(receiver="default", group_by=("alertname",))))
    fresh.restore(d.snapshot())
    assert fresh.groups() == []
    with pytest.raises(ValueError, match="version"):
        fresh.restore({"version": 99})


def test_nflog_entries_expire_after_retention() -> None:
    d = Dispatcher(compile_routes(TREE), nflog_retention=REPEAT)
    d.ingest([A], T0)
    (n,) = d.due(T0 + WAIT)
    assert d.nflog.get(n.group_id, "default") is not None
    d.nflog.gc(T0 + WAIT + REPEAT - 1)
    assert d.nflog.get(n.group_id, "default") is not None
    d.nflog.gc(T0 + WAIT + REPEAT)
    assert d.nflog.get(n.group_id, "default") is None
    # Forgotten means never sent: the next flush is a first notification again.
    assert [n.reason for n in d.due(T0 + WAIT + REPEAT)] == [NotifyReason.FIRST_NOTIFICATION]
