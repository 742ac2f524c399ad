"""Periodic evaluation gives way to a lagging event loop; triggered evaluation does not wait."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from alerting_server.rules.pacer import FRESH_S, MAX_PAUSE_S, PROBE_S, Pacer
from tests.rules.test_manager import T0, alerting, engine_for, write


class FixedLag(Pacer):
    def __init__(self, lag_s: float) -> None:
        super().__init__(allowed_lag_s=0.01)
        self.fixed = lag_s

    def lag_s(self) -> float:
        return self.fixed


def test_steps_aside_only_while_the_loop_lags() -> None:
    pacer = FixedLag(0.0)
    assert pacer.step_aside() == 0.0
    pacer.fixed = 0.02
    began = time.monotonic()
    assert pacer.step_aside() == 0.02
    assert time.monotonic() - began >= 0.02
    pacer.fixed = 10.0
    assert pacer.step_aside() == MAX_PAUSE_S


async def test_probes_measure_how_late_the_loop_runs_and_go_out_only_when_asked() -> None:
    loop = asyncio.get_running_loop()
    pacer = Pacer()
    pacer.attach(loop)
    sent: list[float] = []
    real = loop.call_soon_threadsafe

    def counted(callback: Any, *args: Any) -> Any:
        sent.append(time.monotonic())
        return real(callback, *args)

    loop.call_soon_threadsafe = counted  # type: ignore[method-assign,assignment]
    try:
        assert pacer.lag_s() == 0.0  # nothing measured yet; a probe goes out
        assert len(sent) == 1
        time.sleep(0.3)  # noqa: ASYNC251 - the loop is held up on purpose
        # The probe has waited 0.3 s: the loop is at least that far behind, measured or not.
        assert pacer.lag_s() >= 0.3
        assert len(sent) == 1, "one probe in flight at a time"
        await asyncio.sleep(0.01)
        assert pacer.lag_s() >= 0.3, "the last probe's lag holds until the next comes back"
        await asyncio.sleep(PROBE_S)
        pacer.lag_s()  # a new probe, the last now PROBE_S old
        assert len(sent) == 2
        await asyncio.sleep(0.01)
        assert pacer.lag_s() < 0.1
        # Nobody asks: no probe goes out, however long.
        count = len(sent)
        await asyncio.sleep(0.2)
        assert len(sent) == count
    finally:
        del loop.call_soon_threadsafe
        pacer.detach()


async def test_a_measurement_that_is_no_longer_fresh_is_not_waited_on() -> None:
    pacer = Pacer()
    pacer.attach(asyncio.get_running_loop())
    pacer.lag_s()
    time.sleep(0.05)  # noqa: ASYNC251 - the loop is held up on purpose
    await asyncio.sleep(0.01)
    assert pacer.lag_s() >= 0.05
    pacer.detach()  # no probe goes out while detached: the measurement ages
    time.sleep(FRESH_S)  # noqa: ASYNC251 - waiting out the freshness on purpose
    assert pacer.lag_s() == 0.0


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
