"""The alert state machine, with explicit timestamps (ms), as Prometheus' alerting_test.go tables it."""

from __future__ import annotations

import pytest

from alerting_server.model import Rule
from alerting_server.model.alert import AlertState
from alerting_server.query.errors import QueryError
from alerting_server.query.labels import Labels
from alerting_server.rules.alerting import (
    RESOLVED_RETENTION_MS,
    AlertingRule,
    ChangeKind,
)
from alerting_server.rules.vector import QueryFunc, VectorSample

M = 60_000
UP: Labels = (("__name__", "up"), ("instance", "a"))


def series(values: dict[int, float], labels: Labels = UP) -> QueryFunc:
    """A query answering `labels` with values[ts] at the timestamps listed, nothing elsewhere."""

    def query(expr: str, ts: int) -> list[VectorSample]:
        return [VectorSample(labels, values[ts])] if ts in values else []

    return query


def rule(**kw: object) -> AlertingRule:
    fields: dict[str, object] = {"name": "Down", "query": "up == 0", "duration": 5 * M}
    fields.update(kw)
    return AlertingRule(Rule(**fields))  # type: ignore[arg-type]


def states(r: AlertingRule) -> list[AlertState]:
    return [a.state for a in r.alerts()]


def test_pending_then_firing_at_exactly_for() -> None:
    r = rule()
    q = series({t * M: 0.0 for t in range(10)})
    table = [
        (0, [AlertState.PENDING]),
        (4 * M, [AlertState.PENDING]),
        (5 * M - 1, [AlertState.PENDING]),
        (5 * M, [AlertState.FIRING]),
        (6 * M, [AlertState.FIRING]),
    ]
    for ts, want in table:
        if ts % M:
            q2 = series({ts: 0.0})
            r.eval(ts, q2)
        else:
            r.eval(ts, q)
        assert states(r) == want, ts
    alert = r.alerts()[0]
    assert alert.started_at == 0
    assert alert.fired_at == 5 * M
    assert alert.labels == {"instance": "a", "alertname": "Down"}


def test_for_zero_fires_on_first_evaluation() -> None:
    r = rule(duration=0)
    result = r.eval(M, series({M: 0.0}))
    assert states(r) == [AlertState.FIRING]
    assert [c.kind for c in result.changes] == [ChangeKind.CREATED]
    assert result.changes[0].alert.state is AlertState.FIRING


def test_pending_alert_that_vanishes_is_dropped() -> None:
    r = rule()
    r.eval(0, series({0: 0.0}))
    result = r.eval(M, series({}))
    assert r.alerts() == []
    assert [(c.kind, c.previous) for c in result.changes] == [(ChangeKind.RESOLVED, AlertState.PENDING)]


def test_resolved_alert_kept_for_retention_then_dropped() -> None:
    r = rule(duration=0)
    r.eval(0, series({0: 0.0}))
    result = r.eval(M, series({}))
    assert states(r) == [AlertState.RESOLVED]
    assert result.changes[0].kind is ChangeKind.RESOLVED
    assert r.alerts()[0].resolved_at == M
    assert r.active_alerts() == []
    r.eval(M + RESOLVED_RETENTION_MS, series({}))
    assert states(r) == [AlertState.RESOLVED]  # retention is "more than 15m"
    assert r.eval(M + RESOLVED_RETENTION_MS + 1, series({})).changes == []
    assert r.alerts() == []


def test_resolved_alert_that_returns_starts_over_as_pending() -> None:
    r = rule()
    q = series({t * M: 0.0 for t in range(6)} | {8 * M: 0.0})
    for t in range(7):
        r.eval(t * M, q)
    assert states(r) == [AlertState.RESOLVED]
    result = r.eval(8 * M, q)
    assert states(r) == [AlertState.PENDING]
    assert result.changes[0].kind is ChangeKind.CREATED
    assert r.alerts()[0].started_at == 8 * M


@pytest.mark.parametrize(
    ("gone_at", "want"),
    [
        (1 * M, AlertState.FIRING),
        (10 * M - 1, AlertState.FIRING),
        (10 * M, AlertState.FIRING),
        (11 * M, AlertState.RESOLVED),
    ],
)
def test_keep_firing_for(gone_at: int, want: AlertState) -> None:
    """keep_firing_for 10m counted from the first evaluation without the series (at 1m)."""
    r = rule(duration=0, keep_firing_for=10 * M)
    r.eval(0, series({0: 0.0}))
    r.eval(M, series({}))
    r.eval(gone_at, series({}))
    assert states(r) == [want]


def test_keep_firing_for_resets_when_series_returns() -> None:
    r = rule(duration=0, keep_firing_for=2 * M)
    r.eval(0, series({0: 0.0}))
    r.eval(M, series({}))
    r.eval(2 * M, series({2 * M: 0.0}))
    r.eval(3 * M, series({}))
    r.eval(4 * M, series({}))
    assert states(r) == [AlertState.FIRING]
    r.eval(5 * M, series({}))
    assert states(r) == [AlertState.RESOLVED]
    assert r.alerts()[0].resolved_at == 5 * M


def test_value_and_annotation_updates() -> None:
    r = rule(duration=0, annotations={"summary": "{{ $labels.instance }} at {{ $value }}"})
    r.eval(0, series({0: 1.0}))
    assert r.alerts()[0].annotations == {"summary": "a at 1"}
    same = r.eval(M, series({M: 1.0}))
    assert same.changes == []
    changed = r.eval(2 * M, series({2 * M: 2.5}))
    assert [c.kind for c in changed.changes] == [ChangeKind.VALUE_CHANGED]
    alert = r.alerts()[0]
    assert (alert.value, alert.annotations, alert.started_at) == (2.5, {"summary": "a at 2.5"}, 0)


def test_labels_templated_with_severity_and_external_labels() -> None:
    r = AlertingRule(
        Rule(
            name="High",
            query="x",
            severity="page",
            labels={"team": "{{ $externalLabels.dc }}-ops", "instance": "", "v": "{{ $value }}"},
        ),
        external_labels={"dc": "eu1"},
    )
    r.eval(0, series({0: 3.0}))
    assert r.alerts()[0].labels == {"alertname": "High", "severity": "page", "team": "eu1-ops", "v": "3"}


def test_same_labelset_after_alert_labels_is_an_error_and_changes_nothing() -> None:
    r = rule(labels={"instance": "fixed"})

    def query(expr: str, ts: int) -> list[VectorSample]:
        return [VectorSample((("instance", "a"),), 1.0), VectorSample((("instance", "b"),), 1.0)]

    with pytest.raises(QueryError, match="same labelset after applying alert labels"):
        r.eval(0, query)
    assert r.alerts() == []


def test_alerts_series_written_for_pending_and_firing() -> None:
    r = rule(duration=M)
    first = r.eval(30_000, series({30_000: 0.0}))
    assert [(dict(s.labels), s.value) for s in first.samples] == [
        ({"__name__": "ALERTS", "alertname": "Down", "alertstate": "pending", "instance": "a"}, 1.0),
        ({"__name__": "ALERTS_FOR_STATE", "alertname": "Down", "instance": "a"}, 30.0),
    ]
    second = r.eval(90_000, series({90_000: 0.0}))
    assert dict(second.samples[0].labels)["alertstate"] == "firing"
    assert r.eval(150_000, series({})).samples == []


def test_restore_keeps_pending_active_at() -> None:
    r = rule()
    r.eval(0, series({0: 0.0}))
    r.eval(2 * M, series({2 * M: 0.0}))
    saved = r.export_state()

    restarted = rule()
    restarted.restore_state(saved)
    assert restarted.alerts()[0].started_at == 0
    restarted.eval(4 * M, series({4 * M: 0.0}))
    assert states(restarted) == [AlertState.PENDING]
    restarted.eval(5 * M, series({5 * M: 0.0}))
    assert states(restarted) == [AlertState.FIRING]
    assert restarted.alerts()[0].fingerprint == r.alerts()[0].fingerprint


def test_restore_keeps_firing_without_a_new_creation() -> None:
    r = rule(duration=0)
    r.eval(0, series({0: 0.0}))
    restarted = rule(duration=0)
    restarted.restore_state(r.export_state())
    result = restarted.eval(M, series({M: 0.0}))
    assert result.changes == []
    assert restarted.alerts()[0].fired_at == 0
