"""A port of Prometheus' PromQL lexer (promql/parser/lex.go), for error messages in Prometheus' words.

Only what an expression needs: series descriptions (promtool's test syntax) are left out, and the
experimental fill/smoothed/anchored/step/range keywords lex as plain identifiers.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias


class T(enum.Enum):
    ERROR = enum.auto()
    EOF = enum.auto()
    COMMENT = enum.auto()
    IDENTIFIER = enum.auto()
    METRIC_IDENTIFIER = enum.auto()
    STRING = enum.auto()
    NUMBER = enum.auto()
    DURATION = enum.auto()
    LEFT_PAREN = enum.auto()
    RIGHT_PAREN = enum.auto()
    LEFT_BRACE = enum.auto()
    RIGHT_BRACE = enum.auto()
    LEFT_BRACKET = enum.auto()
    RIGHT_BRACKET = enum.auto()
    COMMA = enum.auto()
    EQL = enum.auto()
    COLON = enum.auto()
    # Operators.
    ADD = enum.auto()
    SUB = enum.auto()
    MUL = enum.auto()
    DIV = enum.auto()
    MOD = enum.auto()
    POW = enum.auto()
    EQLC = enum.auto()
    NEQ = enum.auto()
    LTE = enum.auto()
    LSS = enum.auto()
    GTE = enum.auto()
    GTR = enum.auto()
    # The native-histogram trim operators `</` and `>/`.
    TRIM_UPPER = enum.auto()
    TRIM_LOWER = enum.auto()
    EQL_REGEX = enum.auto()
    NEQ_REGEX = enum.auto()
    AT = enum.auto()
    LAND = enum.auto()
    LOR = enum.auto()
    LUNLESS = enum.auto()
    ATAN2 = enum.auto()
    # Aggregators.
    AGGREGATOR = enum.auto()
    # Keywords.
    OFFSET = enum.auto()
    BY = enum.auto()
    WITHOUT = enum.auto()
    ON = enum.auto()
    IGNORING = enum.auto()
    GROUP_LEFT = enum.auto()
    GROUP_RIGHT = enum.auto()
    BOOL = enum.auto()
    # Preprocessors of the @ modifier.
    START = enum.auto()
    END = enum.auto()


OPERATORS = frozenset(
    {T.ADD, T.SUB, T.MUL, T.DIV, T.MOD, T.POW, T.EQLC, T.NEQ, T.LTE, T.LSS, T.GTE, T.GTR}
    | {T.TRIM_UPPER, T.TRIM_LOWER}
    | {T.EQL_REGEX, T.NEQ_REGEX, T.AT, T.LAND, T.LOR, T.LUNLESS, T.ATAN2}
)
KEYWORDS = frozenset({T.OFFSET, T.BY, T.WITHOUT, T.ON, T.IGNORING, T.GROUP_LEFT, T.GROUP_RIGHT, T.BOOL})
AGGREGATORS = frozenset(
    {"sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk"}
    | {"count_values", "quantile", "limitk", "limit_ratio"}
)
_KEY: dict[str, T] = {
    "and": T.LAND,
    "or": T.LOR,
    "unless": T.LUNLESS,
    "atan2": T.ATAN2,
    "offset": T.OFFSET,
    "by": T.BY,
    "without": T.WITHOUT,
    "on": T.ON,
    "ignoring": T.IGNORING,
    "group_left": T.GROUP_LEFT,
    "group_right": T.GROUP_RIGHT,
    "bool": T.BOOL,
    "start": T.START,
    "end": T.END,
    "inf": T.NUMBER,
    "nan": T.NUMBER,
} | {name: T.AGGREGATOR for name in AGGREGATORS}
# Item types Prometheus' ItemTypeStr knows, whose description is the bare item.
_NAMED = frozenset(
    OPERATORS
    | KEYWORDS
    | {T.AGGREGATOR, T.START, T.END, T.LEFT_PAREN, T.RIGHT_PAREN, T.LEFT_BRACE, T.RIGHT_BRACE}
    | {T.LEFT_BRACKET, T.RIGHT_BRACKET, T.COMMA, T.EQL, T.COLON}
)
_TYPE_DESC = {
    T.ERROR: "error",
    T.EOF: "end of input",
    T.COMMENT: "comment",
    T.IDENTIFIER: "identifier",
    T.METRIC_IDENTIFIER: "metric identifier",
    T.STRING: "string",
    T.NUMBER: "number",
    T.DURATION: "duration",
}
# The functions of duration expressions (promql-duration-expr), in any case: `[step()+1m]`.
DURATION_KEYWORDS = frozenset({"step", "range", "min_of", "max_of"})
_DURATION_KEYWORD_STARTS = frozenset(word[0] for word in DURATION_KEYWORDS)
_State: TypeAlias = Callable[[], "_State"]
_EOF = ""
_SPACE = " \t\n\r"
_DIGITS = "0123456789"


def go_quote(s: str) -> str:
    """Go's %q of a string (close enough: Go escapes the same printable ASCII)."""
    return json.dumps(s, ensure_ascii=False)


def go_quote_rune(r: str) -> str:
    """Go's %q of a rune; the end of input is Go's utf8.RuneError."""
    if r == _EOF:
        return "'\ufffd'"
    if r == "'":
        return "'\\''"
    if r == '"':
        return "'\"'"
    return "'" + json.dumps(r, ensure_ascii=False)[1:-1] + "'"


@dataclass(frozen=True)
class Token:
    typ: T
    pos: int
    val: str

    def __str__(self) -> str:
        if self.typ is T.EOF:
            return "EOF"
        if self.typ is T.ERROR:
            return self.val
        if self.typ in (T.IDENTIFIER, T.METRIC_IDENTIFIER):
            return go_quote(self.val)
        if self.typ in KEYWORDS:
            return f"<{self.val}>"
        if self.typ in OPERATORS:
            return f"<op:{self.val}>"
        if self.typ is T.AGGREGATOR:
            return f"<aggr:{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)

    def desc(self) -> str:
        """How Prometheus names this item in "unexpected ..." messages."""
        if self.typ in _NAMED:
            return str(self)
        if self.typ is T.EOF:
            return "end of input"
        return f"{_TYPE_DESC[self.typ]} {self}"


def _is_alpha(r: str) -> bool:
    return r == "_" or "a" <= r <= "z" or "A" <= r <= "Z"


def _is_digit(r: str) -> bool:
    return r != _EOF and r in _DIGITS


def _is_alnum(r: str) -> bool:
    return _is_alpha(r) or _is_digit(r)


def _is_space(r: str) -> bool:
    return r != _EOF and r in _SPACE


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.paren_depth = 0
        self.brace_open = False
        self.bracket_open = False
        self.got_colon = False
        self.got_duration = False
        self.string_open = ""
        self.tokens: list[Token] = []
        self.done = False

    # Rune helpers; the end of input is "".
    def next(self) -> str:
        if self.pos >= len(self.text):
            self.pos += 1  # so that backup() is symmetric
            return _EOF
        r = self.text[self.pos]
        self.pos += 1
        return r

    def backup(self) -> None:
        self.pos -= 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else _EOF

    def accept(self, valid: str) -> bool:
        r = self.next()
        if r != _EOF and r in valid:
            return True
        self.backup()
        return False

    def is_(self, valid: str) -> bool:
        r = self.peek()
        return r != _EOF and r in valid

    def emit(self, typ: T) -> None:
        self.tokens.append(Token(typ, self.start, self.text[self.start : self.pos]))
        self.start = self.pos

    def errorf(self, message: str) -> None:
        self.tokens.append(Token(T.ERROR, self.start, message))
        self.done = True

    def replace_with_error(self, message: str) -> None:
        """Go's lexer writes an error over the item it has just emitted in the same step."""
        self.tokens.pop()
        self.errorf(message)

    def run(self) -> list[Token]:
        state = self.statements
        while not self.done:
            state = state()
        return self.tokens

    def statements(self) -> _State:
        if self.brace_open:
            return self.inside_braces
        if self.text.startswith("#", self.pos):
            return self.line_comment
        r = self.next()
        if r == _EOF:
            self.backup()
            if self.paren_depth != 0:
                self.errorf("unclosed left parenthesis")
            elif self.bracket_open:
                self.errorf("unclosed left bracket")
            else:
                self.emit(T.EOF)
                self.done = True
            return self.statements
        simple = {",": T.COMMA, "*": T.MUL, "/": T.DIV, "%": T.MOD, "+": T.ADD, "-": T.SUB, "^": T.POW}
        if r in simple:
            self.emit(simple[r])
        elif _is_space(r):
            return self.space
        elif r == "=":
            t = self.peek()
            if t == "=":
                self.next()
                self.emit(T.EQLC)
            elif t == "~":
                self.errorf(f"unexpected character after '=': {go_quote_rune(t)}")
            else:
                self.emit(T.EQL)
        elif r == "!":
            t = self.next()
            if t != "=":
                self.errorf(f"unexpected character after '!': {go_quote_rune(t)}")
            else:
                self.emit(T.NEQ)
        elif r in "<>":
            if self.peek() == "=":
                self.next()
                self.emit(T.LTE if r == "<" else T.GTE)
            elif self.peek() == "/":
                self.next()
                self.emit(T.TRIM_UPPER if r == "<" else T.TRIM_LOWER)
            else:
                self.emit(T.LSS if r == "<" else T.GTR)
        elif _is_digit(r) or (r == "." and _is_digit(self.peek())):
            self.backup()
            return self.number_or_duration
        elif r in "\"'":
            self.string_open = r
            return self.string
        elif r == "`":
            self.string_open = r
            return self.raw_string
        elif _is_alpha(r) or r == ":":
            if not self.bracket_open:
                self.backup()
                return self.keyword_or_identifier
            self.errorf(f"unexpected character: {go_quote_rune(r)}, expected ':'")
        elif r == "(":
            self.emit(T.LEFT_PAREN)
            self.paren_depth += 1
        elif r == ")":
            self.emit(T.RIGHT_PAREN)
            self.paren_depth -= 1
            if self.paren_depth < 0:
                self.replace_with_error(f"unexpected right parenthesis {go_quote_rune(r)}")
        elif r == "{":
            self.emit(T.LEFT_BRACE)
            self.brace_open = True
            return self.inside_braces
        elif r == "[":
            if self.bracket_open:
                self.errorf(f"unexpected left bracket {go_quote_rune(r)}")
                return self.statements
            self.got_colon = False
            self.got_duration = False
            self.emit(T.LEFT_BRACKET)
            self.skip_spaces()
            self.bracket_open = True
            return self.duration_expr
        elif r == "]":
            if not self.bracket_open:
                self.errorf(f"unexpected right bracket {go_quote_rune(r)}")
            else:
                self.emit(T.RIGHT_BRACKET)
                self.bracket_open = False
        elif r == "@":
            self.emit(T.AT)
        else:
            self.errorf(f"unexpected character: {go_quote_rune(r)}")
        return self.statements

    def inside_braces(self) -> _State:
        if self.text.startswith("#", self.pos):
            return self.line_comment
        r = self.next()
        if r == _EOF:
            self.backup()
            self.errorf("unexpected end of input inside braces")
        elif _is_space(r):
            return self.space
        elif _is_alpha(r):
            self.backup()
            return self.identifier
        elif r == ",":
            self.emit(T.COMMA)
        elif r in "\"'":
            self.string_open = r
            return self.string
        elif r == "`":
            self.string_open = r
            return self.raw_string
        elif r == "=":
            if self.next() == "~":
                self.emit(T.EQL_REGEX)
            else:
                self.backup()
                self.emit(T.EQL)
        elif r == "!":
            nr = self.next()
            if nr == "~":
                self.emit(T.NEQ_REGEX)
            elif nr == "=":
                self.emit(T.NEQ)
            else:
                self.errorf(f"unexpected character after '!' inside braces: {go_quote_rune(nr)}")
        elif r == "{":
            self.errorf(f"unexpected left brace {go_quote_rune(r)}")
        elif r == "}":
            self.emit(T.RIGHT_BRACE)
            self.brace_open = False
            return self.statements
        else:
            self.errorf(f"unexpected character inside braces: {go_quote_rune(r)}")
        return self.inside_braces

    def duration_expr(self) -> _State:
        r = self.next()
        if r == _EOF:
            self.backup()
            self.errorf("unexpected end of input in duration expression")
        elif r == "]":
            self.emit(T.RIGHT_BRACKET)
            self.bracket_open = False
            self.got_colon = False
            return self.statements
        elif r == ":":
            self.emit(T.COLON)
            if not self.got_duration:
                self.replace_with_error("unexpected colon before duration in duration expression")
            elif self.got_colon:
                self.replace_with_error("unexpected repeated colon in duration expression")
            self.got_colon = True
        elif r == "(":
            self.emit(T.LEFT_PAREN)
            self.paren_depth += 1
        elif r == ")":
            self.emit(T.RIGHT_PAREN)
            self.paren_depth -= 1
            if self.paren_depth < 0:
                self.replace_with_error(f"unexpected right parenthesis {go_quote_rune(r)}")
        elif _is_space(r):
            self.skip_spaces()
        elif r in "+-*/%^,":
            ops = {"+": T.ADD, "-": T.SUB, "*": T.MUL, "/": T.DIV, "%": T.MOD, "^": T.POW, ",": T.COMMA}
            self.emit(ops[r])
        elif r.lower() in _DURATION_KEYWORD_STARTS:
            if not self.scan_duration_keyword():
                self.errorf(f"unexpected character in duration expression: {go_quote_rune(r)}")
        elif _is_digit(r) or (r == "." and _is_digit(self.peek())):
            self.backup()
            self.got_duration = True
            self.number_or_duration()
        else:
            self.errorf(f"unexpected character in duration expression: {go_quote_rune(r)}")
        return self.duration_expr

    def scan_duration_keyword(self) -> bool:
        """step, range, min_of or max_of in a duration expression; lexed as an identifier."""
        while _is_alpha(self.next()):
            pass
        self.backup()
        if self.text[self.start : self.pos].lower() not in DURATION_KEYWORDS:
            return False
        self.emit(T.IDENTIFIER)
        return True

    def space(self) -> _State:
        self.skip_spaces()
        return self.statements

    def skip_spaces(self) -> None:
        while _is_space(self.peek()):
            self.next()
        self.start = self.pos

    def line_comment(self) -> _State:
        end = self.pos
        while end < len(self.text) and self.text[end] not in "\r\n":
            end += 1
        self.pos = end
        self.emit(T.COMMENT)
        return self.statements

    def escape(self) -> bool:
        """Scan an escape sequence after its backslash; False when it is invalid (error emitted)."""
        ch = self.next()
        if ch != _EOF and ch in "abfnrtv\\" + self.string_open:
            return True
        if ch == _EOF:
            self.backup()
            self.errorf("escape sequence not terminated")
            return False
        if ch in "01234567":
            n, base, max_val = 3, 8, 255
        elif ch in "xuU":
            n, base, max_val = {"x": (2, 16, 255), "u": (4, 16, 0x10FFFF), "U": (8, 16, 0x10FFFF)}[ch]
            ch = self.next()
        else:
            self.errorf(f"unknown escape sequence U+{ord(ch):04X} {go_quote_rune(ch)}")
            return False
        x = 0
        while n > 0:
            d = int(ch, 16) if ch != _EOF and ch in "0123456789abcdefABCDEF" else 16
            if d >= base:
                if ch == _EOF:
                    self.backup()
                    self.errorf("escape sequence not terminated")
                else:
                    self.errorf(f"illegal character U+{ord(ch):04X} {go_quote_rune(ch)} in escape sequence")
                return False
            x = x * base + d
            n -= 1
            if n > 0:
                ch = self.next()
        if x > max_val or 0xD800 <= x < 0xE000:
            self.errorf("escape sequence is an invalid Unicode code point")
            return False
        return True

    def string(self) -> _State:
        while True:
            r = self.next()
            if r == "\\":
                if not self.escape():
                    return self.statements
            elif r in (_EOF, "\n"):
                self.backup()
                self.errorf("unterminated quoted string")
                return self.statements
            elif r == self.string_open:
                break
        self.emit(T.STRING)
        return self.statements

    def raw_string(self) -> _State:
        end = self.text.find(self.string_open, self.pos)
        if end < 0:
            self.errorf("unterminated raw string")
            return self.statements
        self.pos = end + 1
        self.emit(T.STRING)
        return self.statements

    def number_or_duration(self) -> _State:
        if self.scan_number():
            self.emit(T.NUMBER)
            return self.statements
        if self.accept_remaining_duration():
            self.backup()
            self.emit(T.DURATION)
            return self.statements
        self.errorf(f"bad number or duration syntax: {go_quote(self.text[self.start : self.pos])}")
        return self.statements

    def accept_remaining_duration(self) -> bool:
        if not self.accept("smhdwy"):
            return False
        self.accept("s")
        while self.accept(_DIGITS):
            while self.accept(_DIGITS):
                pass
            if not self.accept("smhdw"):
                return False
            self.accept("s")
        return not _is_alnum(self.next())

    def scan_number(self) -> bool:
        initial = self.pos
        digits = _DIGITS
        if self.accept("0") and self.accept("xX"):
            self.accept("_")
            digits = "0123456789abcdefABCDEF"
        self.accept(".")
        self.accept(digits)
        dot = exponent = False
        while self.is_(digits + "._eE"):
            if self.is_(".") and dot:
                self.accept(".")
                return False
            if self.is_("eE") and exponent:
                self.accept("eE")
                return False
            if self.accept("."):
                dot = True
                if self.accept("_.") or len(digits) > 10:
                    return False
                continue
            if self.accept("eE"):
                exponent = True
                self.accept("+-")
                if self.accept("._eE") or self.peek() == _EOF:
                    return False
                continue
            if self.accept("_"):
                if self.accept("._eE") or self.peek() == _EOF:
                    return False
                continue
            while self.accept(digits):
                pass
        if self.pos == initial:
            return False
        return not _is_alnum(self.peek())

    def identifier(self) -> _State:
        while _is_alnum(self.next()):
            pass
        self.backup()
        self.emit(T.IDENTIFIER)
        return self.inside_braces

    def keyword_or_identifier(self) -> _State:
        while True:
            r = self.next()
            if not (_is_alnum(r) or r == ":"):
                break
        self.backup()
        word = self.text[self.start : self.pos]
        kw = _KEY.get(word.lower())
        if kw is not None:
            self.emit(kw)
        elif ":" not in word:
            self.emit(T.IDENTIFIER)
        else:
            self.emit(T.METRIC_IDENTIFIER)
        return self.statements


def lex(text: str) -> list[Token]:
    """All tokens of `text`, ending with EOF or with the first ERROR."""
    return _Lexer(text).run()
