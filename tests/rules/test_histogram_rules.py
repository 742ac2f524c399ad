"""Rules over native histograms, as Prometheus 3 evaluates them: recordings keep histograms, an alert
on a histogram sample has the value 0 and $value is the histogram."""

from __future__ import annotations

from alerting_server.model import Rule, RuleType
from alerting_server.model.alert import AlertState
from alerting_server.query.engine import Engine
from alerting_server.query.histogram import FloatHistogram
from alerting_server.query.labels import Labels, Matcher, MatchType
from alerting_server.query.tsdb import TSDB, histogram_sample
from alerting_server.rules.group import Group
from alerting_server.rules.vector import engine_query_func

S = 15_000


def labels(**kv: str) -> Labels:
    return tuple(sorted(kv.items()))


def latency(n: int) -> FloatHistogram:
    # Every 15s, 4 observations: 1 in (0.5, 1] and 3 in (1, 2].
    return FloatHistogram(schema=0, count=4.0 * n, sum=6.0 * n, positive={0: 1.0 * n, 1: 3.0 * n})


def store() -> TSDB:
    db = TSDB(retention_ms=1 << 62)
    for job in ("a", "b"):
        db.append(
            [histogram_sample(labels(__name__="rpc_seconds", job=job), t * S, latency(t)) for t in range(41)]
        )
    return db


def test_a_recording_rule_of_histograms_records_histograms_that_can_be_queried() -> None:
    db = store()
    group = Group("g", [Rule(name="rpc:rate5m", query="sum(rate(rpc_seconds[5m]))", type=RuleType.RECORDING)])
    group.eval(600_000, engine_query_func(Engine(db)), db)
    (series,) = db.select([Matcher.of(MatchType.EQUAL, "__name__", "rpc:rate5m")], 600_000, 600_000)
    assert series.labels == labels(__name__="rpc:rate5m")
    assert series.histograms is not None
    recorded = series.histograms[0]
    assert recorded is not None
    assert abs(recorded.count - 2 * 4 / 15) < 1e-12
    quantile = Engine(db).instant("histogram_quantile(0.5, rpc:rate5m)", 600_000)
    assert 1.0 < float(quantile.series[0].values[0]) <= 2.0


def test_an_alert_on_a_histogram_sample_has_value_0_and_the_histogram_as_value_in_templates() -> None:
    db = store()
    rule = Rule(
        name="Latency",
        query='rpc_seconds{job="a"}',
        duration=0,
        severity="page",
        annotations={
            "shown": "{{ $value }}",
            "count": "{{ $value.Count }} in {{ $value.Schema }}",
            "humanized": "{{ humanize $value }}",
        },
    )
    group = Group("g", [rule])
    group.eval(3 * S, engine_query_func(Engine(db)), db)
    (alert,) = group.alerts()
    assert alert.state is AlertState.FIRING
    assert alert.value == 0.0
    assert alert.annotations["shown"] == "{count:12, sum:18, (0.5,1]:3, (1,2]:9}"
    assert alert.annotations["count"] == "12 in 0"
    assert alert.annotations["humanized"].startswith("<error expanding template:")
    assert "can't convert *histogram.FloatHistogram to float" in alert.annotations["humanized"]


def test_histogram_quantile_over_a_rate_alerts_on_the_quantile() -> None:
    db = store()
    rule = Rule(name="Slow", query="histogram_quantile(0.99, sum(rate(rpc_seconds[5m]))) > 0.5", duration=0)
    other = Rule(name="Also", query="histogram_quantile(0.99, sum(rate(rpc_seconds[5m]))) > 0.6", duration=0)
    group = Group("g", [rule, other])
    group.eval(600_000, engine_query_func(Engine(db)), db)
    alerts = sorted(group.alerts(), key=lambda a: a.labels["alertname"])
    assert [a.labels["alertname"] for a in alerts] == ["Also", "Slow"]
    assert all(1.9 < a.value <= 2.0 for a in alerts)


def test_threshold_rules_over_histograms_evaluated_together_match_alone() -> None:
    db = store()
    # Comparisons of histogram samples with a number give nothing, together or alone.
    rules = [Rule(name=f"R{i}", query=f'rpc_seconds{{job="a"}} != {i}', duration=0) for i in range(3)]
    group = Group("g", rules)
    group.eval(600_000, engine_query_func(Engine(db)), db)
    assert group.alerts() == []
