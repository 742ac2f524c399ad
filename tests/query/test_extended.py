"""Extended range selectors (`anchored`, `smoothed`) behind `promql-extended-range-selectors`; the
semantics are also checked case by case by Prometheus' extended_vectors.test in the conformance suite."""

import pytest

from alerting_server.query import shared
from alerting_server.query.analysis import QuerySyntaxError, analyse
from alerting_server.query.engine import Engine
from alerting_server.query.errors import QueryError
from alerting_server.query.extended import FEATURE, ModifierError, modifier_of, rewrite
from alerting_server.query.labels import from_mapping
from alerting_server.query.result import ValueKind
from alerting_server.query.tsdb import TSDB, Sample

S = 1000
ENABLED = frozenset({FEATURE})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rate(x[5m] anchored)", 'rate(x{__anchored__=""}[5m] )'),
        ('increase(x{a="b"}[5m] offset 1m smoothed)', 'increase(x{a="b", __smoothed__=""}[5m] offset 1m )'),
        ('x{a="b",} SMOOTHED', 'x{a="b",__smoothed__=""} '),
        ("x{} @ 100 smoothed + 0", 'x{__smoothed__=""} @ 100  + 0'),
        ("x @ start() smoothed", 'x{__smoothed__=""} @ start() '),
        ("x offset -5m smoothed", 'x{__smoothed__=""} offset -5m '),
        # A label or metric named like the keywords is not a modifier.
        ('x{anchored="1"}', 'x{anchored="1"}'),
        ("smoothed", "smoothed"),
        ("sum by (smoothed) (x)", "sum by (smoothed) (x)"),
        ("x + anchored", "x + anchored"),
    ],
)
def test_the_keywords_move_into_their_selector(query: str, expected: str) -> None:
    assert rewrite(query) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("rate(x[5m:1m] anchored)", "anchored modifier is not supported for subqueries"),
        ("sum(x) smoothed", "smoothed modifier not implemented"),
    ],
)
def test_a_keyword_after_anything_but_a_selector_is_a_syntax_error(query: str, message: str) -> None:
    with pytest.raises(ModifierError, match=message):
        rewrite(query)
    with pytest.raises(QuerySyntaxError, match=message):
        analyse(query)


def test_the_modifier_is_on_the_tree_and_not_among_the_matchers() -> None:
    expr = analyse("rate(x[5m] anchored)").expr
    assert analyse("rate(x[5m] anchored)").metric_names == frozenset({"x"})
    selector = expr.args[0].vector_selector  # type: ignore[attr-defined]
    assert modifier_of(selector) == "anchored"
    # Rules that share their evaluation do not share an anchored one.
    assert shared.plan(expr) is None
    assert shared.plan(analyse("rate(x[5m]) > 1").expr) is not None


def _engine(features: frozenset[str] = ENABLED) -> Engine:
    db = TSDB()
    key = from_mapping({"__name__": "requests_total"})
    # 1, 2, ..., 5 every 15s, then a reset to 1 and on.
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0, 3.0]
    db.append([Sample(key, i * 15 * S, v) for i, v in enumerate(values)])
    return Engine(db, features=features)


def _value(engine: Engine, query: str, t_ms: int) -> float | None:
    result = engine.instant(query, t_ms)
    assert result.kind is ValueKind.VECTOR
    return float(result.series[0].values[0]) if result.series else None


def test_without_the_feature_the_query_is_refused_naming_it() -> None:
    with pytest.raises(
        QuerySyntaxError, match=f"anchored modifier is experimental and not enabled.*{FEATURE}"
    ):
        _engine(frozenset()).instant("increase(requests_total[1m] anchored)", 60 * S)


def test_anchored_increase_counts_from_the_sample_before_the_window_through_a_reset() -> None:
    engine = _engine()
    # Window (45s, 105s]: from the sample at 45s (4) to 105s (3) over the reset: 5-4 + 3.
    assert _value(engine, "increase(requests_total[1m] anchored)", 105 * S) == 4.0
    # Window (-10s, 50s]: nothing before it, so from its first sample (1) to its last (4), where
    # Prometheus' extrapolation goes past both.
    assert _value(engine, "increase(requests_total[1m] anchored)", 50 * S) == 3.0
    plain = _value(engine, "increase(requests_total[1m])", 50 * S)
    assert plain is not None
    assert plain > 3.0


def test_smoothed_interpolates_at_the_evaluation_time() -> None:
    engine = _engine()
    assert _value(engine, "requests_total smoothed", 7500) == 1.5
    result = engine.range("requests_total smoothed", 0, 30 * S, 7500)
    assert result.series[0].values.tolist() == [1.0, 1.5, 2.0, 2.5, 3.0]


def test_a_function_that_cannot_take_the_modifier_fails_as_in_prometheus() -> None:
    with pytest.raises(
        QueryError, match="smoothed modifier can only be used with: delta, increase, rate - not with deriv"
    ):
        _engine().instant("deriv(requests_total[1m] smoothed)", 60 * S)


def test_a_bare_anchored_range_selector_has_a_sample_at_each_end_of_its_window() -> None:
    result = _engine().instant("requests_total[1m] anchored", 70 * S)
    assert result.kind is ValueKind.MATRIX
    series = result.series[0]
    assert series.timestamps.tolist() == [10 * S, 15 * S, 30 * S, 45 * S, 60 * S, 70 * S]
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 5.0]
