"""One rule that fails, however it fails, is that rule's health error; its group and the engine go on."""

from __future__ import annotations

import asyncio
import logging

import pytest

from alerting_server.model import AlertState
from alerting_server.model.rule import RuleHealth
from alerting_server.query.engine import Engine
from alerting_server.query.result import Result
from alerting_server.query.tsdb import TSDB
from alerting_server.rules.group import Group
from alerting_server.rules.runner import Evaluated, GroupRunner
from alerting_server.rules.vector import engine_query_func
from tests.rules.test_manager import T0, Clock, alerting, engine_for, write

SELF_CALL = '{{define "a"}}{{template "a"}}{{end}}{{template "a"}}'


class BrokenSource:
    """A remote datasource that fails in a way no one planned for."""

    async def instant(self, name: str, query: str, t_ms: int) -> Result:
        raise RuntimeError("connection state corrupted")


async def test_a_recursive_annotation_does_not_stop_its_group() -> None:
    engine, db, sink, _, _ = engine_for(
        [
            alerting("bad", "temp > 30", annotations={"summary": SELF_CALL}),
            alerting("good", "temp > 20"),
        ]
    )
    await engine.load()
    write(db, "temp", T0, 35)
    await engine.evaluate("g", T0)
    by_rule = {a.rule_id: a for a in sink.applied}
    assert by_rule["good"].state is AlertState.FIRING
    # As in Prometheus, the alert fires and its annotation says what went wrong.
    assert "exceeded maximum template depth" in by_rule["bad"].annotations["summary"]


async def test_an_unexpected_error_is_the_rule_health_and_the_next_rules_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, db, sink, _, _ = engine_for(
        [
            alerting("remote", "up == 0", datasource="broken"),
            alerting("local", "temp > 20"),
        ],
        remote=BrokenSource(),  # type: ignore[arg-type]
    )
    await engine.load()
    write(db, "temp", T0, 35)
    with caplog.at_level(logging.ERROR, logger="alerting_server.rules.group"):
        await engine.evaluate("g", T0)
    remote, local = engine.status("remote"), engine.status("local")
    assert remote is not None
    assert local is not None
    assert remote.health is RuleHealth.ERR
    assert remote.last_error == "evaluation failed: RuntimeError: connection state corrupted"
    assert local.health is RuleHealth.OK
    assert [a.rule_id for a in sink.applied] == ["local"]
    assert "rule 'REMOTE' of group 'g' failed" in caplog.text
    # The next evaluation runs again rather than finding the group gone.
    await engine.evaluate("g", T0 + 15_000)
    assert engine.status("local") is not None


async def test_a_group_task_that_died_is_restarted(caplog: pytest.LogCaptureFixture) -> None:
    db = TSDB(retention_ms=1 << 62)
    write(db, "temp", T0, 35)
    rules = [alerting("hot", "temp > 30")]
    evaluated: list[int] = []
    again = asyncio.Event()

    def on_evaluated(runner: GroupRunner, out: Evaluated) -> None:
        evaluated.append(out.ts)
        if len(evaluated) == 1:
            raise RuntimeError("the alert stage went away")
        again.set()

    runner = GroupRunner(
        Group("g", rules),
        rules,
        local_query=engine_query_func(Engine(db)),
        sources=BrokenSource(),
        storage=db,
        clock=Clock(T0),
        min_interval_ms=0,
        on_evaluated=on_evaluated,
    )
    runner.request_full()
    with caplog.at_level(logging.ERROR, logger="alerting_server.rules.runner"):
        runner.start()
        try:
            await asyncio.sleep(0.1)
            assert len(evaluated) == 1
            runner.request_full()
            await asyncio.wait_for(again.wait(), 10)
        finally:
            await runner.stop()
    assert "rule group 'g' stopped on an error; restarting in 1 s" in caplog.text
    assert "the alert stage went away" in caplog.text
