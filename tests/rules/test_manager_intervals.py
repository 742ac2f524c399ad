"""The engine's default evaluation interval and min_interval (the `rules` configuration keys)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

from alerting_server.query.engine import Engine
from alerting_server.query.labels import Labels
from alerting_server.query.result import Result
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


async def test_a_write_to_an_idle_group_evaluates_it_at_once_within_min_interval() -> None:
    e, db = engine(1 * M, 60 * S, Rules([alerting("a", "x > 1", group="g")]))
    await e.load()
    runner = e.runners["g"]
    now = runner.next_slot - 50 * S
    write(db, "x", now, 5)
    e.written(["x"], now)
    await runner.step(now)
    assert runner.last_ts == now
    # Nothing ran meanwhile and the evaluation took no time: the next write does not wait 60s.
    write(db, "x", now + 1 * S, 6)
    e.written(["x"], now + 1 * S)
    assert await runner.step(now + 1 * S) == runner.next_slot
    assert runner.last_ts == now + 1 * S


class GatedEngine(Engine):
    """The embedded engine, whose queries wait at a gate the test opens: an evaluation in progress."""

    def __init__(self, db: TSDB) -> None:
        super().__init__(db)
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.timestamps: list[int] = []

    def _pass(self, t_ms: int) -> None:
        if t_ms not in self.timestamps:
            self.timestamps.append(t_ms)
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"

    def instant(self, expr: str, t_ms: int) -> Result:
        self._pass(t_ms)
        return super().instant(expr, t_ms)

    def instant_many(self, exprs: Iterable[str], t_ms: int) -> dict[str, list[tuple[Labels, float]]]:
        self._pass(t_ms)
        return super().instant_many(exprs, t_ms)


async def test_a_burst_of_writes_during_an_evaluation_makes_one_follow_up_at_min_interval() -> None:
    db = TSDB(retention_ms=1 << 62)
    gated = GatedEngine(db)
    e = RuleManager(
        Rules([alerting("a", "x > 1", group="g")]),
        engine_query_func(gated),
        Remote(0),
        db,
        Sink(),
        Clock(T0),
        default_interval_ms=1 * M,
        min_interval_ms=5 * S,
    )
    await e.load()
    runner = e.runners["g"]
    now = runner.next_slot - 30 * S
    write(db, "x", now, 5)
    gated.gate.clear()
    e.written(["x"], now)
    evaluating = asyncio.create_task(runner.step(now))
    assert await asyncio.to_thread(gated.entered.wait, 30), "the evaluation did not start"
    for i in range(100):
        write(db, "x", now + i + 1, 5 + i)
        e.written(["x"], now + i + 1)
    gated.gate.set()
    # The writes came while the group was evaluated: one follow-up, at the min_interval pace.
    assert await evaluating == now + 5 * S
    assert gated.timestamps == [now]
    assert await runner.step(now + 1 * S) == now + 5 * S
    assert gated.timestamps == [now]
    assert await runner.step(now + 5 * S) == runner.next_slot, "nothing more is due"
    assert await runner.step(now + 6 * S) == runner.next_slot
    assert gated.timestamps == [now, now + 5 * S]
    await e.stop()


async def test_extra_evaluations_that_take_long_spend_the_budget_and_the_next_write_waits() -> None:
    db = TSDB(retention_ms=1 << 62)
    gated = GatedEngine(db)
    clock = Clock(T0)
    e = RuleManager(
        Rules([alerting("a", "x > 1", group="g")]),
        engine_query_func(gated),
        Remote(0),
        db,
        Sink(),
        clock,
        default_interval_ms=1 * M,
        min_interval_ms=5 * S,
    )
    await e.load()
    runner = e.runners["g"]
    now = clock.now = runner.next_slot - 30 * S
    write(db, "x", now, 5)
    gated.gate.clear()
    e.written(["x"], now)
    evaluating = asyncio.create_task(runner.step(now))
    assert await asyncio.to_thread(gated.entered.wait, 30), "the evaluation did not start"
    # It takes 800ms (a busy engine), more than the 500ms a tenth of min_interval saves up.
    clock.now = now + 800
    gated.gate.set()
    await evaluating
    # The 300ms overdrawn come back at a tenth of the time: 3s after it ended.
    write(db, "x", now + 900, 6)
    e.written(["x"], now + 900)
    assert await runner.step(now + 900) == now + 800 + 3 * S
    assert gated.timestamps == [now]
    await runner.step(now + 800 + 3 * S)
    assert gated.timestamps == [now, now + 800 + 3 * S]
    await e.stop()
