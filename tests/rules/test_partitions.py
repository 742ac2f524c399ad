"""Several replicas: a rule manager runs only the groups of the partitions it holds, and a group it takes
over starts from the alerts the previous holder left, its `for` clocks included."""

from __future__ import annotations

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
