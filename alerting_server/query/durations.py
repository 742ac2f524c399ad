"""Duration expressions (Prometheus' `promql-duration-expr`): arithmetic where PromQL takes a
duration, `rate(x[5m+1m])`, `x offset -(1m*2)`, `y[1h:step()*2]`, `x offset min_of(range(), 8s)`.

promql-parser takes only literal durations, so the expressions are found here (the grammar of
promql/parser/generated_parser.y), evaluated as promql/durations.go does once the query's step and
range are known, and written back into the query as literals before it is parsed.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import promql_parser as pp

from alerting_server.query.bounds import shape
from alerting_server.query.errors import QueryError
from alerting_server.query.syntax_lexer import DURATION_KEYWORDS, T, Token, lex

DURATION_EXPR = "promql-duration-expr"

# Binding power of the binary operators (generated_parser.y: ADD SUB < MUL DIV MOD < POW); a unary
# sign binds as MUL, so `-2^2` is -(2^2).
_BINARY = {T.ADD: 1, T.SUB: 1, T.MUL: 2, T.DIV: 2, T.MOD: 2, T.POW: 3}
_UNARY_POWER = 3
# The tokens after which `offset` is the modifier, not a metric named offset.
_OPERAND_ENDS = frozenset(
    {T.IDENTIFIER, T.METRIC_IDENTIFIER, T.RIGHT_BRACE, T.RIGHT_BRACKET, T.RIGHT_PAREN, T.NUMBER, T.DURATION}
)


@dataclass(frozen=True)
class Node:
    """A duration expression: a literal (`value` in seconds), an operator on `args`, or a keyword."""

    op: str
    start: int
    end: int
    args: tuple[Node, ...] = ()
    value: float = 0.0


@dataclass(frozen=True)
class Site:
    """Where the query holds a duration expression: the text [start, end) it replaces; for an offset,
    [offset_start, end) is the whole modifier, left out when the offset comes to zero."""

    kind: Literal["range", "offset"]
    expr: Node
    start: int
    end: int
    offset_start: int = 0


class _Unparsed(Exception):
    """Not a duration expression this module reads; the query is left to the parser as written."""


def _number(text: str) -> float:
    word = text.replace("_", "").lower()
    if word.startswith("0x"):
        return float(int(word, 16))
    if word in ("inf", "+inf"):
        return math.inf
    return float(word)


# model.ParseDuration: the units in this order, each at most once.
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def _duration(text: str) -> float:
    found = _DURATION.fullmatch(text)
    if found is None or not text:
        raise _Unparsed
    return sum(int(n) * unit for n, unit in zip(found.groups(), _UNIT_SECONDS, strict=True) if n)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self, typ: T) -> Token:
        tok = self.tokens[self.i]
        if tok.typ is not typ:
            raise _Unparsed
        self.i += 1
        return tok

    def keyword(self) -> str | None:
        tok = self.peek()
        if tok.typ is T.IDENTIFIER and tok.val.lower() in DURATION_KEYWORDS:
            return tok.val.lower()
        return None

    def expr(self, min_power: int = 1) -> Node:
        lhs = self.operand()
        while True:
            tok = self.peek()
            power = _BINARY.get(tok.typ)
            if power is None or power < min_power:
                return lhs
            self.i += 1
            # ^ is right-associative, the others left.
            rhs = self.expr(power if tok.typ is T.POW else power + 1)
            lhs = Node(tok.val, lhs.start, rhs.end, (lhs, rhs))

    def operand(self) -> Node:
        tok = self.peek()
        if tok.typ in (T.ADD, T.SUB):
            self.i += 1
            inner = self.expr(_UNARY_POWER)
            return Node("neg" if tok.typ is T.SUB else "pos", tok.pos, inner.end, (inner,))
        return self.primary()

    def primary(self) -> Node:
        tok = self.peek()
        if tok.typ is T.NUMBER:
            self.i += 1
            return Node("literal", tok.pos, tok.pos + len(tok.val), value=_number(tok.val))
        if tok.typ is T.DURATION:
            self.i += 1
            return Node("literal", tok.pos, tok.pos + len(tok.val), value=_duration(tok.val))
        if tok.typ is T.LEFT_PAREN:
            self.i += 1
            inner = self.expr()
            close = self.take(T.RIGHT_PAREN)
            return Node("paren", tok.pos, close.pos + 1, (inner,))
        word = self.keyword()
        if word is None:
            raise _Unparsed
        self.i += 1
        self.take(T.LEFT_PAREN)
        args: tuple[Node, ...] = ()
        if word in ("min_of", "max_of"):
            first = self.expr()
            self.take(T.COMMA)
            args = (first, self.expr())
        close = self.take(T.RIGHT_PAREN)
        return Node(word, tok.pos, close.pos + 1, args)

    def offset(self) -> Node:
        """generated_parser.y offset_duration_expr: `x offset -2 ^ 2` is (x offset -2) ^ 2, and
        `x offset step() * 2` is (x offset step()) * 2; only a parenthesis not signed goes on."""
        tok = self.peek()
        if tok.typ in (T.ADD, T.SUB):
            self.i += 1
            inner = self.primary()
            return Node("neg" if tok.typ is T.SUB else "pos", tok.pos, inner.end, (inner,))
        first = self.primary()
        if first.op != "paren":
            return first
        lhs = first
        while (power := _BINARY.get(self.peek().typ)) is not None:
            op = self.peek()
            self.i += 1
            rhs = self.expr(power if op.typ is T.POW else power + 1)
            lhs = Node(op.val, lhs.start, rhs.end, (lhs, rhs))
        return lhs


def _is_literal(node: Node) -> bool:
    """A plain duration, which promql-parser reads itself (a sign only before a literal)."""
    if node.op in ("neg", "pos"):
        return node.args[0].op == "literal"
    return node.op == "literal"


@functools.lru_cache(maxsize=4096)
def sites(query: str) -> tuple[Site, ...]:
    """The duration expressions of `query` that are more than a literal; () when there are none or
    the query is not one this module reads (the parser then says what is wrong with it)."""
    if "[" not in query and "offset" not in query.lower():
        return ()
    if shape(query).problem is not None:
        # Too large to parse: the parser's caller refuses it (query/bounds.py).
        return ()
    tokens = lex(query)
    if not tokens or tokens[-1].typ is not T.EOF:
        return ()
    found: list[Site] = []
    p = _Parser(tokens)
    try:
        while p.peek().typ is not T.EOF:
            tok = p.peek()
            p.i += 1
            if tok.typ is T.LEFT_BRACKET:
                for _ in range(2):
                    if p.peek().typ in (T.RIGHT_BRACKET, T.COLON):
                        break
                    node = p.expr()
                    if not _is_literal(node):
                        found.append(Site("range", node, node.start, node.end))
                    if p.peek().typ is not T.COLON:
                        break
                    p.i += 1
                p.take(T.RIGHT_BRACKET)
            elif tok.typ is T.OFFSET and p.i >= 2 and tokens[p.i - 2].typ in _OPERAND_ENDS:
                node = p.offset()
                if not _is_literal(node):
                    found.append(Site("offset", node, node.start, node.end, tok.pos))
    except (_Unparsed, IndexError):
        return ()
    return tuple(found)


class _Evaluation:
    def __init__(self, step_s: float, range_s: float) -> None:
        self.step_s = step_s
        self.range_s = range_s

    def value(self, node: Node) -> float:
        """promql/durations.go evaluateDurationExpr, in seconds."""
        op = node.op
        if op == "literal":
            return node.value
        if op == "step":
            return self.step_s
        if op == "range":
            return self.range_s
        args = [self.value(a) for a in node.args]
        if op in ("paren", "pos"):
            return args[0]
        if op == "neg":
            return -args[0]
        lhs, rhs = args
        if op in ("/", "%") and rhs == 0:
            word = "division" if op == "/" else "modulo"
            raise QueryError(f"{node.start}:{node.end}: {word} by zero")
        match op:
            case "min_of":
                return min(lhs, rhs)
            case "max_of":
                return max(lhs, rhs)
            case "+":
                return lhs + rhs
            case "-":
                return lhs - rhs
            case "*":
                return lhs * rhs
            case "/":
                return lhs / rhs
            case "%":
                return math.fmod(lhs, rhs)
        try:
            return math.pow(lhs, rhs)
        except (OverflowError, ValueError):
            return math.inf if lhs > 0 else math.nan

    def ms(self, site: Site) -> int:
        """promql/durations.go calculateDuration, in milliseconds."""
        seconds = self.value(site.expr)
        where = f"{site.start}:{site.end}"
        if math.isnan(seconds) or math.isinf(seconds):
            raise QueryError(f"{where}: duration is NaN or infinite")
        if seconds <= 0 and site.kind == "range":
            raise QueryError(f"{where}: duration must be greater than 0")
        if abs(seconds) > (1 << 63) / 1e9:
            raise QueryError(f"{where}: duration is out of range")
        return int(seconds * 1000)


def resolve(query: str, found: tuple[Site, ...], step_ms: int, range_ms: int) -> str:
    """`query` with its duration expressions replaced by the literal durations they come to for a
    query of this step and range (both 0 for an instant query)."""
    evaluation = _Evaluation(step_ms / 1000, range_ms / 1000)
    out = []
    at = 0
    for site in found:
        ms = evaluation.ms(site)
        if site.kind == "offset" and ms == 0:
            out.append(query[at : site.offset_start])
        elif ms == 0:
            raise QueryError(f"{site.start}:{site.end}: duration must be greater than 0")
        else:
            out.append(query[at : site.start])
            out.append(_literal(ms))
        at = site.end
    out.append(query[at:])
    return "".join(out)


def _literal(ms: int) -> str:
    """A duration as the parser prints it (`2m`, `1h30m`), so that the text of a node is found in
    the query for the positions of annotations; milliseconds as such, which it does not print."""
    sign = "-" if ms < 0 else ""
    if ms % 1000:
        return f"{ms}ms"
    return sign + pp.display_duration(timedelta(milliseconds=abs(ms)))


def placeholder(query: str, found: tuple[Site, ...]) -> str:
    """`query` with each duration expression replaced by a literal of the right sign, for what is
    known of a query before its step and range are: its tree's shape, the metrics it reads."""
    out = []
    at = 0
    for site in found:
        out.append(query[at : site.start])
        out.append("1ms")
        at = site.end
    out.append(query[at:])
    return "".join(out)
