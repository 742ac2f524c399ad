"""Reading the promql-parser AST: times, matchers and modifiers as plain Python values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import promql_parser as pp

from alerting_common.regexp import RegexpError
from alerting_server.query.errors import QueryError
from alerting_server.query.extended import LABELS
from alerting_server.query.labels import METRIC_NAME, Matcher, MatchType

_MATCH_TYPES = {
    "Equal": MatchType.EQUAL,
    "NotEqual": MatchType.NOT_EQUAL,
    "Re": MatchType.REGEX,
    "NotRe": MatchType.NOT_REGEX,
}


def match_type(op: pp.MatchOp) -> MatchType:
    return _MATCH_TYPES[str(op).rsplit(".", 1)[-1]]


_SYSTEM_TIME = re.compile(r"at: Some\(\s*At\(\s*SystemTime \{\s*tv_sec: (-?\d+),\s*tv_nsec: (\d+),?\s*\}")


def duration_ms(d: timedelta | None) -> int:
    if d is None:
        return 0
    return (d.days * 86_400 + d.seconds) * 1000 + d.microseconds // 1000


class AtTime:
    """The `@` modifier: a fixed time in ms, or the query's start() / end()."""

    def __init__(self, kind: str, t_ms: int = 0) -> None:
        self.kind = kind
        self.t_ms = t_ms

    def resolve(self, start_ms: int, end_ms: int) -> int:
        if self.kind == "start":
            return start_ms
        if self.kind == "end":
            return end_ms
        return self.t_ms


def at_of(node: pp.VectorSelector | pp.SubqueryExpr) -> AtTime | None:
    at = node.at
    if at is None:
        return None
    if at.type == pp.AtModifierType.Start:
        return AtTime("start")
    if at.type == pp.AtModifierType.End:
        return AtTime("end")
    try:
        when = at.at
    except BaseException:
        when = None
    if when is not None:
        return AtTime("at", round(when.timestamp() * 1000))
    # Fall back to the node's debug form, which carries the raw seconds and nanoseconds.
    found = _SYSTEM_TIME.findall(repr(node))
    if not found:
        raise ValueError("cannot read the @ modifier")
    sec, nsec = found[-1]
    return AtTime("at", int(sec) * 1000 + int(nsec) // 1_000_000)


def selector_matchers(vs: pp.VectorSelector) -> list[list[Matcher]]:
    """Matcher groups (more than one when the selector uses `or`), with the metric name."""
    groups_raw = vs.matchers.or_matchers or [vs.matchers.matchers]
    groups = []
    for raw in groups_raw:
        try:
            # A matcher on __anchored__ or __smoothed__ carries a modifier (query/extended.py).
            group = [Matcher.of(match_type(m.op), m.name, m.value) for m in raw if m.name not in LABELS]
        except RegexpError as e:
            # promql-parser checked the pattern with Rust's engine, which takes a few that RE2 does not.
            raise QueryError(str(e)) from None
        if vs.name is not None:
            group.append(Matcher.of(MatchType.EQUAL, METRIC_NAME, vs.name))
        groups.append(group)
    return groups


def unwrap_parens(node: pp.Expr) -> pp.Expr:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def children(node: pp.Expr) -> list[pp.Expr]:
    match node:
        case pp.BinaryExpr():
            return [node.lhs, node.rhs]
        case pp.AggregateExpr():
            return [node.expr] if node.param is None else [node.param, node.expr]
        case pp.Call():
            return list(node.args)
        case pp.ParenExpr() | pp.UnaryExpr() | pp.SubqueryExpr():
            return [node.expr]
        case pp.MatrixSelector():
            return [node.vector_selector]
    return []


def nodes(expr: pp.Expr) -> Iterator[pp.Expr]:
    """Every node of the tree, parents first. Not promql_parser.walk: its time grows with the cube of
    the tree's depth (seconds for a few hundred operators)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))
