"""PromQL features that Prometheus keeps behind `--enable-feature`, and the check that a query uses
only the enabled ones (the setting `query.enable_features`)."""

from __future__ import annotations

import promql_parser as pp

from alerting_server.query import durations, info
from alerting_server.query.analysis import QuerySyntaxError, ValueType, value_type
from alerting_server.query.ast import nodes
from alerting_server.query.errors import QueryError
from alerting_server.query.extended import FEATURE as EXTENDED_RANGE_SELECTORS
from alerting_server.query.extended import modifier_of

EXPERIMENTAL_FUNCTIONS = "promql-experimental-functions"
# Permanent in Prometheus 3 (arithmetic in durations is always parsed): accepted, and changes nothing.
DURATION_EXPR = durations.DURATION_EXPR
# fill(v), fill_left(v), fill_right(v) after a binary operator's matching modifiers.
FILL_MODIFIERS = "promql-binop-fill-modifiers"
# Samples' start times read by rate, irate, increase, resets and start_timestamp() (Prometheus'
# engine option UseStartTimestamps, on in its test engine).
USE_START_TIMESTAMPS = "use-start-timestamps"
# The features this engine implements and can be asked for; Prometheus' other PromQL flags
# are refused by the configuration.
KNOWN_FEATURES = frozenset(
    {EXPERIMENTAL_FUNCTIONS, DURATION_EXPR, FILL_MODIFIERS, EXTENDED_RANGE_SELECTORS, USE_START_TIMESTAMPS}
)

# promql/parser/functions.go: the functions marked `Experimental: true`.
_EXPERIMENTAL_FUNCTIONS = frozenset(
    {
        "double_exponential_smoothing",
        "histogram_quantiles",
        "info",
        "mad_over_time",
        "max_of",
        "min_of",
        "sort_by_label",
        "sort_by_label_desc",
        "start_timestamp",
        "ts_of_first_over_time",
        "ts_of_last_over_time",
        "ts_of_max_over_time",
        "ts_of_min_over_time",
    }
)
_EXPERIMENTAL_AGGREGATORS = frozenset({"limitk", "limit_ratio"})


def check_features(expr: pp.Expr, features: frozenset[str]) -> None:
    """Raise QuerySyntaxError, as Prometheus' parser does, when `expr` uses a feature not enabled."""
    experimental = EXPERIMENTAL_FUNCTIONS in features
    selectors = EXTENDED_RANGE_SELECTORS in features
    for node in nodes(expr):
        if not selectors and isinstance(node, pp.VectorSelector) and (modifier := modifier_of(node)):
            reason = (
                f"{modifier} modifier is experimental and not enabled "
                f"(query.enable_features: [{EXTENDED_RANGE_SELECTORS}])"
            )
        elif isinstance(node, pp.BinaryExpr) and _fills(node):
            problem = _fill_problem(node, features)
            if problem is None:
                continue
            reason = problem
        elif experimental:
            if isinstance(node, pp.Call) and node.func.name == "info" and len(node.args) > 1:
                try:
                    info.label_selector(node.args[1])
                except QueryError as e:
                    reason = str(e)
                else:
                    continue
            else:
                continue
        elif isinstance(node, pp.Call) and node.func.name in _EXPERIMENTAL_FUNCTIONS:
            reason = (
                f'function "{node.func.name}" is not enabled '
                f"(query.enable_features: [{EXPERIMENTAL_FUNCTIONS}])"
            )
        elif isinstance(node, pp.AggregateExpr) and str(node.op) in _EXPERIMENTAL_AGGREGATORS:
            reason = (
                f"{node.op}() is experimental and must be enabled with "
                f"query.enable_features: [{EXPERIMENTAL_FUNCTIONS}]"
            )
        else:
            continue
        raise QuerySyntaxError(reason, f"parse error: {reason}")


def _fills(node: pp.BinaryExpr) -> bool:
    fill = None if node.modifier is None else node.modifier.fill_values
    return fill is not None and (fill.lhs is not None or fill.rhs is not None)


def _fill_problem(node: pp.BinaryExpr, features: frozenset[str]) -> str | None:
    """Prometheus' parse errors for fill modifiers (parse.go newBinaryExpression, checkAST)."""
    if FILL_MODIFIERS not in features:
        return (
            "binop fill modifiers are experimental and not enabled "
            f"(query.enable_features: [{FILL_MODIFIERS}])"
        )
    if value_type(node.lhs) is not ValueType.VECTOR or value_type(node.rhs) is not ValueType.VECTOR:
        return "filling in missing series only allowed between instant vectors"
    if str(node.op) in ("and", "or", "unless"):
        return "filling in missing series not allowed for set operators"
    return None
