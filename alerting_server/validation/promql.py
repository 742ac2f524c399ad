"""PromQL queries: syntax (by promql-parser), value type, and the metrics a query reads."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import promql_parser

from alerting_server.errors import InvalidArgument
from alerting_server.matching import Matcher, MatcherError, MatchOp
from alerting_server.query.ast import nodes
from alerting_server.query.bounds import shape
from alerting_server.query.syntax import syntax_error

_NAME_LABEL = "__name__"


class ValueType(enum.Enum):
    SCALAR = "scalar"
    VECTOR = "vector"
    MATRIX = "matrix"
    STRING = "string"


# The parser's enums are not hashable, so these pair them up instead of keying dicts.
_PARSER_TYPES = [
    (promql_parser.ValueType.Scalar, ValueType.SCALAR),
    (promql_parser.ValueType.Vector, ValueType.VECTOR),
    (promql_parser.ValueType.Matrix, ValueType.MATRIX),
    (promql_parser.ValueType.String, ValueType.STRING),
]
_PARSER_OPS: list[tuple[promql_parser.MatchOp, MatchOp]] = [
    (promql_parser.MatchOp.Equal, "="),
    (promql_parser.MatchOp.NotEqual, "!="),
    (promql_parser.MatchOp.Re, "=~"),
    (promql_parser.MatchOp.NotRe, "!~"),
]


def _op(op: promql_parser.MatchOp) -> MatchOp:
    return next(ours for theirs, ours in _PARSER_OPS if theirs == op)


@dataclass(frozen=True)
class QueryInfo:
    """What the rule engine needs to know about a query without evaluating it.

    `metric_names` are the names selected by equality (`cpu_usage`, `{__name__="up"}`);
    `name_matchers` has one entry per selector that names no single metric, holding its
    `__name__` matchers (empty when the selector has none, as in `{job="api"}`).
    """

    value_type: ValueType
    metric_names: frozenset[str]
    name_matchers: tuple[tuple[Matcher, ...], ...] = ()

    def reads(self, metric_name: str) -> bool:
        """Whether new samples of `metric_name` can change the query's result."""
        if metric_name in self.metric_names:
            return True
        labels = {_NAME_LABEL: metric_name}
        return any(all(m.matches(labels) for m in group) for group in self.name_matchers)


def check_query(query: str, field: str = "query") -> QueryInfo:
    """Parse `query`; InvalidArgument on `field` with the parser's message when it is not PromQL."""
    if not query.strip():
        raise InvalidArgument.field(field, "must not be empty")
    if (too_large := shape(query).problem) is not None:
        raise InvalidArgument.field(field, too_large)
    try:
        expr = promql_parser.parse(query)
    except ValueError as e:
        found = syntax_error(query)
        raise InvalidArgument.field(field, f"invalid PromQL: {found or e}") from None
    names: set[str] = set()
    patterns: list[tuple[Matcher, ...]] = []
    try:
        for node in nodes(expr):
            if isinstance(node, promql_parser.VectorSelector):
                _collect_names(node, names, patterns)
    except MatcherError as e:
        # promql-parser compiles regexes with Rust's engine; ours is stricter about RE2.
        raise InvalidArgument.field(field, f"invalid PromQL: {e}") from None
    return QueryInfo(_value_type(expr), frozenset(names), tuple(patterns))


def _collect_names(
    selector: promql_parser.VectorSelector, names: set[str], patterns: list[tuple[Matcher, ...]]
) -> None:
    if selector.name is not None:
        names.add(selector.name)
        return
    groups = selector.matchers.or_matchers or [selector.matchers.matchers]
    for group in groups:
        name_matchers = [m for m in group if m.name == _NAME_LABEL]
        equal = [m.value for m in name_matchers if m.op == promql_parser.MatchOp.Equal]
        if equal:
            names.add(equal[0])
        else:
            patterns.append(tuple(Matcher(m.name, _op(m.op), m.value) for m in name_matchers))


def _value_type(expr: promql_parser.Expr) -> ValueType:
    match expr:
        case promql_parser.NumberLiteral():
            return ValueType.SCALAR
        case promql_parser.StringLiteral():
            return ValueType.STRING
        case promql_parser.VectorSelector() | promql_parser.AggregateExpr():
            return ValueType.VECTOR
        case promql_parser.MatrixSelector() | promql_parser.SubqueryExpr():
            return ValueType.MATRIX
        case promql_parser.ParenExpr() | promql_parser.UnaryExpr():
            return _value_type(expr.expr)
        case promql_parser.Call():
            return next(ours for theirs, ours in _PARSER_TYPES if theirs == expr.func.return_type)
        case promql_parser.BinaryExpr():
            both_scalar = _value_type(expr.lhs) is _value_type(expr.rhs) is ValueType.SCALAR
            return ValueType.SCALAR if both_scalar else ValueType.VECTOR
    raise TypeError(f"unexpected PromQL node {type(expr).__name__}")
