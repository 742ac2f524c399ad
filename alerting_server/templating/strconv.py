"""Go's strconv: quoting, unquoting and number parsing with Go's syntax and Go's error texts."""

from __future__ import annotations

import math
import re


class StrconvError(ValueError):
    """Worded like Go's *strconv.NumError or strconv.ErrSyntax."""


_SIMPLE_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
}


def go_quote(s: str, quote: str = '"') -> str:
    """strconv.Quote (or QuoteRune with quote="'")."""
    out = [quote]
    for ch in s:
        if ch == quote or (ch in _SIMPLE_ESCAPES and ch not in "\"'"):
            out.append("\\" + ch if ch == quote else _SIMPLE_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x80:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append(quote)
    return "".join(out)


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _unquote_char(s: str, i: int, quote: str) -> tuple[str, int]:
    """One (possibly escaped) character of s at i; returns it and the next index."""
    ch = s[i]
    if ch == quote and quote in "'\"":
        raise StrconvError("invalid syntax")
    if ch != "\\":
        return ch, i + 1
    if i + 1 >= len(s):
        raise StrconvError("invalid syntax")
    c = s[i + 1]
    if c in _ESCAPES:
        return _ESCAPES[c], i + 2
    if c in "'\"":
        if c != quote:
            raise StrconvError("invalid syntax")
        return c, i + 2
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[i + 2 : i + 2 + n]
        if len(digits) != n or not re.fullmatch(r"[0-9a-fA-F]+", digits):
            raise StrconvError("invalid syntax")
        v = int(digits, 16)
        if c != "x" and (v > 0x10FFFF or 0xD800 <= v < 0xE000):
            raise StrconvError("invalid syntax")
        return chr(v), i + 2 + n
    if "0" <= c <= "7":
        digits = s[i + 1 : i + 4]
        if len(digits) != 3 or not re.fullmatch(r"[0-7]{3}", digits):
            raise StrconvError("invalid syntax")
        v = int(digits, 8)
        if v > 255:
            raise StrconvError("invalid syntax")
        return chr(v), i + 4
    raise StrconvError("invalid syntax")


def go_unquote(s: str) -> str:
    """strconv.Unquote for "...", `...` and '.' literals; raises StrconvError("invalid syntax")."""
    if len(s) < 2 or s[0] != s[-1] or s[0] not in "\"'`":
        raise StrconvError("invalid syntax")
    quote, body = s[0], s[1:-1]
    if quote == "`":
        if "`" in body:
            raise StrconvError("invalid syntax")
        return body.replace("\r", "")
    if "\n" in body:
        raise StrconvError("invalid syntax")
    out: list[str] = []
    i = 0
    while i < len(body):
        ch, i = _unquote_char(body, i, quote)
        out.append(ch)
        if quote == "'" and i < len(body):
            raise StrconvError("invalid syntax")
    if quote == "'" and len(out) != 1:
        raise StrconvError("invalid syntax")
    return "".join(out)


_GO_INT = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)")


def parse_int(text: str) -> int:
    """strconv.ParseInt(text, 0, 64) without the range check (the caller checks ranges)."""
    if not _GO_INT.fullmatch(text) or "__" in text or text.endswith("_"):
        raise StrconvError("invalid syntax")
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1] in "01234567_":
        return sign * int(body[1:].replace("_", "") or "0", 8)
    return sign * int(body, 0)


_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?"
    r"|0[xX](?:[0-9a-fA-F_]+(?:\.[0-9a-fA-F_]*)?|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])"
)


def parse_float(text: str) -> float:
    """strconv.ParseFloat(text, 64); errors say `strconv.ParseFloat: parsing "x": invalid syntax`."""
    if not _GO_FLOAT.fullmatch(text):
        raise StrconvError(f"strconv.ParseFloat: parsing {go_quote(text)}: invalid syntax")
    body = text.replace("_", "")
    special = body.lstrip("+-")[:1] in ("i", "I", "n", "N")
    value = float.fromhex(body) if "x" in body.lower() else float(body)
    if math.isinf(value) and not special:
        raise StrconvError(f"strconv.ParseFloat: parsing {go_quote(text)}: value out of range")
    return value
