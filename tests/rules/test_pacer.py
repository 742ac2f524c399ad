"""Periodic evaluation gives way to a lagging event loop; triggered evaluation does not wait."""

from __future__ import annotations

import asyncio
import time

from alerting_server.rules.pacer import MAX_PAUSE_S, Pacer
from tests.rules.test_manager import T0, alerting, engine_for, write


def test_steps_aside_only_while_the_loop_lags() -> None:
    pacer = Pacer(allowed_lag_s=0.01)
    assert pacer.step_aside() == 0.0
    pacer.lag_s = 0.02
    began = time.monotonic()
    assert pacer.step_aside() == 0.02
    assert time.monotonic() - began >= 0.02
    pacer.lag_s = 10.0
    assert pacer.step_aside() == MAX_PAUSE_S


async def test_watch_measures_how_late_the_loop_runs() -> None:
    pacer = Pacer()
    task = asyncio.create_task(pacer.watch())
    try:
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # noqa: ASYNC251 - the loop is held up on purpose
        await asyncio.sleep(0.01)
        assert pacer.lag_s > 0.1
        await asyncio.sleep(0.3)
        assert pacer.lag_s < 0.1
    finally:
        task.cancel()


class CountingPacer(Pacer):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def step_aside(self) -> float:
        self.calls += 1
        return 0.0


async def test_only_periodic_evaluations_step_aside() -> None:
    engine, db, sink, _, _ = engine_for([alerting("hot", "temp > 30")])
    pacer = CountingPacer()
    engine._pacer = pacer
    await engine.load()
    runner = engine.runners["g"]
    await runner.step(runner.next_slot)
    assert pacer.calls == 1
    write(db, "temp", T0 + 20_000, 35)
    runner.written(["temp"], T0 + 20_000)
    await runner.step(runner.next_slot - 1)
    await engine.deliver()
    assert pacer.calls == 1, "an evaluation triggered by samples does not wait"
    assert [a.rule_id for a in sink.applied] == ["hot"]
