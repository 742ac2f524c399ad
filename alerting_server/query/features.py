"""PromQL features that Prometheus keeps behind `--enable-feature`, and the check that a query uses
only the enabled ones (the setting `query.enable_features`)."""

from __future__ import annotations

import promql_parser as pp

from alerting_server.query.analysis import QuerySyntaxError
from alerting_server.query.ast import nodes
from alerting_server.query.extended import FEATURE as EXTENDED_RANGE_SELECTORS
from alerting_server.query.extended import modifier_of

EXPERIMENTAL_FUNCTIONS = "promql-experimental-functions"
# The features this engine implements and can be asked for; Prometheus' other PromQL flags
# are refused by the configuration.
KNOWN_FEATURES = frozenset({EXPERIMENTAL_FUNCTIONS, EXTENDED_RANGE_SELECTORS})

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
    functions_off = EXPERIMENTAL_FUNCTIONS not in features
    selectors_off = EXTENDED_RANGE_SELECTORS not in features
    if not (functions_off or selectors_off):
        return
    for node in nodes(expr):
        if selectors_off and isinstance(node, pp.VectorSelector) and (modifier := modifier_of(node)):
            reason = (
                f"{modifier} modifier is experimental and not enabled: enable it with "
                f"query.enable_features: [{EXTENDED_RANGE_SELECTORS}]"
            )
        elif not functions_off:
            continue
        elif isinstance(node, pp.Call) and node.func.name in _EXPERIMENTAL_FUNCTIONS:
            reason = f'function "{node.func.name}" is not enabled'
        elif isinstance(node, pp.AggregateExpr) and str(node.op) in _EXPERIMENTAL_AGGREGATORS:
            reason = (
                f"{node.op}() is experimental and must be enabled with "
                f"query.enable_features: [{EXPERIMENTAL_FUNCTIONS}]"
            )
        else:
            continue
        raise QuerySyntaxError(reason, f"parse error: {reason}")
