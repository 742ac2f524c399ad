"""Several replicas: a rule manager runs only the groups of the partitions it holds, and a group it takes
over starts from the alerts the previous holder left, its `for` clocks included."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from alerting_server.model import Alert, AlertState
from alerting_server.query.engine import Engine
from alerting_server.query.tsdb import TSDB
from alerting_server.rules.manager import RuleManager
from alerting_server.rules.vector import engine_query_func
from tests.rules.test_manager import T0, Clock, M, Remote, Rules, Sink, alerting, write


def partitioned(rules: Rules, sink: Sink, db: TSDB, clock: Clock) -> RuleManager:
    # Partition 0 holds group "a", partition 1 group "b".
    return RuleManager(
        rules,
        engine_query_func(Engine(db)),
        Remote(0),
        db,
        sink,
        clock,
        partition_of=lambda group: 0 if group == "a" else 1,
    )


async def test_only_the_groups_of_held_partitions_run_and_a_takeover_keeps_the_for_clock() -> None:
    db = TSDB(retention_ms=1 << 62)
    rules = Rules([alerting("x", "m > 1", group="a", duration=5 * M), alerting("y", "m > 1", group="b")])
    clock = Clock(T0)
    first_sink = Sink()
    first = partitioned(rules, first_sink, db, clock)
    await first.start()
    try:
        # Nothing is held yet: no group runs.
        assert not any(r.running for r in first.runners.values())
        await first.own({0})
        assert first.runners["a"].running
        assert not first.runners["b"].running
        write(db, "m", T0, 5)
        await first.evaluate("a", T0)
        [pending] = first_sink.applied
        assert (pending.rule_id, pending.state, pending.started_at) == ("x", AlertState.PENDING, T0)
        await first.own(set())
        assert not first.runners["a"].running
    finally:
        await first.stop()

    # Another replica takes partition 0 over, with the alerts the pipeline kept.
    second_sink = Sink([pending])
    second = partitioned(rules, second_sink, db, clock)
    await second.start()
    try:
        await second.own({0})
        write(db, "m", T0 + 5 * M, 5)
        await second.evaluate("a", T0 + 5 * M)
        last: Alert = second_sink.applied[-1]
        # The `for` clock ran from T0 on the first replica: firing now, not pending for 5 more minutes.
        assert (last.rule_id, last.state, last.started_at) == ("x", AlertState.FIRING, T0)
    finally:
        await second.stop()


class FailingOnce(Sink):
    """A pipeline whose store is away for one hand-over."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def apply_rule_alerts(self, changes: Sequence[tuple[str, Alert]]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database away")
        await super().apply_rule_alerts(changes)


async def test_a_change_that_could_not_be_handed_over_is_handed_over_later() -> None:
    db = TSDB(retention_ms=1 << 62)
    sink = FailingOnce()
    manager = RuleManager(
        Rules([alerting("x", "m > 1", group="a")]),
        engine_query_func(Engine(db)),
        Remote(0),
        db,
        sink,
        Clock(T0),
    )
    await manager.load()
    write(db, "m", T0, 5)
    with pytest.raises(ConnectionError):
        await manager.evaluate("a", T0)
    assert sink.applied == []
    # The next hand-over (an evaluation that changes nothing, or the flush loop) carries it.
    await manager.deliver()
    [fired] = sink.applied
    assert (fired.rule_id, fired.state) == ("x", AlertState.FIRING)


async def test_alerts_of_a_rule_this_replica_has_not_heard_of_yet_are_not_resolved_as_orphans() -> None:
    """The replica taking the partition of orphaned alerts resolves the alerts of deleted rules, not
    those of a rule created on another replica that its groups do not have yet."""
    db = TSDB(retention_ms=1 << 62)
    rules = Rules([])
    new = alerting("new", "m > 1", group="b")
    made_elsewhere = Alert(
        fingerprint="f1", labels={"alertname": "NEW"}, state=AlertState.FIRING, rule_id="new", started_at=T0
    )
    deleted = Alert(
        fingerprint="f2", labels={"alertname": "GONE"}, state=AlertState.FIRING, rule_id="gone", started_at=T0
    )
    sink = Sink([made_elsewhere, deleted])
    manager = partitioned(rules, sink, db, Clock(T0))
    await manager.start()
    try:
        rules.rules = [new]
        # Partition 1 holds the orphans (group "").
        await manager.own({1})
        assert [(a.rule_id, a.state) for a in sink.applied] == [("gone", AlertState.RESOLVED)]
    finally:
        await manager.stop()
