"""keep_firing_for across a restart: the period is counted from the persisted keep_firing_since."""

from __future__ import annotations

from dataclasses import replace

from alerting_server.model import Alert, AlertState, Rule
from alerting_server.rules.alerting import AlertingRule, ChangeKind
from alerting_server.rules.manager import instance_state
from tests.rules.test_alerting import series
from tests.rules.test_manager import T0, S, Sink, alerting, engine_for, write

M = 60 * S
KEEP = 10 * M


def rule() -> AlertingRule:
    return AlertingRule(Rule(name="Down", query="up == 0", id="down", duration=0, keep_firing_for=KEEP))


def resolution(r: AlertingRule, start: int) -> int:
    """Evaluates `r` once a minute from `start` with the series gone; the time its alert resolves."""
    for ts in range(start, start + 2 * KEEP, M):
        r.eval(ts, series({}))
        (alert,) = r.alerts()
        if alert.state is AlertState.RESOLVED:
            assert alert.resolved_at == ts
            return ts
    raise AssertionError("never resolved")


def test_entering_the_keep_firing_period_is_a_change_that_carries_keep_firing_since() -> None:
    r = rule()
    (fired,) = r.eval(0, series({0: 0.0})).changes
    assert fired.alert.keep_firing_since is None
    (kept,) = r.eval(M, series({})).changes
    assert (kept.kind, kept.previous) == (ChangeKind.KEEP_FIRING, AlertState.FIRING)
    alert = kept.alert
    assert (alert.state, alert.keep_firing_since, alert.resolved_at) == (AlertState.FIRING, M, None)
    # Nothing a receiver sees changed: same value, same updated_at.
    assert (alert.value, alert.updated_at) == (fired.alert.value, fired.alert.updated_at)
    assert r.eval(2 * M, series({})).changes == [], "still within the period: nothing new"
    # The series is back: the period is over, and that too is persisted.
    (back,) = r.eval(3 * M, series({3 * M: 0.0})).changes
    assert (back.kind, back.alert.keep_firing_since) == (ChangeKind.KEEP_FIRING, None)


def test_restored_keep_firing_since_resolves_when_an_uninterrupted_rule_does() -> None:
    uninterrupted, before_restart = rule(), rule()
    persisted: dict[str, Alert] = {}
    for r in (uninterrupted, before_restart):
        for ts, q in ((0, series({0: 0.0})), (M, series({}))):
            for change in r.eval(ts, q).changes:
                if r is before_restart:
                    persisted[change.alert.fingerprint] = change.alert
    assert [a.keep_firing_since for a in persisted.values()] == [M]

    # A new process: the rule comes back from the alerts the stage persisted.
    restarted = rule()
    restarted.restore_state([instance_state(a) for a in persisted.values()])
    assert restarted.export_state() == before_restart.export_state()
    assert resolution(restarted, 3 * M) == resolution(uninterrupted, 3 * M) == M + KEEP

    # Without keep_firing_since the period would start over at the first evaluation after the restart.
    forgetful = rule()
    forgetful.restore_state([instance_state(replace(a, keep_firing_since=None)) for a in persisted.values()])
    assert resolution(forgetful, 3 * M) == 3 * M + KEEP


async def test_engine_restart_resolves_at_keep_firing_since_plus_keep_firing_for() -> None:
    r = alerting("down", "m > 1", duration=0, keep_firing_for=KEEP)
    engine, db, sink, _, _ = engine_for([r])
    await engine.load()
    write(db, "m", T0, 5)
    await engine.evaluate("g", T0)
    write(db, "m", T0 + M, 0)
    await engine.evaluate("g", T0 + M)
    (held,) = sink.alerts()
    assert (held.state, held.keep_firing_since) == (AlertState.FIRING, T0 + M)

    restarted, _, sink2, _, _ = engine_for([r], db=db, sink=Sink(sink.alerts()))
    await restarted.load()
    for ts in range(T0 + 2 * M, T0 + M + KEEP, M):
        await restarted.evaluate("g", ts)
    assert sink2.applied == [], "the period runs on: nothing changed"
    await restarted.evaluate("g", T0 + M + KEEP)
    (resolved,) = sink2.applied
    assert (resolved.state, resolved.resolved_at) == (AlertState.RESOLVED, T0 + M + KEEP)
