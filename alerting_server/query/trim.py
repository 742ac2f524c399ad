"""The native-histogram trim operators of Prometheus 3: `h </ x` keeps the observations of `h`
below `x`, `h >/ x` those above it (FloatHistogram.TrimBuckets).

promql-parser does not know them. They have the precedence of the comparison operators, so each is
written as one of them (`</` as `<=`, `>/` as `>=`) before the query is parsed, and the tree's
BinaryExprs that stand for a trim are found afterwards by the order of their operators in the text:
an in-order walk of the tree meets binary operators in the order the query spells them.
"""

from __future__ import annotations

import promql_parser as pp

from alerting_server.query.ast import children
from alerting_server.query.syntax_lexer import T, lex

TRIM_UPPER = "</"
TRIM_LOWER = ">/"
TRIM_OPS = frozenset({TRIM_UPPER, TRIM_LOWER})
# The comparison each trim operator is parsed as.
_STAND_INS = {T.TRIM_UPPER: "<=", T.TRIM_LOWER: ">="}
_COMPARED = {T.LTE, T.GTE, T.TRIM_UPPER, T.TRIM_LOWER}

# Marks: id() of a BinaryExpr standing for a trim -> the trim operator. Valid while the tree lives.
Marks = dict[int, str]


def _has_trim(query: str) -> bool:
    return "</" in query or ">/" in query


def rewrite(query: str) -> str:
    """The query with each trim operator written as the comparison it is parsed as."""
    if not _has_trim(query):
        return query
    out = list(query)
    for token in lex(query):
        stand_in = _STAND_INS.get(token.typ)
        if stand_in is not None:
            out[token.pos : token.pos + 2] = list(stand_in)
    return "".join(out)


def marks(query: str, expr: pp.Expr) -> Marks:
    """The BinaryExprs of `expr` (parsed from rewrite(query)) that are trims. Raises ValueError for a
    trim with the bool modifier, which Prometheus' parser refuses."""
    if not _has_trim(query):
        return {}
    spelled = [t.typ for t in lex(query) if t.typ in _COMPARED]
    parsed = [node for node in _in_order(expr) if str(node.op) in ("<=", ">=")]
    if len(spelled) != len(parsed):
        raise ValueError("the trim operators could not be placed in the parsed query")
    found: Marks = {}
    for typ, node in zip(spelled, parsed, strict=True):
        if typ not in _STAND_INS:
            continue
        if node.modifier is not None and node.modifier.return_bool:
            raise ValueError("bool modifier can only be used on comparison operators")
        found[id(node)] = TRIM_UPPER if typ is T.TRIM_UPPER else TRIM_LOWER
    return found


def _in_order(expr: pp.Expr) -> list[pp.BinaryExpr]:
    """The BinaryExprs of the tree in the order of their operators in the query's text."""
    out: list[pp.BinaryExpr] = []
    stack: list[tuple[pp.Expr, bool]] = [(expr, False)]
    while stack:
        node, visited = stack.pop()
        if isinstance(node, pp.BinaryExpr) and visited:
            out.append(node)
        elif isinstance(node, pp.BinaryExpr):
            stack.extend([(node.rhs, False), (node, True), (node.lhs, False)])
        else:
            stack.extend((child, False) for child in reversed(children(node)))
    return out
