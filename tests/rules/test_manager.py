"""The rule engine with an injected clock: evaluations are driven directly, nothing sleeps."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pytest
from prometheus_client import REGISTRY

from alerting_server.model import Alert, AlertState, Rule, RuleType
from alerting_server.model.rule import RuleHealth, RuleHealthRow
from alerting_server.query.engine import Engine
from alerting_server.query.labels import Labels
from alerting_server.query.result import Result, ResultSeries, ValueKind
from alerting_server.query.tsdb import TSDB, Sample
from alerting_server.rules import reads
from alerting_server.rules.group import Group, GroupEval
from alerting_server.rules.manager import RuleManager
from alerting_server.rules.reads import GroupReads, SeriesReaders
from alerting_server.rules.runner import GroupRunner
from alerting_server.rules.vector import VectorSample, engine_query_func

S = 1000
M = 60 * S
T0 = 1_700_000_000_000


def labels(**kv: str) -> Labels:
    return tuple(sorted(kv.items()))


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


class Rules:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.health: list[RuleHealthRow] = []

    async def all(self) -> list[Rule]:
        return list(self.rules)

    async def in_groups(self, groups: Iterable[str]) -> list[Rule]:
        names = set(groups)
        return [r for r in self.rules if r.group in names]

    async def set_health_many(self, rows: Iterable[RuleHealthRow]) -> None:
        self.health.extend(rows)


class Sink:
    """The alert stage as the engine sees it: what it was given, latest version per fingerprint."""

    def __init__(self, held: list[Alert] | None = None) -> None:
        self.held = {a.fingerprint: a for a in held or []}
        self.applied: list[Alert] = []

    async def apply_rule_alerts(self, changes: Sequence[tuple[str, Alert]]) -> None:
        for _, a in changes:
            self.applied.append(a)
            self.held[a.fingerprint] = a

    def alerts(self) -> list[Alert]:
        return list(self.held.values())

    def room(self) -> int:
        return 1_000_000


class Remote:
    def __init__(self, value: float) -> None:
        self.value = value
        self.asked: list[tuple[str, str]] = []

    async def instant(self, name: str, query: str, t_ms: int) -> Result:
        self.asked.append((name, query))
        series = ResultSeries(labels(source=name), np.array([t_ms]), np.array([self.value]))
        return Result(ValueKind.VECTOR, [series], t_ms=t_ms)


def alerting(rule_id: str, query: str, group: str = "g", **kw: object) -> Rule:
    return dataclasses.replace(Rule(name=rule_id.upper(), query=query, id=rule_id, group=group), **kw)  # type: ignore[arg-type]


def engine_for(
    rules: list[Rule], *, db: TSDB | None = None, sink: Sink | None = None, remote: Remote | None = None
) -> tuple[RuleManager, TSDB, Sink, Rules, Clock]:
    db = db or TSDB(retention_ms=1 << 62)
    sink = sink or Sink()
    store = Rules(rules)
    clock = Clock(T0)
    local = engine_query_func(Engine(db))
    engine = RuleManager(store, local, remote or Remote(0), db, sink, clock, min_interval_ms=1 * S)
    return engine, db, sink, store, clock


def write(db: TSDB, name: str, t: int, value: float, **kv: str) -> None:
    db.append([Sample(labels(__name__=name, **kv), t, value)])


async def test_a_group_per_name_with_its_interval_and_alerts_to_the_stage() -> None:
    engine, db, sink, store, _ = engine_for(
        [
            alerting("hot", "temp > 30", severity="page", labels={"room": "{{ $labels.room }}!"}),
            alerting("cold", "temp < 0", group="other", interval=5 * M),
        ]
    )
    await engine.load()
    assert sorted(engine.runners) == ["g", "other"]
    assert engine.runners["g"].group.interval_ms == 15 * S
    assert engine.runners["other"].group.interval_ms == 5 * M
    write(db, "temp", T0, 35, room="a")
    await engine.evaluate("g", T0)
    (alert,) = sink.applied
    assert alert.state is AlertState.FIRING
    assert alert.labels == {"alertname": "HOT", "room": "a!", "severity": "page"}
    assert (alert.rule, alert.rule_id, alert.value, alert.started_at) == ("HOT", "hot", 35.0, T0)
    await engine.flush()
    assert [(r.rule_id, r.health, r.last_evaluation) for r in store.health] == [("hot", RuleHealth.OK, T0)]
    await engine.flush()
    assert len(store.health) == 1, "a flush writes only what was evaluated since the last one"


async def test_periodic_slots_are_aligned_and_overruns_count_as_missed() -> None:
    engine, *_ = engine_for([alerting("up", "up == 0", group="slots")])
    await engine.load()
    runner = engine.runners["slots"]
    group: Group = runner.group
    first = group.eval_timestamp(T0) + group.interval_ms
    assert runner.next_slot == first
    assert await runner.step(first - 1) == first
    assert runner.last_ts is None
    assert await runner.step(first) == first + 15 * S
    assert runner.last_ts == first
    # Three slots went by during a long pause: the latest one is evaluated, the others are missed.
    late = first + 3 * 15 * S + 700
    assert await runner.step(late) == first + 4 * 15 * S
    assert runner.last_ts == first + 3 * 15 * S
    assert (
        REGISTRY.get_sample_value("alerting_rule_group_iterations_missed_total", {"rule_group": "slots"}) == 2
    )


async def test_a_write_evaluates_only_the_rules_reading_it_and_is_coalesced() -> None:
    engine, db, sink, store, _ = engine_for(
        [alerting("a", "a_metric > 1"), alerting("b", "b_metric > 1"), alerting("c", "c_metric > 1")]
    )
    await engine.load()
    runner = engine.runners["g"]
    now = T0 + 100
    write(db, "a_metric", now, 5)
    write(db, "b_metric", now, 5)
    engine.written(["a_metric"], now)
    engine.written(["unrelated"], now)
    assert await runner.step(now) == runner.next_slot
    await engine.deliver()
    assert [a.rule_id for a in sink.applied] == ["a"]
    assert {r.rule_id for r in store.health} == set()
    await engine.flush()
    assert [r.rule_id for r in store.health] == ["a"]

    # The group is idle: a second write within min_interval is evaluated at once.
    engine.written(["b_metric"], now)
    engine.written(["b_metric"], now)
    assert await runner.step(now + 10) == runner.next_slot
    await engine.deliver()
    assert [a.rule_id for a in sink.applied] == ["a", "b"]
    assert runner.last_ts == now + 10


async def test_a_written_series_evaluates_only_the_rules_that_may_select_it() -> None:
    """Series by series: a write of some hosts wakes the rules on those hosts, not every rule reading
    the metric; a rule with no equality matcher, or a pattern on the name, reads every series."""
    engine, db, sink, _, _ = engine_for(
        [
            alerting("h1", 'avg by (host) (cpu{host="h1"}) > 80'),
            alerting("h2", 'avg by (host) (cpu{host="h2"}) > 80'),
            alerting("any", 'count(cpu{job=~".+"}) > 100'),
            alerting("h3", 'cpu{host="h3"} > 80', group="other"),
            alerting("pattern", '{__name__=~"cp.*", host="h9"} > 80', group="patterned"),
        ]
    )
    await engine.load()
    now = T0 + 100
    write(db, "cpu", now, 90, host="h1", cpu="0")
    engine.written_series(
        [labels(__name__="cpu", host="h1", cpu="0"), labels(__name__="mem", host="h2")], now
    )
    g, other, patterned = (engine.runners[name] for name in ("g", "other", "patterned"))
    assert await g.step(now) == g.next_slot
    await engine.deliver()
    assert [a.rule_id for a in sink.applied] == ["h1"]
    # h1 and any ran; h2 did not.
    assert [status.last_evaluation for status in g.group.status] == [now, None, now]
    # A series of h2 written before the next slot: its rule is not skipped there, though it returned
    # nothing before and reads no metric the others do not (skipping goes by rule, not by metric).
    slot = g.next_slot
    write(db, "cpu", slot - 1, 95, host="h2")
    engine.written_series([labels(__name__="cpu", host="h2")], slot - 1)
    await g.step(slot)
    await engine.deliver()
    assert [status.last_evaluation for status in g.group.status] == [slot, slot, slot]
    assert [a.rule_id for a in sink.applied] == ["h1", "h2"]
    # The other group reads cpu, but none of its selectors takes host="h1": nothing to run.
    assert await other.step(now) == other.next_slot
    assert other.last_ts is None
    # A pattern on the name may take any series of any metric: its group runs.
    assert await patterned.step(now) == patterned.next_slot
    assert patterned.last_ts == now


def test_what_a_written_series_must_have_for_a_rule_to_read_it() -> None:
    readers = SeriesReaders(
        {
            "g": GroupReads(
                [
                    alerting("a", 'cpu{host="h1", cpu=~"0|1"} > 1'),
                    alerting("b", 'sum(cpu{host="h2"} or cpu{host="", job="j"}) > 1'),
                    alerting("c", 'rate(http{code="500" or code="502"}[1m]) > 1'),
                    alerting("d", '{__name__="up", job="api"} == 0'),
                    alerting("e", 'absent(up{job=""})'),
                ]
            ),
            "other": GroupReads(
                [alerting("f", 'cpu{host="h1"} > 2'), alerting("p", '{__name__=~"u.", a="b"}')]
            ),
        }
    )

    def hit(**kv: str) -> dict[str, set[int]]:
        return readers.hits([labels(**kv)])

    assert hit(__name__="cpu", host="h1", cpu="7") == {"g": {0}, "other": {0}}
    assert hit(__name__="cpu", host="h2") == {"g": {1}}
    assert hit(__name__="cpu", job="j") == {"g": {1}}
    assert hit(__name__="cpu", host="h3") == {}
    assert (hit(__name__="http", code="502"), hit(__name__="http", code="404")) == ({"g": {2}}, {})
    # A pattern on the name reads every series of a metric it takes.
    assert hit(__name__="up", job="api") == {"g": {3, 4}, "other": {1}}
    assert hit(__name__="up", job="db") == {"g": {4}, "other": {1}}
    assert hit(__name__="mem", host="h1") == {}
    # A label that sorts before the name.
    assert hit(__name__="cpu", Host="x", host="h2") == {"g": {1}}
    assert readers.hits([labels(__name__="cpu", host="h1"), labels(__name__="cpu", host="h2")]) == {
        "g": {0, 1},
        "other": {0},
    }


def test_a_label_set_written_again_reaches_what_it_did_and_what_is_remembered_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reads, "_MAX_REMEMBERED", 4)
    readers = SeriesReaders(
        {"g": GroupReads([alerting("a", 'cpu{host="h1"} > 1'), alerting("b", 'cpu{host="h2"} > 1')])}
    )
    h1 = labels(__name__="cpu", host="h1")
    assert readers.hits([h1]) == {"g": {0}}
    # The same label set again, and an equal one made anew: both reach rule a.
    assert readers.hits([h1, labels(__name__="cpu", host="h1")]) == {"g": {0}}
    many = [labels(__name__="cpu", host=f"h{i}") for i in range(10)]
    assert readers.hits(many) == {"g": {0, 1}}
    # Past the bound it starts over, and still answers right.
    assert readers.hits([many[2]]) == {"g": {1}}
    assert len(readers._reached) == 1
    assert readers.hits([many[5], h1]) == {"g": {0}}


async def test_evaluations_of_a_group_run_one_after_another_whoever_asks() -> None:
    """A periodic evaluation (its thread) and one on a write (the other thread) of the same group
    never run at once: each would move the same alerts on."""
    engine, *_ = engine_for([alerting("a", "a_metric > 1")])
    await engine.load()
    runner = engine.runners["g"]
    spans: list[tuple[float, float]] = []
    evaluate = runner.group.eval

    def slow_eval(*args: Any, **kwargs: Any) -> GroupEval:
        began = time.monotonic()
        time.sleep(0.05)
        try:
            return evaluate(*args, **kwargs)
        finally:
            spans.append((began, time.monotonic()))

    runner.group.eval = slow_eval  # type: ignore[method-assign]
    await asyncio.gather(runner.evaluate(T0, None), runner.evaluate(T0 + 1, None, urgent=True))
    (_, first_end), (second_start, _) = sorted(spans)
    assert first_end <= second_start


async def test_hand_overs_reach_the_alert_stage_in_order_and_a_caller_waits_for_the_one_under_way() -> None:
    class Slow(Sink):
        """Its first hand-over waits for the gate."""

        def __init__(self) -> None:
            super().__init__()
            self.gate = asyncio.Event()
            self.calls = 0

        async def apply_rule_alerts(self, changes: Sequence[tuple[str, Alert]]) -> None:
            self.calls += 1
            if self.calls == 1:
                await self.gate.wait()
            await super().apply_rule_alerts(changes)

    sink = Slow()
    engine, db, *_ = engine_for([alerting("a", "a_metric > 1"), alerting("b", "b_metric > 1")], sink=sink)
    await engine.load()
    write(db, "a_metric", T0, 5)
    write(db, "b_metric", T0, 5)
    await engine.runners["g"].evaluate(T0, [0])
    first = asyncio.create_task(engine.deliver())
    await asyncio.sleep(0.01)
    await engine.runners["g"].evaluate(T0 + 1, [1])
    second = asyncio.create_task(engine.deliver())
    await asyncio.sleep(0.01)
    assert not second.done()
    sink.gate.set()
    await asyncio.gather(first, second)
    assert [a.rule_id for a in sink.applied] == ["a", "b"]


async def test_recording_output_triggers_the_rules_reading_it() -> None:
    rules = [
        Rule(name="job:x:sum", query="sum by (job) (x)", id="r", type=RuleType.RECORDING, group="rec"),
        alerting("big", "job:x:sum > 10", group="alerts"),
        alerting("other", "y > 1", group="alerts"),
    ]
    engine, db, sink, _, _ = engine_for(rules)
    await engine.load()
    write(db, "x", T0, 6, job="j", i="1")
    write(db, "x", T0, 7, job="j", i="2")
    engine.written(["x"], T0)
    await engine.runners["rec"].step(T0 + 5)
    await engine.runners["alerts"].step(T0 + 6)
    await engine.deliver()
    assert [(a.rule_id, a.labels, a.value) for a in sink.applied] == [
        ("big", {"alertname": "BIG", "job": "j"}, 13.0)
    ]


def test_downstream_rules_of_a_recording_rule_in_the_same_group() -> None:
    reads = GroupReads(
        [
            alerting("early", "rec > 1"),
            Rule(name="rec", query="sum(x)", id="r", type=RuleType.RECORDING),
            alerting("late", "rec > 1"),
            alerting("any", '{__name__=~"x|z"} > 1'),
            alerting("none", "y > 1"),
        ]
    )
    assert reads.affected(["x"]) == [1, 2, 3]
    assert reads.affected(["z"]) == [3]
    assert reads.affected(["nothing"]) == []


async def test_state_is_restored_from_the_stage_so_the_for_clock_runs_on() -> None:
    rule = alerting("slow", "q > 10", duration=1 * M)
    engine, db, sink, _, _ = engine_for([rule])
    await engine.load()
    write(db, "q", T0, 50)
    await engine.evaluate("g", T0)
    (pending,) = sink.alerts()
    assert (pending.state, pending.started_at) == (AlertState.PENDING, T0)

    # A new process: the stage comes back with what it persisted.
    restarted, _, sink2, _, _ = engine_for([rule], db=db, sink=Sink(sink.alerts()))
    await restarted.load()
    write(db, "q", T0 + 30 * S, 50)
    await restarted.evaluate("g", T0 + 30 * S)
    assert sink2.applied == [], "nothing changed: no new alert, no re-notification"
    write(db, "q", T0 + 60 * S, 50)
    await restarted.evaluate("g", T0 + 60 * S)
    (firing,) = sink2.applied
    assert (firing.state, firing.started_at, firing.fired_at) == (AlertState.FIRING, T0, T0 + 60 * S)


async def test_alerts_of_rules_deleted_while_down_resolve_on_load() -> None:
    held = Alert("fp", {"alertname": "GONE"}, AlertState.FIRING, rule="GONE", rule_id="gone", started_at=T0)
    external = Alert("ext", {"alertname": "X"}, AlertState.FIRING, started_at=T0)
    engine, _, sink, _, clock = engine_for([], sink=Sink([held, external]))
    await engine.load()
    assert [(a.fingerprint, a.state, a.resolved_at) for a in sink.applied] == [
        ("fp", AlertState.RESOLVED, clock.now)
    ]


async def test_delete_resolves_and_replace_keeps_state_and_evaluates_at_once() -> None:
    keep = alerting("keep", "m > 1", duration=5 * M)
    drop = alerting("drop", "m > 2")
    engine, db, sink, store, clock = engine_for([keep, drop])
    await engine.load()
    write(db, "m", T0, 5)
    await engine.evaluate("g", T0)
    assert {a.rule_id: a.state for a in sink.alerts()} == {
        "keep": AlertState.PENDING,
        "drop": AlertState.FIRING,
    }

    store.rules = [dataclasses.replace(keep, annotations={"summary": "changed"})]
    clock.now = T0 + 1 * S
    await engine.reload()
    assert [(a.rule_id, a.state, a.resolved_at) for a in sink.applied[2:]] == [
        ("drop", AlertState.RESOLVED, T0 + 1 * S)
    ]
    runner = engine.runners["g"]
    assert [r.rule.id for r in runner.group.rules] == ["keep"]
    # The replaced rule is evaluated at once, its pending alert still counting from T0.
    await runner.step(T0 + 2 * S)
    await engine.deliver()
    last = sink.applied[-1]
    assert (last.rule_id, last.state, last.started_at, last.annotations) == (
        "keep",
        AlertState.PENDING,
        T0,
        {"summary": "changed"},
    )

    store.rules = []
    await engine.reload()
    assert engine.runners == {}
    assert sink.applied[-1].state is AlertState.RESOLVED


@pytest.mark.parametrize(
    "change",
    [
        {"query": "m > 0"},
        {"labels": {"team": "db"}},
        {"severity": "critical"},
        {"type": RuleType.RECORDING},
    ],
)
async def test_a_rule_whose_query_or_labels_changed_resolves_its_alerts(change: dict[str, object]) -> None:
    """The rule keeps its id, but what selects and labels its alerts changed: they are another rule's."""
    rule = alerting("r", "m > 1", duration=5 * M)
    engine, db, sink, store, clock = engine_for([rule])
    await engine.load()
    write(db, "m", T0, 5)
    await engine.evaluate("g", T0)
    assert [(a.rule_id, a.state) for a in sink.applied] == [("r", AlertState.PENDING)]

    store.rules = [dataclasses.replace(rule, **change)]  # type: ignore[arg-type]
    clock.now = T0 + 1 * S
    await engine.reload({"g"})
    assert [(a.rule_id, a.state, a.resolved_at) for a in sink.applied[1:]] == [
        ("r", AlertState.RESOLVED, T0 + 1 * S)
    ]
    assert [a for runner in engine.runners.values() for a in runner.group.alerts() if a.rule_id == "r"] == []


async def test_health_is_stored_when_it_changes_and_read_live() -> None:
    engine, db, _, store, _ = engine_for([alerting("r", "m > 1"), alerting("j", "a * on (job) b")])
    await engine.load()
    write(db, "m", T0, 5)
    for name in ("a", "b"):
        write(db, name, T0, 1, job="x", i="1")
    await engine.evaluate("g", T0)
    await engine.flush()
    assert sorted((r.rule_id, r.health, r.last_evaluation) for r in store.health) == [
        ("j", RuleHealth.OK, T0),
        ("r", RuleHealth.OK, T0),
    ]
    # Unchanged health is not written again, but the engine answers with the latest evaluation.
    await engine.evaluate("g", T0 + 15 * S)
    await engine.flush()
    assert len(store.health) == 2
    live = engine.status("r")
    assert live is not None
    assert (live.health, live.last_evaluation) == (RuleHealth.OK, T0 + 15 * S)
    # A change is written at once; unchanged health that was stored long ago is written again.
    for name in ("a", "b"):
        write(db, name, T0 + 20 * S, 1, job="x", i="2")
    await engine.evaluate("g", T0 + 20 * S)
    await engine.flush()
    assert [(r.rule_id, r.health, r.last_evaluation) for r in store.health[2:]] == [
        ("j", RuleHealth.ERR, T0 + 20 * S)
    ]
    await engine.evaluate("g", T0 + 6 * M)
    await engine.flush()
    assert sorted((r.rule_id, r.last_evaluation) for r in store.health[3:]) == [
        ("j", T0 + 6 * M),
        ("r", T0 + 6 * M),
    ]


async def test_health_that_failed_to_be_stored_is_stored_with_the_next_flush() -> None:
    engine, _, _, store, _ = engine_for([alerting("r", "m > 1")])
    await engine.load()
    await engine.evaluate("g", T0)

    async def broken(rows: Iterable[RuleHealthRow]) -> None:
        raise OSError("disk full")

    working = store.set_health_many
    store.set_health_many = broken  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        await engine.flush()
    store.set_health_many = working  # type: ignore[method-assign]
    await engine.flush()
    assert [(r.rule_id, r.last_evaluation) for r in store.health] == [("r", T0)]


async def test_reloading_named_groups_leaves_the_others_alone() -> None:
    a, b = alerting("a", "m > 1", group="ga"), alerting("b", "m > 1", group="gb")
    engine, _, _, store, _ = engine_for([a, b])
    await engine.load()
    before = dict(engine.runners)
    # gb changed in the store, but only ga is named: gb is not looked at.
    store.rules = [dataclasses.replace(a, query="m > 2"), dataclasses.replace(b, query="m > 3")]
    await engine.reload({"ga"})
    assert engine.runners["ga"] is not before["ga"]
    assert engine.runners["gb"] is before["gb"]
    assert engine.runners["gb"].group.rules[0].rule.query == "m > 1"
    store.rules = [b]
    await engine.reload({"ga"})
    assert sorted(engine.runners) == ["gb"]


async def test_a_rule_moved_to_another_group_keeps_its_alerts_and_for_clock() -> None:
    rule = alerting("mv", "m > 1", duration=5 * M)
    engine, db, sink, store, clock = engine_for([rule, alerting("stay", "m > 100")])
    await engine.load()
    write(db, "m", T0, 5)
    await engine.evaluate("g", T0)
    assert [(a.rule_id, a.state) for a in sink.applied] == [("mv", AlertState.PENDING)]

    store.rules = [dataclasses.replace(rule, group="other"), alerting("stay", "m > 100")]
    clock.now = T0 + 1 * S
    await engine.reload({"g", "other"})
    assert len(sink.applied) == 1, "nothing resolved, nothing new"
    assert [r.rule.id for r in engine.runners["other"].group.rules] == ["mv"]
    write(db, "m", T0 + 5 * M, 5)
    await engine.evaluate("other", T0 + 5 * M)
    last = sink.applied[-1]
    assert (last.rule_id, last.state, last.started_at) == ("mv", AlertState.FIRING, T0)


async def test_series_of_deleted_rules_are_marked_stale_at_once() -> None:
    rec = Rule(name="job:m", query="m", id="rec", type=RuleType.RECORDING, group="g")
    alert = alerting("hi", "m > 1", group="g")
    engine, db, sink, store, clock = engine_for([rec, alert, alerting("kept", "m > 1", group="g2")])
    await engine.load()
    write(db, "m", T0, 5, job="a")
    await engine.evaluate("g", T0)
    await engine.evaluate("g2", T0)
    query = Engine(db)
    assert len(query.instant("job:m", T0 + 10 * S).series) == 1
    assert len(query.instant('ALERTS{alertname="HI"}', T0 + 10 * S).series) == 1

    store.rules = [alerting("kept", "m > 1", group="g2")]
    clock.now = T0 + 10 * S
    await engine.reload({"g"})
    # Within the 5-minute lookback they would still show without the markers.
    assert query.instant("job:m", T0 + 11 * S).series == []
    assert query.instant('ALERTS{alertname="HI"}', T0 + 11 * S).series == []
    assert len(query.instant('ALERTS{alertname="KEPT"}', T0 + 11 * S).series) == 1
    assert sink.applied[-1].rule_id == "hi"
    assert sink.applied[-1].state is AlertState.RESOLVED


async def test_a_rule_removed_from_a_rebuilt_group_gets_its_series_marked_stale() -> None:
    recs = [Rule(name=f"r{i}", query="m", id=f"r{i}", type=RuleType.RECORDING, group="g") for i in range(2)]
    engine, db, _, store, clock = engine_for(recs)
    await engine.load()
    write(db, "m", T0, 5)
    await engine.evaluate("g", T0)
    store.rules = [recs[0]]
    clock.now = T0 + 10 * S
    await engine.reload({"g"})
    query = Engine(db)
    assert query.instant("r1", T0 + 11 * S).series == []
    assert len(query.instant("r0", T0 + 11 * S).series) == 1


async def test_a_failing_rule_is_unhealthy_and_the_rest_evaluate() -> None:
    engine, db, sink, store, _ = engine_for(
        [alerting("bad", "a * on (job) b"), alerting("good", "c > 1"), alerting("syntax", "c >")]
    )
    await engine.load()
    for i in ("1", "2"):
        write(db, "a", T0, 1, job="x", i=i)
        write(db, "b", T0, 1, job="x", i=i)
    write(db, "c", T0, 2)
    await engine.evaluate("g", T0)
    await engine.flush()
    health = {r.rule_id: (r.health, r.last_error) for r in store.health}
    assert health["good"] == (RuleHealth.OK, "")
    assert health["bad"][0] is RuleHealth.ERR
    assert "many-to-many" in health["bad"][1]
    assert health["syntax"][0] is RuleHealth.ERR
    assert [a.rule_id for a in sink.applied] == ["good"]


async def test_a_remote_datasource_is_queried_off_the_loop() -> None:
    remote = Remote(99)
    engine, db, sink, _, _ = engine_for(
        [alerting("far", "up > 1", datasource="prom"), alerting("near", "x > 1")], remote=remote
    )
    await engine.load()
    write(db, "x", T0, 5)
    await engine.evaluate("g", T0)
    assert remote.asked == [("prom", "up > 1")]
    assert sorted((a.rule_id, a.value) for a in sink.applied) == [("far", 99.0), ("near", 5.0)]
    # ALERTS of the remote rule went into the embedded store, written on the loop.
    assert db.series_count >= 3


async def test_an_evaluation_running_when_its_group_is_rebuilt_still_hands_on_its_alerts() -> None:
    """A rule is added while the group's evaluation runs in its thread: the alert that evaluation
    created reaches the alert stage, though the rebuilt group, finding it firing, reports no change."""
    db = TSDB(retention_ms=1 << 62)
    write(db, "x", T0, 50)
    query = engine_query_func(Engine(db))
    entered, release = threading.Event(), threading.Event()

    def held(expr: str, t_ms: int) -> list[VectorSample]:
        entered.set()
        release.wait(10)
        return query(expr, t_ms)

    hot = alerting("hot", "x > 10")
    store, sink = Rules([hot]), Sink()
    engine = RuleManager(store, held, Remote(0), db, sink, Clock(T0), min_interval_ms=1 * S)
    await engine.start()
    try:
        engine.runners["g"].request_full()
        assert await asyncio.to_thread(entered.wait, 10)
        store.rules = [hot, alerting("cold", "x < 0")]
        reload = asyncio.create_task(engine.reload(["g"]))
        await asyncio.sleep(0.2)
        assert not reload.done(), "the rebuild waits for the evaluation running in the thread"
        release.set()
        await reload
        await engine.deliver()
        assert [(a.rule_id, a.state) for a in sink.applied] == [("hot", AlertState.FIRING)]
        # The rebuilt group took the alert over: evaluated again, it has nothing new to say.
        await engine.evaluate("g", T0 + 1 * S)
        assert [(a.rule_id, a.state) for a in sink.applied] == [("hot", AlertState.FIRING)]
    finally:
        release.set()
        await engine.stop()


async def test_periodic_evaluation_skips_rules_that_would_return_nothing_again() -> None:
    engine, db, sink, _, _ = engine_for(
        [
            alerting("thr", "x > 10", group="skip"),
            alerting("rate", "rate(y[5m]) > 1", group="skip"),
            alerting("fires", "z > 1", group="skip"),
        ]
    )
    await engine.load()
    runner = engine.runners["skip"]
    write(db, "x", T0, 5)
    write(db, "z", T0, 5)
    slot = runner.next_slot
    await runner.step(slot)
    assert runner.skipped == 0, "the first evaluation runs everything"

    # No write since: the threshold rule is skipped; the rate rule depends on time, the last holds an alert.
    await runner.step(slot + 15 * S)
    assert runner.skipped == 1
    evaluated = {r: status.last_evaluation for r in ("thr", "rate", "fires") if (status := engine.status(r))}
    assert evaluated == {"thr": slot, "rate": slot + 15 * S, "fires": slot + 15 * S}

    # A write to x puts the rule back into the next periodic evaluation (which covers the pending extra one).
    write(db, "x", slot + 20 * S, 50)
    runner.written(["x"], slot + 20 * S)
    await runner.step(slot + 30 * S)
    await engine.deliver()
    assert runner.skipped == 1
    assert [a.rule_id for a in sink.applied if a.state is AlertState.FIRING] == ["fires", "thr"]


async def first_slot(*rules: Rule) -> tuple[RuleManager, TSDB, Sink, GroupRunner, int]:
    """The manager of these rules (group "skip") with x written, after the group's first slot."""
    engine, db, sink, _, _ = engine_for(list(rules))
    await engine.load()
    runner = engine.runners["skip"]
    write(db, "x", T0, 5)
    slot = runner.next_slot
    await runner.step(slot)
    return engine, db, sink, runner, slot


async def test_a_write_evaluated_at_once_is_not_evaluated_again_by_the_periodic_evaluation() -> None:
    engine, db, _, runner, slot = await first_slot(
        alerting("thr", "x > 10", group="skip"), alerting("rate", "rate(y[5m]) > 1", group="skip")
    )

    # Samples arrive between two slots: the rules reading them evaluate at once...
    write(db, "x", slot + 2 * S, 6)
    runner.written(["x"], slot + 2 * S)
    await runner.step(slot + 3 * S)
    assert last_evaluation(engine, "thr") == slot + 3 * S
    # ...and the next slot has nothing new for the threshold rule: it is skipped, the rate rule runs.
    await runner.step(slot + 15 * S)
    assert runner.skipped == 1
    assert last_evaluation(engine, "thr") == slot + 3 * S
    assert last_evaluation(engine, "rate") == slot + 15 * S

    # A write during the wait for the slot is not covered: the slot evaluates the rule again.
    write(db, "x", slot + 20 * S, 7)
    runner.written(["x"], slot + 20 * S)
    await runner.step(slot + 30 * S)
    assert runner.skipped == 1
    assert last_evaluation(engine, "thr") == slot + 30 * S


async def test_a_sample_ahead_of_the_evaluations_keeps_its_rule_in_the_periodic_ones() -> None:
    """A sample stamped later than the evaluation it triggers (a writer's clock ahead of ours) is seen
    only by an evaluation at or after its time: the periodic ones do not skip its rule before then."""
    engine, db, sink, runner, slot = await first_slot(alerting("thr", "x > 10", group="skip"))
    write(db, "x", slot + 20 * S, 50)
    runner.written(["x"], slot + 20 * S)
    await runner.step(slot + 3 * S)
    await runner.step(slot + 15 * S)
    await engine.deliver()
    assert (runner.skipped, last_evaluation(engine, "thr"), sink.applied) == (0, slot + 15 * S, [])
    await runner.step(slot + 30 * S)
    await engine.deliver()
    assert runner.skipped == 0
    assert [(a.rule_id, a.state, a.started_at) for a in sink.applied] == [
        ("thr", AlertState.FIRING, slot + 30 * S)
    ]


async def test_a_write_whose_evaluation_failed_is_evaluated_by_the_periodic_evaluation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, db, sink, runner, slot = await first_slot(alerting("thr", "x > 10", group="skip"))
    write(db, "x", slot + 2 * S, 50)
    runner.written(["x"], slot + 2 * S)

    async def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the evaluation failed")

    with monkeypatch.context() as patched:
        patched.setattr(runner, "evaluate", failing)
        with pytest.raises(RuntimeError):
            await runner.step(slot + 3 * S)
    await runner.step(slot + 15 * S)
    await engine.deliver()
    assert runner.skipped == 0
    assert last_evaluation(engine, "thr") == slot + 15 * S
    assert [a.rule_id for a in sink.applied] == ["thr"]


def last_evaluation(engine: RuleManager, rule_id: str) -> int | None:
    status = engine.status(rule_id)
    return None if status is None else status.last_evaluation
