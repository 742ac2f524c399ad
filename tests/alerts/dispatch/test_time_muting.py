"""Time intervals in the dispatcher: Alertmanager's TimeActiveStage and TimeMuteStage at each flush.

T0 is Tuesday 2023-11-14 22:13:20 UTC.
"""

from __future__ import annotations

import dataclasses
import json

from alerting_server.alerts import Dispatcher, compile_routes
from alerting_server.alerts.dispatch.aggregation import time_muted
from alerting_server.alerts.dispatch.routing import RouteOpts
from alerting_server.model import AlertState, Route
from alerting_server.timeintervals import parse_time_interval
from tests.alerts.helpers import firing

T0 = 1_700_000_000_000
S = 1000
MIN = 60 * S
WAIT, INTERVAL = 30 * S, 5 * MIN

INTERVALS = {
    "late-evening": parse_time_interval(
        "late-evening", [{"times": [{"start_time": "22:00", "end_time": "23:00"}]}]
    ),
    "weekend": parse_time_interval("weekend", [{"weekdays": ["saturday", "sunday"]}]),
    "tuesday": parse_time_interval("tuesday", [{"weekdays": ["tuesday"]}]),
}


def tree(*children: Route) -> Route:
    return Route(
        receiver="default", group_by=("alertname",), group_wait=WAIT, group_interval=INTERVAL, routes=children
    )


DB = firing({"alertname": "HighCPU", "team": "db"}, T0)


def test_a_child_route_does_not_inherit_its_parents_time_intervals() -> None:
    routes = compile_routes(
        tree(
            Route(
                matchers=('team="db"',),
                mute_time_intervals=("late-evening",),
                active_time_intervals=("tuesday",),
                routes=(Route(matchers=('alertname="HighCPU"',)),),
            )
        )
    )
    [parent] = routes.children
    assert parent.opts.mute_time_intervals == ("late-evening",)
    assert parent.opts.active_time_intervals == ("tuesday",)
    [child] = parent.children
    assert (child.opts.mute_time_intervals, child.opts.active_time_intervals) == ((), ())

    d = Dispatcher(routes)
    d.ingest([DB], T0)
    [n] = d.due(T0 + WAIT, time_intervals=INTERVALS)
    assert n.route_key == '{}/{team="db"}/{alertname="HighCPU"}'
    assert d.muted_by(DB) == ()


def test_mute_and_active_decide_as_alertmanager_does() -> None:
    def opts(mute: tuple[str, ...] = (), active: tuple[str, ...] = ()) -> RouteOpts:
        route = Route(matchers=('team="db"',), mute_time_intervals=mute, active_time_intervals=active)
        return compile_routes(tree(route)).children[0].opts

    at = T0  # a Tuesday, 22:13 UTC
    assert time_muted(opts(), INTERVALS, at) == ()
    assert time_muted(opts(mute=("weekend", "late-evening")), INTERVALS, at) == ("late-evening",)
    assert time_muted(opts(mute=("weekend",)), INTERVALS, at) == ()
    # outside all active intervals: muted by every one of them
    assert time_muted(opts(active=("weekend",)), INTERVALS, at) == ("weekend",)
    assert time_muted(opts(active=("weekend", "tuesday")), INTERVALS, at) == ()
    # active, then muted: the mute intervals that hold
    both = opts(active=("tuesday",), mute=("late-evening",))
    assert time_muted(both, INTERVALS, at) == ("late-evening",)
    assert time_muted(both, INTERVALS, at + 47 * MIN) == ()


def test_a_muted_flush_sends_and_logs_nothing_and_the_next_flush_after_the_interval_sends() -> None:
    d = Dispatcher(
        compile_routes(tree(Route(matchers=('team="db"',), mute_time_intervals=("late-evening",))))
    )
    d.ingest([DB], T0)
    assert d.due(T0 + WAIT, time_intervals=INTERVALS) == []
    assert d.take_flushed() == {DB.fingerprint}
    assert d.muted_by(DB) == ("late-evening",)
    assert d.nflog.get(d.groups()[0].id, "default") is None
    # 22:58:50 muted; 23:03:50 sends as a first notification
    assert d.due(T0 + WAIT + 9 * INTERVAL, time_intervals=INTERVALS) == []
    [n] = d.due(T0 + WAIT + 10 * INTERVAL, time_intervals=INTERVALS)
    assert [a.fingerprint for a in n.firing] == [DB.fingerprint]
    assert d.muted_by(DB) == ()


def test_an_alert_resolved_while_muted_is_dropped_without_a_notification() -> None:
    d = Dispatcher(
        compile_routes(tree(Route(matchers=('team="db"',), mute_time_intervals=("late-evening",))))
    )
    d.ingest([DB], T0)
    d.due(T0 + WAIT, time_intervals=INTERVALS)
    gone = dataclasses.replace(DB, state=AlertState.RESOLVED, resolved_at=T0 + MIN)
    d.ingest([gone], T0 + MIN)
    assert d.due(T0 + WAIT + INTERVAL, time_intervals=INTERVALS) == []
    assert d.groups() == []


def test_a_time_interval_missing_from_the_configuration_holds_the_notification() -> None:
    d = Dispatcher(compile_routes(tree(Route(matchers=('team="db"',), mute_time_intervals=("gone",)))))
    d.ingest([DB], T0)
    assert d.due(T0 + WAIT, time_intervals=INTERVALS) == []
    [group] = d.groups()
    assert group.alerts == {DB.fingerprint: DB}
    [n] = d.due(T0 + WAIT + INTERVAL, time_intervals={**INTERVALS, "gone": INTERVALS["weekend"]})
    assert n.firing == (DB,)


def test_a_groups_muted_by_survives_a_reconfiguration() -> None:
    routes = compile_routes(tree(Route(matchers=('team="db"',), mute_time_intervals=("late-evening",))))
    d = Dispatcher(routes)
    d.ingest([DB], T0)
    d.due(T0 + WAIT, time_intervals=INTERVALS)
    fresh = Dispatcher(routes)
    fresh.restore(json.loads(json.dumps(d.snapshot())))
    assert fresh.muted_by(DB) == ("late-evening",)
