"""A query parsed once, and what the server needs to know about it without evaluating it.

A rule's query is looked at by the API's validation (its value type), by the rule group (whether it
may be evaluated ahead with others, and which metrics it reads), by the runner (whether an empty
result stays empty until a write) and by the engine (its tree, its shared plan). All of them take
it from here: one parse, within the bounds of query/bounds.py, held by the query's text.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import promql_parser as pp

from alerting_server.errors import FieldViolation, InvalidArgument
from alerting_server.matching import Matcher, MatcherError, MatchOp
from alerting_server.query import durations, extended, histogram_stats, info, shared, trim
from alerting_server.query.ast import nodes
from alerting_server.query.bounds import shape
from alerting_server.query.errors import QueryError
from alerting_server.query.sizedcache import SizedCache
from alerting_server.query.syntax import syntax_error

_NAME_LABEL = "__name__"


class ValueType(enum.Enum):
    SCALAR = "scalar"
    VECTOR = "vector"
    MATRIX = "matrix"
    STRING = "string"


# The parser's enums are not hashable, so these pair them up instead of keying dicts.
_PARSER_TYPES = [
    (pp.ValueType.Scalar, ValueType.SCALAR),
    (pp.ValueType.Vector, ValueType.VECTOR),
    (pp.ValueType.Matrix, ValueType.MATRIX),
    (pp.ValueType.String, ValueType.STRING),
]
_PARSER_OPS: list[tuple[pp.MatchOp, MatchOp]] = [
    (pp.MatchOp.Equal, "="),
    (pp.MatchOp.NotEqual, "!="),
    (pp.MatchOp.Re, "=~"),
    (pp.MatchOp.NotRe, "!~"),
]

# Functions of their arguments' values only: with no new sample they give what they gave before.
_VALUE_FUNCTIONS = frozenset(
    (
        *("abs", "ceil", "floor", "round", "exp", "ln", "log2", "log10", "sqrt", "sgn", "deg", "rad"),
        *("clamp", "clamp_max", "clamp_min", "label_replace", "label_join"),
        *("sort", "sort_desc", "sort_by_label", "sort_by_label_desc"),
        *("acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh"),
    )
)


class QuerySyntaxError(InvalidArgument):
    """A query promql-parser refuses; `reason` is Prometheus' message for it when known."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__([FieldViolation("query", reason)], message)
        self.reason = reason


@dataclass(frozen=True, eq=False)
class Analysis:
    """A parsed query and what is known of it before evaluation.

    `metric_names` are the names selected by equality (`cpu_usage`, `{__name__="up"}`);
    `name_matchers` has one entry per selector that names no single metric, holding its
    `__name__` matchers (empty when the selector has none, as in `{job="api"}`).
    `problem` says why validation refuses a query the parser took: a regex that Rust's engine
    compiles and RE2's does not; the metrics such a query reads are then unknown.
    """

    expr: pp.Expr
    value_type: ValueType
    metric_names: frozenset[str]
    name_matchers: tuple[tuple[Matcher, ...], ...]
    problem: str | None
    # Whether an empty result stays empty until a metric it reads gets a sample.
    time_invariant: bool
    # How the engine evaluates it together with others (query/shared.py), or None.
    plan: shared.Plan | None
    # The BinaryExprs of `expr` that are native-histogram trims (query/trim.py).
    trims: trim.Marks
    # The selectors Prometheus reads through its HistogramStatsIterator (query/histogram_stats.py).
    stats_selectors: frozenset[int]
    # Of each selector (each `or` branch of one) that names a single metric, what a series must have
    # to be selected by it, as (metric name, label, value): one of its equality matchers on a label
    # other than the name, with a value that is not empty; ("name", "", "") when it has none. A
    # series none of these fit is selected by no such selector (`name_matchers` has the others).
    series_keys: frozenset[tuple[str, str, str]] = frozenset()

    def reads(self, metric_name: str) -> bool:
        """Whether new samples of `metric_name` can change the query's result."""
        if metric_name in self.metric_names:
            return True
        labels = {_NAME_LABEL: metric_name}
        return any(all(m.matches(labels) for m in group) for group in self.name_matchers)


# About 120 MB of trees at most; some 100,000 typical rule queries.
# Analyses by query text: rules run the same queries every evaluation and the trees are only read,
# so one parse serves all. Bounded by the memory their trees hold (Shape.parsed_size).
_analysed: SizedCache[str, Analysis] = SizedCache(1 << 20)


def analyse(query: str) -> Analysis:
    """The query parsed and looked at; a query too large to parse is InvalidArgument, one that is not
    PromQL QuerySyntaxError."""
    cached = _analysed.get(query)
    if cached is not None:
        return cached
    measured = shape(query)
    if measured.problem is not None:
        raise InvalidArgument.field("query", measured.problem)
    resolved = durations.sites(query)
    try:
        # Duration expressions take their values from the query's step and range: the engine
        # resolves them before it parses; what is known before that reads them as literals.
        text = info.marked(durations.placeholder(query, resolved) if resolved else query)
        expr = pp.parse(trim.rewrite(extended.rewrite(text)))
        trims = trim.marks(text, expr)
    except extended.ModifierError as e:
        raise QuerySyntaxError(str(e), f"parse error: {e}") from None
    except ValueError as e:
        found = syntax_error(query)
        if found is None:
            raise QuerySyntaxError(str(e), f"parse error: {e}") from e
        raise QuerySyntaxError(str(found), str(found)) from e
    analysis = _analysis(expr, trims, shareable=not resolved and not trims)
    _analysed.put(query, analysis, measured.parsed_size)
    return analysis


def analysed(query: str) -> Analysis | None:
    """None when the query does not parse: it then reads nothing and fails when evaluated."""
    try:
        return analyse(query)
    except InvalidArgument:
        return None


def _analysis(expr: pp.Expr, trims: trim.Marks, *, shareable: bool = True) -> Analysis:
    names: set[str] = set()
    keys: set[tuple[str, str, str]] = set()
    patterns: list[tuple[Matcher, ...]] = []
    problem = None
    invariant = True
    for node in nodes(expr):
        if isinstance(node, pp.VectorSelector):
            invariant = invariant and node.offset is None and node.at is None
            try:
                _collect_names(node, names, patterns, keys)
            except MatcherError as e:
                # promql-parser compiles regexes with Rust's engine; ours is stricter about RE2.
                problem = problem or str(e)
        elif isinstance(node, pp.Call):
            invariant = invariant and node.func.name in _VALUE_FUNCTIONS
        else:
            # Range selectors, subqueries, offsets and clock functions (time, absent, vector) can
            # change with the evaluation time alone.
            invariant = invariant and isinstance(
                node, pp.BinaryExpr | pp.AggregateExpr | pp.ParenExpr | pp.UnaryExpr | pp.NumberLiteral
            )
    if problem is not None:
        names, patterns, keys = set(), [], set()
    try:
        plan = shared.plan(expr) if shareable else None
    except QueryError:
        # A regex RE2 refuses: evaluated alone, the query reports it.
        plan = None
    stats = histogram_stats.stats_selectors(expr, trims)
    return Analysis(
        expr,
        value_type(expr),
        frozenset(names),
        tuple(patterns),
        problem,
        invariant,
        plan,
        trims,
        stats,
        frozenset(keys),
    )


def _op(op: pp.MatchOp) -> MatchOp:
    return next(ours for theirs, ours in _PARSER_OPS if theirs == op)


def _collect_names(
    selector: pp.VectorSelector,
    names: set[str],
    patterns: list[tuple[Matcher, ...]],
    keys: set[tuple[str, str, str]],
) -> None:
    groups = selector.matchers.or_matchers or [selector.matchers.matchers]
    if selector.name is not None:
        names.add(selector.name)
        keys.update(_series_key(selector.name, group) for group in groups)
        return
    for group in groups:
        name_matchers = [m for m in group if m.name == _NAME_LABEL]
        equal = [m.value for m in name_matchers if m.op == pp.MatchOp.Equal]
        if equal:
            names.add(equal[0])
            keys.add(_series_key(equal[0], group))
        else:
            patterns.append(tuple(Matcher(m.name, _op(m.op), m.value) for m in name_matchers))


def _series_key(name: str, group: Sequence[pp.Matcher]) -> tuple[str, str, str]:
    """What a series of `name` must have for the matchers to select it (Analysis.series_keys)."""
    equal = sorted(
        (m.name, m.value) for m in group if m.op == pp.MatchOp.Equal and m.name != _NAME_LABEL and m.value
    )
    return (name, *equal[0]) if equal else (name, "", "")


def value_type(expr: pp.Expr) -> ValueType:
    match expr:
        case pp.NumberLiteral():
            return ValueType.SCALAR
        case pp.StringLiteral():
            return ValueType.STRING
        case pp.VectorSelector() | pp.AggregateExpr():
            return ValueType.VECTOR
        case pp.MatrixSelector() | pp.SubqueryExpr():
            return ValueType.MATRIX
        case pp.ParenExpr() | pp.UnaryExpr():
            return value_type(expr.expr)
        case pp.Call():
            return next(ours for theirs, ours in _PARSER_TYPES if theirs == expr.func.return_type)
        case pp.BinaryExpr():
            both_scalar = value_type(expr.lhs) is value_type(expr.rhs) is ValueType.SCALAR
            return ValueType.SCALAR if both_scalar else ValueType.VECTOR
    raise TypeError(f"unexpected PromQL node {type(expr).__name__}")
