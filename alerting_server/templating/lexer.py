"""Tokens of Go's text/template, scanned exactly as text/template/parse/lex.go scans them."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from alerting_server.templating.strconv import go_quote

LEFT_DELIM = "{{"
RIGHT_DELIM = "}}"
LEFT_COMMENT = "/*"
RIGHT_COMMENT = "*/"
SPACE_CHARS = " \t\r\n"
TRIM_MARKER_LEN = 2  # the '-' plus the space beside it


class T(enum.IntEnum):
    """Token types; those above KEYWORD print as `<word>` in error messages, as in Go."""

    ERROR = enum.auto()
    BOOL = enum.auto()
    CHAR = enum.auto()
    CHAR_CONSTANT = enum.auto()
    COMMENT = enum.auto()
    COMPLEX = enum.auto()
    ASSIGN = enum.auto()
    DECLARE = enum.auto()
    EOF = enum.auto()
    FIELD = enum.auto()
    IDENTIFIER = enum.auto()
    LEFT_DELIM = enum.auto()
    LEFT_PAREN = enum.auto()
    NUMBER = enum.auto()
    PIPE = enum.auto()
    RAW_STRING = enum.auto()
    RIGHT_DELIM = enum.auto()
    RIGHT_PAREN = enum.auto()
    SPACE = enum.auto()
    STRING = enum.auto()
    TEXT = enum.auto()
    VARIABLE = enum.auto()
    KEYWORD = enum.auto()
    BLOCK = enum.auto()
    BREAK = enum.auto()
    CONTINUE = enum.auto()
    DOT = enum.auto()
    DEFINE = enum.auto()
    ELSE = enum.auto()
    END = enum.auto()
    IF = enum.auto()
    NIL = enum.auto()
    RANGE = enum.auto()
    TEMPLATE = enum.auto()
    WITH = enum.auto()


KEYWORDS = {
    ".": T.DOT,
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "range": T.RANGE,
    "nil": T.NIL,
    "template": T.TEMPLATE,
    "with": T.WITH,
}


@dataclass(frozen=True)
class Token:
    typ: T
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ == T.EOF:
            return "EOF"
        if self.typ == T.ERROR:
            return self.val
        if self.typ > T.KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def go_rune_repr(ch: str) -> str:
    """Go's %#U: `U+00A0 ' '` for printable runes, `U+0000` otherwise."""
    code = f"U+{ord(ch):04X}"
    return f"{code} '{ch}'" if ch.isprintable() else code


def is_space(ch: str) -> bool:
    return ch != "" and ch in SPACE_CHARS


def is_alnum(ch: str) -> bool:
    return ch != "" and (ch == "_" or ch.isalpha() or ch.isdigit())


def _has_left_trim_marker(s: str) -> bool:
    return len(s) >= 2 and s[0] == "-" and is_space(s[1])


def _has_right_trim_marker(s: str) -> bool:
    return len(s) >= 2 and is_space(s[0]) and s[1] == "-"


class _LexError(Exception):
    pass


class Lexer:
    """Yields tokens lazily; an ERROR token ends the stream, as in Go."""

    def __init__(self, text: str, *, break_ok: bool = True, continue_ok: bool = True) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.paren_depth = 0
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self._tokens = self._run()

    def next_token(self) -> Token:
        try:
            return next(self._tokens)
        except StopIteration:
            return Token(T.EOF, len(self.input), "", self._line(len(self.input)))

    def _line(self, pos: int) -> int:
        return 1 + self.input.count("\n", 0, pos)

    # -- primitive scanning --------------------------------------------------------------------

    def _next(self) -> str:
        if self.pos >= len(self.input):
            self.pos = len(self.input) + 1  # so that _backup restores EOF symmetrically
            return ""
        ch = self.input[self.pos]
        self.pos += 1
        return ch

    def _backup(self) -> None:
        self.pos -= 1

    def _peek(self) -> str:
        return self.input[self.pos] if self.pos < len(self.input) else ""

    def _accept(self, valid: str) -> bool:
        ch = self._peek()
        if ch != "" and ch in valid:
            self.pos += 1
            return True
        return False

    def _accept_run(self, valid: str) -> None:
        while self._accept(valid):
            pass

    def _emit(self, typ: T) -> Token:
        tok = Token(typ, self.start, self.input[self.start : self.pos], self._line(self.start))
        self.start = self.pos
        return tok

    def _ignore(self) -> None:
        self.start = self.pos

    def _error(self, message: str) -> _LexError:
        return _LexError(message)

    def _at_right_delim(self) -> tuple[bool, bool]:
        rest = self.input[self.pos :]
        if _has_right_trim_marker(rest) and rest[TRIM_MARKER_LEN:].startswith(RIGHT_DELIM):
            return True, True
        if rest.startswith(RIGHT_DELIM):
            return True, False
        return False, False

    def _at_terminator(self) -> bool:
        ch = self._peek()
        if ch == "" or is_space(ch) or ch in ".,|:)(":
            return True
        return self.input.startswith(RIGHT_DELIM, self.pos)

    # -- states ----------------------------------------------------------------------------------

    def _run(self) -> Iterator[Token]:
        try:
            yield from self._lex()
        except _LexError as err:
            yield Token(T.ERROR, self.start, str(err), self._line(self.start))

    def _lex(self) -> Iterator[Token]:
        while True:
            # Text up to the next left delimiter.
            x = self.input.find(LEFT_DELIM, self.pos)
            if x < 0:
                self.pos = len(self.input)
                if self.pos > self.start:
                    yield self._emit(T.TEXT)
                yield self._emit(T.EOF)
                return
            if x > self.pos:
                self.pos = x
                trim = 0
                delim_end = self.pos + len(LEFT_DELIM)
                if _has_left_trim_marker(self.input[delim_end:]):
                    text = self.input[self.start : self.pos]
                    trim = len(text) - len(text.rstrip(SPACE_CHARS))
                self.pos -= trim
                tok = Token(T.TEXT, self.start, self.input[self.start : self.pos], self._line(self.start))
                self.pos += trim
                self._ignore()
                if tok.val:
                    yield tok
            yield from self._lex_left_delim()

    def _lex_left_delim(self) -> Iterator[Token]:
        self.pos += len(LEFT_DELIM)
        trim = _has_left_trim_marker(self.input[self.pos :])
        after_marker = TRIM_MARKER_LEN if trim else 0
        if self.input.startswith(LEFT_COMMENT, self.pos + after_marker):
            self.pos += after_marker
            self._ignore()
            self._lex_comment()
            return
        tok = Token(T.LEFT_DELIM, self.start, LEFT_DELIM, self._line(self.start))
        self.pos += after_marker
        self._ignore()
        self.paren_depth = 0
        yield tok
        yield from self._lex_inside_action()

    def _lex_comment(self) -> None:
        self.pos += len(LEFT_COMMENT)
        x = self.input.find(RIGHT_COMMENT, self.pos)
        if x < 0:
            raise self._error("unclosed comment")
        self.pos = x + len(RIGHT_COMMENT)
        delim, trim = self._at_right_delim()
        if not delim:
            raise self._error("comment ends before closing delimiter")
        if trim:
            self.pos += TRIM_MARKER_LEN
        self.pos += len(RIGHT_DELIM)
        if trim:
            self.pos += self._left_trim_length()
        self._ignore()

    def _left_trim_length(self) -> int:
        rest = self.input[self.pos :]
        return len(rest) - len(rest.lstrip(SPACE_CHARS))

    def _lex_inside_action(self) -> Iterator[Token]:
        while True:
            delim, trim = self._at_right_delim()
            if delim:
                if self.paren_depth != 0:
                    raise self._error("unclosed left paren")
                if trim:
                    self.pos += TRIM_MARKER_LEN
                    self._ignore()
                self.pos += len(RIGHT_DELIM)
                yield self._emit(T.RIGHT_DELIM)
                if trim:
                    self.pos += self._left_trim_length()
                    self._ignore()
                return
            ch = self._next()
            if ch == "":
                raise self._error("unclosed action")
            if is_space(ch):
                self._backup()
                tok = self._lex_space()
                if tok is not None:
                    yield tok
            elif ch == "=":
                yield self._emit(T.ASSIGN)
            elif ch == ":":
                if self._next() != "=":
                    raise self._error("expected :=")
                yield self._emit(T.DECLARE)
            elif ch == "|":
                yield self._emit(T.PIPE)
            elif ch == '"':
                yield self._lex_quote()
            elif ch == "`":
                yield self._lex_raw_quote()
            elif ch == "$":
                yield self._lex_field_or_variable(T.VARIABLE)
            elif ch == "'":
                yield self._lex_char()
            elif ch == "." and self.pos < len(self.input) and not ("0" <= self.input[self.pos] <= "9"):
                yield self._lex_field_or_variable(T.FIELD)
            elif ch in "+-." or "0" <= ch <= "9":
                self._backup()
                yield self._lex_number()
            elif is_alnum(ch):
                self._backup()
                yield self._lex_identifier()
            elif ch == "(":
                self.paren_depth += 1
                yield self._emit(T.LEFT_PAREN)
            elif ch == ")":
                self.paren_depth -= 1
                if self.paren_depth < 0:
                    raise self._error("unexpected right paren")
                yield self._emit(T.RIGHT_PAREN)
            elif ord(ch) < 0x80 and ch.isprintable():
                yield self._emit(T.CHAR)
            else:
                raise self._error(f"unrecognized character in action: {go_rune_repr(ch)}")

    def _lex_space(self) -> Token | None:
        num_spaces = 0
        while is_space(self._peek()):
            self.pos += 1
            num_spaces += 1
        rest = self.input[self.pos - 1 :]
        if _has_right_trim_marker(rest) and rest[TRIM_MARKER_LEN:].startswith(RIGHT_DELIM):
            self._backup()  # leave the space that belongs to " -}}"
            if num_spaces == 1:
                return None
        return self._emit(T.SPACE)

    def _lex_identifier(self) -> Token:
        while is_alnum(self._peek()):
            self.pos += 1
        word = self.input[self.start : self.pos]
        if not self._at_terminator():
            raise self._error(f"bad character {go_rune_repr(self._peek())}")
        kw = KEYWORDS.get(word)
        if kw is not None and kw > T.KEYWORD:
            if (kw == T.BREAK and not self.break_ok) or (kw == T.CONTINUE and not self.continue_ok):
                return self._emit(T.IDENTIFIER)
            return self._emit(kw)
        if word in ("true", "false"):
            return self._emit(T.BOOL)
        return self._emit(T.IDENTIFIER)

    def _lex_field_or_variable(self, typ: T) -> Token:
        if self._at_terminator():
            return self._emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
        while is_alnum(self._peek()):
            self.pos += 1
        if not self._at_terminator():
            raise self._error(f"bad character {go_rune_repr(self._peek())}")
        return self._emit(typ)

    def _lex_char(self) -> Token:
        while True:
            ch = self._next()
            if ch == "\\":
                ch = self._next()
                if ch not in ("", "\n"):
                    continue
                raise self._error("unterminated character constant")
            if ch in ("", "\n"):
                raise self._error("unterminated character constant")
            if ch == "'":
                return self._emit(T.CHAR_CONSTANT)

    def _lex_quote(self) -> Token:
        while True:
            ch = self._next()
            if ch == "\\":
                ch = self._next()
                if ch not in ("", "\n"):
                    continue
                raise self._error("unterminated quoted string")
            if ch in ("", "\n"):
                raise self._error("unterminated quoted string")
            if ch == '"':
                return self._emit(T.STRING)

    def _lex_raw_quote(self) -> Token:
        while True:
            ch = self._next()
            if ch == "":
                raise self._error("unterminated raw quoted string")
            if ch == "`":
                return self._emit(T.RAW_STRING)

    def _lex_number(self) -> Token:
        if not self._scan_number():
            raise self._error(f"bad number syntax: {go_quote(self.input[self.start : self.pos])}")
        if self._peek() in ("+", "-"):
            if not self._scan_number() or self.input[self.pos - 1] != "i":
                raise self._error(f"bad number syntax: {go_quote(self.input[self.start : self.pos])}")
            return self._emit(T.COMPLEX)
        return self._emit(T.NUMBER)

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if is_alnum(self._peek()):
            self.pos += 1
            return False
        return True
