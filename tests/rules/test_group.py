"""Recording rules and group evaluation against the real store and engine, at explicit timestamps."""

from __future__ import annotations

import pytest

from alerting_server.model import Rule, RuleType
from alerting_server.model.alert import AlertState
from alerting_server.model.rule import RuleHealth
from alerting_server.query.engine import Engine
from alerting_server.query.errors import QueryError
from alerting_server.query.labels import Labels
from alerting_server.query.result import Result
from alerting_server.query.storage import is_stale
from alerting_server.query.tsdb import TSDB, Sample
from alerting_server.rules.alerting import ChangeKind
from alerting_server.rules.group import Group
from alerting_server.rules.recording import RecordingRule
from alerting_server.rules.vector import VectorSample, engine_query_func

M = 60_000


def labels(**kv: str) -> Labels:
    return tuple(sorted(kv.items()))


def store(*samples: tuple[Labels, int, float]) -> TSDB:
    db = TSDB(retention_ms=1 << 62)
    db.append([Sample(lb, t, v) for lb, t, v in samples])
    return db


def record(name: str, query: str, **rule_labels: str) -> Rule:
    return Rule(name=name, query=query, type=RuleType.RECORDING, labels=rule_labels)


def test_recording_rule_renames_and_relabels() -> None:
    def query(expr: str, ts: int) -> list[VectorSample]:
        return [VectorSample(labels(__name__="x", job="a", env="prod"), 2.0)]

    out = RecordingRule(record("job:x", "x", env="", team="t")).eval(5, query)
    assert out == [Sample(labels(__name__="job:x", job="a", team="t"), 5, 2.0)]


def test_recording_rule_same_labelset_is_an_error() -> None:
    def query(expr: str, ts: int) -> list[VectorSample]:
        return [VectorSample(labels(job="a"), 1.0), VectorSample(labels(job="b"), 1.0)]

    with pytest.raises(QueryError, match="same labelset after applying rule labels"):
        RecordingRule(record("r", "x", job="same")).eval(0, query)


def test_later_rules_see_earlier_recordings_at_the_same_timestamp() -> None:
    db = store((labels(__name__="x", job="a"), 0, 3.0))
    group = Group(
        "g",
        [
            record("job:x:doubled", "x * 2"),
            Rule(name="Big", query="job:x:doubled > 5", duration=0, severity="page"),
        ],
    )
    result = group.eval(0, engine_query_func(Engine(db)), db)
    assert [c.kind for c in result.changes] == [ChangeKind.CREATED]
    alert = group.alerts()[0]
    assert alert.state is AlertState.FIRING
    assert alert.labels == {"alertname": "Big", "job": "a", "severity": "page"}
    assert alert.value == 6.0
    assert [s.health for s in group.status] == [RuleHealth.OK, RuleHealth.OK]
    assert Engine(db).instant('ALERTS{alertstate="firing"}', 0).series[0].labels_dict["alertname"] == "Big"


def test_vanished_series_get_a_stale_marker() -> None:
    db = store((labels(__name__="x", job="a"), 0, 1.0), (labels(__name__="x", job="b"), 0, 1.0))
    db.append([Sample(labels(__name__="x", job="a"), M, 1.0)])
    group = Group("g", [record("r", "x")])
    query = engine_query_func(Engine(db, lookback_ms=30_000))
    group.eval(0, query, db)
    group.eval(M, query, db)
    gone = db.select([], 0, M)
    by_job = {dict(s.labels)["job"]: s for s in gone if dict(s.labels)["__name__"] == "r"}
    assert by_job["a"].values.tolist() == [1.0, 1.0]
    assert by_job["b"].timestamps.tolist() == [0, M]
    assert is_stale(float(by_job["b"].values[1]))
    assert Engine(db).instant("r", M + 1).series[0].labels_dict["job"] == "a"


def test_pending_to_firing_marks_the_pending_alerts_series_stale() -> None:
    db = store(*[(labels(__name__="up", job="a"), t * M, 0.0) for t in range(3)])
    group = Group("g", [Rule(name="Down", query="up == 0", duration=M)])
    query = engine_query_func(Engine(db))
    group.eval(0, query, db)
    group.eval(M, query, db)
    pending = db.select([], 0, M)
    series = {dict(s.labels).get("alertstate"): s for s in pending if dict(s.labels)["__name__"] == "ALERTS"}
    assert is_stale(float(series["pending"].values[-1]))
    assert series["firing"].values.tolist() == [1.0]


def test_failing_rule_reports_health_and_does_not_stop_the_group() -> None:
    db = store(
        (labels(__name__="l", a="1", b="1"), 0, 1.0),
        (labels(__name__="r", a="1", b="2"), 0, 1.0),
        (labels(__name__="r", a="1", b="3"), 0, 1.0),
    )
    group = Group("g", [record("bad", "l + on(a) r"), record("good", "l")])
    group.eval(0, engine_query_func(Engine(db)), db)
    bad, good = group.status
    assert bad.health is RuleHealth.ERR
    assert "many-to-many" in bad.last_error
    assert bad.last_evaluation == 0
    assert good.health is RuleHealth.OK
    assert good.last_evaluation_duration_s is not None
    assert Engine(db).instant("good", 0).series[0].values.tolist() == [1.0]


def test_scalar_result_records_one_series_and_strings_are_refused() -> None:
    db = TSDB()
    group = Group("g", [record("one", "1"), record("s", '"text"')])
    group.eval(0, engine_query_func(Engine(db)), db)
    assert Engine(db).instant("one", 0).series[0].labels_dict == {"__name__": "one"}
    assert group.status[1].last_error == "rule result is not a vector or scalar"


def test_eval_timestamp_is_aligned_to_the_interval_with_a_stable_offset() -> None:
    group = Group("g", [], 15_000, file="rules.yml")
    first = group.eval_timestamp(1_000_000)
    assert first <= 1_000_000 < first + 15_000
    assert group.eval_timestamp(first + 15_000) == first + 15_000
    assert group.eval_timestamp(first + 14_999) == first


class CountingEngine(Engine):
    def __init__(self, db: TSDB) -> None:
        super().__init__(db)
        self.alone: list[str] = []

    def instant(self, query: str, t_ms: int) -> Result:
        self.alone.append(query)
        return super().instant(query, t_ms)


def test_rules_of_one_kind_are_evaluated_together_and_alert_as_alone() -> None:
    db = store(*[(labels(__name__="cpu", host=f"h{i}"), 0, float(i * 10)) for i in range(5)])
    rules = [Rule(name=f"Hot{i}", query=f'cpu{{host="h{i}"}} > 25', id=f"r{i}") for i in range(5)]
    engine = CountingEngine(db)
    group = Group("g", [*rules, Rule(name="Sum", query="sum(cpu) > 1", id="s")])
    group.eval(0, engine_query_func(engine), db)
    # The five thresholds are evaluated together (instant_many); only the aggregation alone.
    assert engine.alone == ["sum(cpu) > 1"]
    firing = sorted(a.labels["alertname"] for a in group.alerts() if a.state is AlertState.FIRING)
    assert firing == ["Hot3", "Hot4", "Sum"]
    assert all(s.health is RuleHealth.OK for s in group.status)


def test_rules_reading_what_the_group_writes_are_evaluated_in_order() -> None:
    db = store((labels(__name__="x", job="a"), 0, 3.0), (labels(__name__="x", job="b"), 0, 4.0))
    engine = CountingEngine(db)
    group = Group(
        "g",
        [
            record("job:x:doubled", "x * 2"),
            Rule(name="BigA", query='job:x:doubled{job="a"} > 5'),
            Rule(name="BigB", query='job:x:doubled{job="b"} > 5'),
            Rule(name="AlertsA", query='ALERTS{alertname="BigA"} > 0'),
            Rule(name="AlertsB", query='ALERTS{alertname="BigB"} > 0'),
        ],
    )
    group.eval(0, engine_query_func(engine), db)
    assert sorted(a.labels["alertname"] for a in group.alerts()) == ["AlertsA", "AlertsB", "BigA", "BigB"]
    assert len(engine.alone) == 5
