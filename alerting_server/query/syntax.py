"""PromQL syntax errors in Prometheus' words and with its position: `1:7: parse error: ...`.

promql-parser says only "invalid promql query"; this recogniser follows Prometheus' grammar
(promql/parser/generated_parser.y) and its parse-time type checks (parse.go checkAST) closely enough
to name the first error the way Prometheus does. It is used only to explain a query promql-parser
already rejected, so where it is unsure it accepts: `syntax_error` returns None and the caller keeps
promql-parser's own message.
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass, field
from typing import Literal, NoReturn

from alerting_common.regexp import RegexpError
from alerting_server.query.labels import promql_regex
from alerting_server.query.syntax_lexer import T, Token, go_quote, lex

Type = Literal["scalar", "vector", "matrix", "string"]
_DOC = {"scalar": "scalar", "vector": "instant vector", "matrix": "range vector", "string": "string"}

# name: (argument types, variadic, return type); variadic -1 is unbounded (functions.go).
_V: Type = "vector"
_M: Type = "matrix"
_S: Type = "scalar"
_STR: Type = "string"
FUNCTIONS: dict[str, tuple[tuple[Type, ...], int, Type]] = {
    **{
        name: ((_V,), 0, _V)
        for name in (
            "abs",
            "absent",
            "acos",
            "acosh",
            "asin",
            "asinh",
            "atan",
            "atanh",
            "ceil",
            "cos",
            "cosh",
            "deg",
            "exp",
            "floor",
            "histogram_avg",
            "histogram_count",
            "histogram_sum",
            "histogram_stddev",
            "histogram_stdvar",
            "ln",
            "log10",
            "log2",
            "rad",
            "sgn",
            "sin",
            "sinh",
            "sort",
            "sort_desc",
            "sqrt",
            "tan",
            "tanh",
            "timestamp",
        )
    },
    **{
        name: ((_M,), 0, _V)
        for name in (
            "absent_over_time",
            "avg_over_time",
            "changes",
            "count_over_time",
            "delta",
            "deriv",
            "first_over_time",
            "idelta",
            "increase",
            "irate",
            "last_over_time",
            "mad_over_time",
            "max_over_time",
            "min_over_time",
            "present_over_time",
            "rate",
            "resets",
            "stddev_over_time",
            "stdvar_over_time",
            "sum_over_time",
            "ts_of_first_over_time",
            "ts_of_max_over_time",
            "ts_of_min_over_time",
            "ts_of_last_over_time",
        )
    },
    **{
        name: ((_V,), 1, _V)
        for name in (
            "days_in_month",
            "day_of_month",
            "day_of_week",
            "day_of_year",
            "hour",
            "minute",
            "month",
            "year",
        )
    },
    **{
        name: ((), 0, _S)
        for name in (
            "pi",
            "time",
            "start",
            "end",
            "step",
            "range",
        )
    },
    "min_of": ((_S, _S), 0, _S),
    "max_of": ((_S, _S), 0, _S),
    "clamp": ((_V, _S, _S), 0, _V),
    "clamp_max": ((_V, _S), 0, _V),
    "clamp_min": ((_V, _S), 0, _V),
    "histogram_fraction": ((_S, _S, _V), 0, _V),
    "histogram_quantile": ((_S, _V), 0, _V),
    "histogram_quantiles": ((_V, _STR, _S, _S), 9, _V),
    "double_exponential_smoothing": ((_M, _S, _S), 0, _V),
    "holt_winters": ((_M, _S, _S), 0, _V),
    "info": ((_V, _V), 1, _V),
    "integral": ((_M, _S), 1, _V),
    "label_replace": ((_V, _STR, _STR, _STR, _STR), 0, _V),
    "label_join": ((_V, _STR, _STR, _STR), -1, _V),
    "predict_linear": ((_M, _S), 0, _V),
    "quantile_over_time": ((_S, _M), 0, _V),
    "round": ((_V, _S), 1, _V),
    "scalar": ((_V,), 0, _S),
    "sort_by_label": ((_V, _STR), -1, _V),
    "sort_by_label_desc": ((_V, _STR), -1, _V),
    "vector": ((_S,), 0, _V),
}

_PRECEDENCE = {
    T.LOR: 1,
    T.LAND: 2,
    T.LUNLESS: 2,
    T.EQLC: 3,
    T.NEQ: 3,
    T.LTE: 3,
    T.LSS: 3,
    T.GTE: 3,
    T.GTR: 3,
    T.TRIM_UPPER: 3,
    T.TRIM_LOWER: 3,
    T.ADD: 4,
    T.SUB: 4,
    T.MUL: 5,
    T.DIV: 5,
    T.MOD: 5,
    T.ATAN2: 5,
    T.POW: 6,
}
_COMPARISONS = frozenset({T.EQLC, T.NEQ, T.LTE, T.LSS, T.GTE, T.GTR})
_SET_OPS = frozenset({T.LAND, T.LOR, T.LUNLESS})
_MATCH_OPS = frozenset({T.EQL, T.NEQ, T.EQL_REGEX, T.NEQ_REGEX})
# Keywords that still name a metric where an expression starts (metric_identifier in the grammar).
_METRIC_KEYWORDS = frozenset({T.AGGREGATOR, T.BY, T.WITHOUT, T.LAND, T.LOR, T.LUNLESS, T.OFFSET})
_METRIC_KEYWORDS |= {T.START, T.END, T.IDENTIFIER, T.METRIC_IDENTIFIER}
# Labels in grouping clauses may be spelled like keywords (maybe_label in the grammar).
_LABEL_TOKENS = frozenset({T.IDENTIFIER, T.AGGREGATOR, T.LAND, T.LOR, T.LUNLESS, T.ATAN2, T.OFFSET})
_LABEL_TOKENS |= {T.BY, T.WITHOUT, T.ON, T.IGNORING, T.GROUP_LEFT, T.GROUP_RIGHT, T.BOOL, T.START}
_LABEL_TOKENS |= {T.END, T.NUMBER, T.STRING, T.METRIC_IDENTIFIER}
_DURATION = re.compile(r"(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass(frozen=True)
class SyntaxError_:
    """The first error in a query, where Prometheus reports it (`pos` is a character index)."""

    pos: int
    message: str
    query: str

    @property
    def line(self) -> int:
        return self.query.count("\n", 0, self.pos) + 1

    @property
    def column(self) -> int:
        return self.pos - self.query.rfind("\n", 0, self.pos)

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: parse error: {self.message}"


class _Abort(Exception):
    pass


@dataclass
class _Node:
    start: int
    kind: str  # number string selector matrix subquery paren unary binary call aggregate
    children: list[_Node] = field(default_factory=list)
    # selector: matchers as (name, op, value); a name outside braces comes last
    matchers: list[tuple[str, T, str]] = field(default_factory=list)
    name: str = ""
    offset: bool = False
    at: bool = False
    op: Token | None = None
    bool_: bool = False
    on: bool = False
    matching: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    grouped: bool = False  # group_left / group_right
    func: str = ""

    def type(self) -> Type:
        match self.kind:
            case "number":
                return "scalar"
            case "string":
                return "string"
            case "selector" | "aggregate":
                return "vector"
            case "matrix" | "subquery":
                return "matrix"
            case "paren" | "unary":
                return self.children[0].type()
            case "call":
                return FUNCTIONS[self.func][2] if self.func in FUNCTIONS else "vector"
        both_scalar = all(c.type() == "scalar" for c in self.children)
        return "scalar" if both_scalar else "vector"


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = [t for t in lex(query) if t.typ is not T.COMMENT]
        self.i = 0
        self.errors: list[SyntaxError_] = []

    # Tokens.
    def peek(self) -> Token:
        tok = self.tokens[min(self.i, len(self.tokens) - 1)]
        if tok.typ is T.ERROR:
            self.fail(tok.pos, tok.val)
        return tok

    def take(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def error(self, pos: int, message: str) -> None:
        self.errors.append(SyntaxError_(pos, message, self.query))

    def fail(self, pos: int, message: str) -> NoReturn:
        self.error(pos, message)
        raise _Abort

    def unexpected(self, context: str = "", expected: str = "") -> NoReturn:
        tok = self.peek()
        message = f"unexpected {tok.desc()}"
        if context:
            message += f" in {context}"
        if expected:
            message += f", expected {expected}"
        self.fail(tok.pos, message)

    # Grammar.
    def parse(self) -> _Node | None:
        if self.peek().typ is T.EOF:
            self.fail(0, "no expression found in input")
        node = self.expr(0)
        if self.peek().typ is not T.EOF:
            self.unexpected()
        return node

    def expr(self, min_prec: int) -> _Node:
        lhs = self.unary()
        while (op := self.peek()).typ in _PRECEDENCE and _PRECEDENCE[op.typ] >= min_prec:
            self.take()
            node = _Node(lhs.start, "binary", op=op)
            self.bin_modifiers(node)
            prec = _PRECEDENCE[op.typ]
            node.children = [lhs, self.expr(prec if op.typ is T.POW else prec + 1)]
            lhs = node
        return lhs

    def bin_modifiers(self, node: _Node) -> None:
        if self.peek().typ is T.BOOL:
            self.take()
            node.bool_ = True
        if self.peek().typ in (T.ON, T.IGNORING):
            node.on = self.take().typ is T.ON
            node.matching = self.grouping_labels()
            if self.peek().typ in (T.GROUP_LEFT, T.GROUP_RIGHT):
                self.take()
                node.grouped = True
                if self.peek().typ is T.LEFT_PAREN:
                    node.include = self.grouping_labels()

    def grouping_labels(self) -> list[str]:
        if self.peek().typ is not T.LEFT_PAREN:
            self.unexpected("grouping opts", '"("')
        self.take()
        labels: list[str] = []
        while self.peek().typ is not T.RIGHT_PAREN:
            tok = self.peek()
            if tok.typ not in _LABEL_TOKENS:
                self.unexpected("grouping opts", "label")
            label = _unquote(tok.val) if tok.typ is T.STRING else tok.val
            if tok.typ is not T.STRING and not _LABEL_NAME.fullmatch(label):
                self.unexpected("grouping opts", "label")
            labels.append(label)
            self.take()
            if self.peek().typ is T.COMMA:
                self.take()
            elif self.peek().typ is not T.RIGHT_PAREN:
                self.unexpected("grouping opts", '"," or ")"')
        self.take()
        return labels

    def unary(self) -> _Node:
        if self.peek().typ in (T.ADD, T.SUB):
            op = self.take()
            operand = self.expr(_PRECEDENCE[T.POW])
            if operand.kind == "number":
                operand.start = op.pos
                return operand
            return _Node(op.pos, "unary", [operand], op=op)
        return self.postfix(self.primary())

    def primary(self) -> _Node:
        tok = self.peek()
        if tok.typ in (T.NUMBER, T.DURATION):
            self.take()
            self.check_number(tok)
            return _Node(tok.pos, "number")
        if tok.typ is T.STRING:
            self.take()
            return _Node(tok.pos, "string")
        if tok.typ is T.LEFT_PAREN:
            self.take()
            inner = self.expr(0)
            if self.peek().typ is not T.RIGHT_PAREN:
                self.unexpected()
            self.take()
            return _Node(tok.pos, "paren", [inner])
        if tok.typ is T.LEFT_BRACE:
            node = _Node(tok.pos, "selector")
            self.label_matchers(node)
            return node
        nxt = self.tokens[self.i + 1].typ if self.i + 1 < len(self.tokens) else T.EOF
        if tok.typ is T.AGGREGATOR and nxt in (T.LEFT_PAREN, T.BY, T.WITHOUT):
            return self.aggregate()
        if tok.typ in (T.IDENTIFIER, T.START, T.END) and nxt is T.LEFT_PAREN:
            return self.call()
        if tok.typ in _METRIC_KEYWORDS:
            self.take()
            node = _Node(tok.pos, "selector", name=tok.val)
            if self.peek().typ is T.LEFT_BRACE:
                self.label_matchers(node)
            node.matchers.append(("__name__", T.EQL, tok.val))
            return node
        self.unexpected()

    def check_number(self, tok: Token) -> None:
        if tok.typ is T.DURATION:
            if not _DURATION.fullmatch(tok.val) or tok.val == "":
                self.error(tok.pos, f"not a valid duration string: {go_quote(tok.val)}")
            return
        try:
            value = float(tok.val.replace("_", "")) if "x" not in tok.val.lower() else 0.0
        except ValueError:
            return
        if math.isinf(value) and "inf" not in tok.val.lower():
            self.error(
                tok.pos,
                f"error parsing number: strconv.ParseFloat: parsing {go_quote(tok.val)}: value out of range",
            )

    def label_matchers(self, node: _Node) -> None:
        self.take()  # {
        while self.peek().typ is not T.RIGHT_BRACE:
            tok = self.peek()
            if tok.typ not in (T.IDENTIFIER, T.STRING):
                self.unexpected("label matching", 'identifier or "}"')
            self.take()
            name = tok.val if tok.typ is T.IDENTIFIER else _unquote(tok.val)
            if tok.typ is T.STRING and self.peek().typ not in _MATCH_OPS:
                node.matchers.append(("__name__", T.EQL, name))
            else:
                if self.peek().typ not in _MATCH_OPS:
                    self.unexpected("label matching", "label matching operator")
                op = self.take().typ
                if self.peek().typ is not T.STRING:
                    self.unexpected("label matching", "string")
                node.matchers.append((name, op, _unquote(self.take().val)))
            if self.peek().typ is T.COMMA:
                self.take()
            elif self.peek().typ is not T.RIGHT_BRACE:
                self.unexpected("label matching", '"," or "}"')
        self.take()

    def arguments(self) -> list[_Node]:
        self.take()  # (
        args: list[_Node] = []
        while self.peek().typ is not T.RIGHT_PAREN:
            args.append(self.expr(0))
            if self.peek().typ is T.COMMA:
                comma = self.take()
                if self.peek().typ is T.RIGHT_PAREN:
                    self.error(comma.pos, "trailing commas not allowed in function call args")
            elif self.peek().typ is not T.RIGHT_PAREN:
                self.unexpected()
        self.take()
        return args

    def call(self) -> _Node:
        name = self.take()
        if name.val not in FUNCTIONS:
            self.error(name.pos, f"unknown function with name {go_quote(name.val)}")
        return _Node(name.pos, "call", self.arguments(), func=name.val)

    def aggregate(self) -> _Node:
        op = self.take()
        node = _Node(op.pos, "aggregate", op=op)
        modifier_first = self.peek().typ in (T.BY, T.WITHOUT)
        if modifier_first:
            self.take()
            self.grouping_labels()
        if self.peek().typ is not T.LEFT_PAREN:
            self.unexpected("aggregation")
        args = self.arguments()
        if not modifier_first and self.peek().typ in (T.BY, T.WITHOUT):
            self.take()
            self.grouping_labels()
        wanted = (
            2
            if op.val.lower() in ("topk", "bottomk", "count_values", "quantile", "limitk", "limit_ratio")
            else 1
        )
        if not args:
            self.error(op.pos, "no arguments for aggregate expression provided")
        elif len(args) != wanted:
            self.error(
                op.pos,
                "wrong number of arguments for aggregate expression provided, "
                f"expected {wanted}, got {len(args)}",
            )
        node.children = args
        return node

    def postfix(self, node: _Node) -> _Node:
        while True:
            tok = self.peek()
            if tok.typ is T.LEFT_BRACKET:
                node = self.range_or_subquery(node)
            elif tok.typ is T.OFFSET:
                self.take()
                if self.peek().typ is T.SUB:
                    self.take()
                if self.peek().typ not in (T.NUMBER, T.DURATION):
                    self.unexpected("offset", "number or duration")
                self.check_number(self.take())
                self.set_modifier(node, "offset")
            elif tok.typ is T.AT:
                self.take()
                self.at_modifier(node)
            else:
                return node

    def range_or_subquery(self, node: _Node) -> _Node:
        bracket = self.take()
        if self.peek().typ not in (T.NUMBER, T.DURATION):
            self.unexpected("subquery selector", "number or duration")
        self.check_number(self.take())
        if self.peek().typ is T.RIGHT_BRACKET:
            self.take()
            message = ""
            if node.kind != "selector":
                message = "ranges only allowed for vector selectors"
            elif node.offset:
                message = "no offset modifiers allowed before range"
            elif node.at:
                message = "no @ modifiers allowed before range"
            if message:
                self.error(bracket.pos, message)
            return _Node(node.start, "matrix", [node])
        if self.peek().typ is not T.COLON:
            self.unexpected("subquery or range", '":" or "]"')
        self.take()
        if self.peek().typ in (T.NUMBER, T.DURATION):
            self.check_number(self.take())
            if self.peek().typ is not T.RIGHT_BRACKET:
                self.unexpected("subquery selector", '"]"')
        elif self.peek().typ is not T.RIGHT_BRACKET:
            self.unexpected("subquery selector", 'number or duration or "]"')
        self.take()
        return _Node(node.start, "subquery", [node])

    def at_modifier(self, node: _Node) -> None:
        tok = self.peek()
        if tok.typ in (T.START, T.END):
            self.take()
            if self.peek().typ is not T.LEFT_PAREN:
                self.unexpected()
            self.take()
            if self.peek().typ is not T.RIGHT_PAREN:
                self.unexpected()
            self.take()
        else:
            sign = 1.0
            if tok.typ in (T.ADD, T.SUB):
                sign = -1.0 if self.take().typ is T.SUB else 1.0
            if self.peek().typ not in (T.NUMBER, T.DURATION):
                self.unexpected("@", "timestamp")
            number = self.take()
            self.check_number(number)
            value = _float(number.val) * sign
            if math.isinf(value) or math.isnan(value):
                shown = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
                self.error(node.start, f"timestamp out of bounds for @ modifier: {shown}")
        self.set_modifier(node, "at")

    def set_modifier(self, node: _Node, which: str) -> None:
        target = node.children[0] if node.kind == "matrix" else node
        if node.kind not in ("selector", "matrix", "subquery"):
            name = "offset modifier" if which == "offset" else "@ modifier"
            self.error(
                node.start,
                f"{name} must be preceded by an instant vector selector or range vector selector "
                "or a subquery",
            )
        elif which == "offset":
            if target.offset:
                self.error(node.start, "offset may not be set multiple times")
            target.offset = True
        else:
            if target.at:
                self.error(node.start, "@ <timestamp> may not be set multiple times")
            target.at = True


class _Checker:
    """Prometheus' checkAST: the type errors it reports at parse time, in its order."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.errors: list[SyntaxError_] = []

    def error(self, pos: int, message: str) -> None:
        self.errors.append(SyntaxError_(pos, message, self.query))

    def expect(self, node: _Node, want: Type, context: str) -> None:
        got = self.check(node)
        if got != want:
            self.error(node.start, f"expected type {_DOC[want]} in {context}, got {_DOC[got]}")

    def check(self, n: _Node) -> Type:
        typ = n.type()
        match n.kind:
            case "aggregate":
                self.aggregate(n)
            case "binary":
                self.binary(n)
            case "call":
                self.call(n)
            case "paren" | "matrix":
                self.check(n.children[0])
            case "unary":
                got = self.check(n.children[0])
                if got not in ("scalar", "vector"):
                    message = "unary expression only allowed on expressions of type scalar or instant vector"
                    self.error(n.start, f'{message}, got "{_DOC[got]}"')
            case "subquery":
                got = self.check(n.children[0])
                if got != "vector":
                    self.error(n.start, f"subquery is only allowed on instant vector, got {got} instead")
            case "selector":
                self.selector(n)
        return typ

    def aggregate(self, n: _Node) -> None:
        assert n.op is not None
        op = n.op.val.lower()
        self.expect(n.children[-1], "vector", "aggregation expression")
        if op in ("topk", "bottomk", "quantile", "limitk", "limit_ratio"):
            self.expect(n.children[0], "scalar", "aggregation parameter")
        if op == "count_values":
            self.expect(n.children[0], "string", "aggregation parameter")

    def binary(self, n: _Node) -> None:
        assert n.op is not None
        op = n.op.typ
        lhs, rhs = n.children
        lt, rt = self.check(lhs), self.check(rhs)
        if n.bool_ and op not in _COMPARISONS:
            self.error(n.op.pos, "bool modifier can only be used on comparison operators")
        if op in _COMPARISONS and not n.bool_ and lt == rt == "scalar":
            self.error(n.op.pos, "comparisons between scalars must use BOOL modifier")
        if n.on:
            for label in n.matching:
                if label in n.include:
                    self.error(
                        n.op.pos, f"label {go_quote(label)} must not occur in ON and GROUP clause at once"
                    )
        if lt not in ("scalar", "vector"):
            self.error(lhs.start, "binary expression must contain only scalar and instant vector types")
        if rt not in ("scalar", "vector"):
            self.error(rhs.start, "binary expression must contain only scalar and instant vector types")
        op_name = go_quote(n.op.val.lower())
        if lt != "vector" or rt != "vector":
            if n.matching:
                self.error(n.start, "vector matching only allowed between instant vectors")
        elif op in _SET_OPS and n.grouped:
            self.error(n.start, f"no grouping allowed for {op_name} operation")
            self.error(n.start, "set operations must always be many-to-many")
        if "scalar" in (lt, rt) and op in _SET_OPS:
            self.error(n.start, f"set operator {op_name} not allowed in binary scalar expression")

    def call(self, n: _Node) -> None:
        if n.func not in FUNCTIONS:
            return
        arg_types, variadic, _ = FUNCTIONS[n.func]
        nargs, got = len(arg_types), len(n.children)
        name = go_quote(n.func)
        if variadic == 0:
            if nargs != got:
                self.error(n.start, f"expected {nargs} argument(s) in call to {name}, got {got}")
        else:
            least = nargs - 1
            if least > got:
                self.error(n.start, f"expected at least {least} argument(s) in call to {name}, got {got}")
            elif variadic > 0 and least + variadic < got:
                most = least + variadic
                self.error(n.start, f"expected at most {most} argument(s) in call to {name}, got {got}")
        for i, arg in enumerate(n.children):
            if i >= nargs:
                if variadic == 0:
                    break
                i = nargs - 1
            want = arg_types[i]
            if (t := self.check(arg)) != want:
                self.error(arg.start, f"expected type {_DOC[want]} in call to function {name}, got {_DOC[t]}")

    def selector(self, n: _Node) -> None:
        if n.name:
            for label, _, value in n.matchers[:-1]:
                if label == "__name__":
                    message = f"metric name must not be set twice: {go_quote(n.name)} or {go_quote(value)}"
                    self.error(n.start, message)
            return
        if not any(not _matches_empty(op, value) for _, op, value in n.matchers):
            self.error(n.start, "vector selector must contain at least one non-empty matcher")


def _matches_empty(op: T, value: str) -> bool:
    if op in (T.EQL, T.NEQ):
        return (value == "") == (op is T.EQL)
    try:
        matched = promql_regex(value).search("")
    except RegexpError:
        return False  # the parser reports the bad pattern; this check raises no second alarm
    return matched == (op is T.EQL_REGEX)


def _float(text: str) -> float:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return 0.0


def _unquote(quoted: str) -> str:
    body = quoted[1:-1]
    if quoted.startswith("`"):
        return body
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return body


def syntax_error(query: str) -> SyntaxError_ | None:
    """The first syntax or parse-time type error in `query` as Prometheus reports it, or None."""
    parser = _Parser(query)
    root: _Node | None = None
    with contextlib.suppress(_Abort):
        root = parser.parse()
    if parser.errors:
        return parser.errors[0]
    if root is None:
        return None
    checker = _Checker(query)
    checker.check(root)
    return checker.errors[0] if checker.errors else None
