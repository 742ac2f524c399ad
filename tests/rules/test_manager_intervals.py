"""The engine's default evaluation interval and min_interval (the `rules` configuration keys)."""

from __future__ import annotations

from alerting_server.query.engine import Engine
from alerting_server.query.tsdb import TSDB
from alerting_server.rules.manager import RuleManager
from alerting_server.rules.vector import engine_query_func
from tests.rules.test_manager import T0, Clock, M, Remote, Rules, S, Sink, alerting, write


def engine(default_interval_ms: int, min_interval_ms: int, rules: Rules) -> tuple[RuleManager, TSDB]:
    db = TSDB(retention_ms=1 << 62)
    local = engine_query_func(Engine(db))
    return RuleManager(
        rules,
        local,
        Remote(0),
        db,
        Sink(),
        Clock(T0),
        default_interval_ms=default_interval_ms,
        min_interval_ms=min_interval_ms,
    ), db


async def test_a_group_without_interval_gets_the_default_one() -> None:
    rules = Rules(
        [alerting("a", "x > 1", group="plain"), alerting("b", "x > 1", group="own", interval=5 * M)]
    )
    e, _ = engine(42 * S, 1 * S, rules)
    await e.load()
    assert e.runners["plain"].group.interval_ms == 42 * S
    assert e.runners["own"].group.interval_ms == 5 * M
    # Its periodic evaluations come every 42s.
    runner = e.runners["plain"]
    slot = runner.next_slot
    assert await runner.step(slot) == slot + 42 * S


async def test_writes_evaluate_a_group_at_most_once_per_min_interval() -> None:
    e, db = engine(1 * M, 5 * S, Rules([alerting("a", "x > 1", group="g")]))
    await e.load()
    runner = e.runners["g"]
    now = runner.next_slot - 30 * S
    write(db, "x", now, 5)
    e.written(["x"])
    await runner.step(now)
    assert runner.last_ts == now
    e.written(["x"])
    assert await runner.step(now + 1 * S) == now + 5 * S, "the next one waits for min_interval"
    assert runner.last_ts == now
    await runner.step(now + 5 * S)
    assert runner.last_ts == now + 5 * S
