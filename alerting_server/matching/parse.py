"""Alertmanager's classic matcher syntax: `severity="critical"`, `host=~web.*`, `{a="b", c!~"d"}`.

Follows pkg/labels/parse.go of Alertmanager, which amtool and the v2 API use: the value may
be quoted or bare, quoted values use OpenMetrics escapes (`\\"`, `\\\\`, `\\n`) and a stray
backslash stays literal. Label names may also be double-quoted, which is how `str(Matcher)`
prints a name that is not a plain Prometheus label name.
"""

from __future__ import annotations

import json
import re

from alerting_server.matching.errors import MatcherError
from alerting_server.matching.matcher import Matcher, is_match_op

# `=~` before `=`, or `a=~b` would read as the value `~b`.
_MATCHER = re.compile(
    r'\s*([a-zA-Z_:][a-zA-Z0-9_:]*|"(?:[^"\\]|\\.)*")\s*(=~|=|!=|!~)\s*(.*?)\s*',
    re.DOTALL,
)


def parse_matcher(text: str) -> Matcher:
    """One matcher; MatcherError (a ValueError) saying what is wrong."""
    m = _MATCHER.fullmatch(text)
    if m is None:
        raise MatcherError(f"bad matcher format: {text}")
    raw_name, op, raw_value = m.groups()
    if not raw_value:
        raise MatcherError(f"matcher value is not present: {text}")
    name = raw_name
    if raw_name.startswith('"'):
        try:
            name = json.loads(raw_name)
        except ValueError:
            raise MatcherError(f"bad matcher format: invalid quoted label name {raw_name}") from None
    assert is_match_op(op)  # the pattern only captures the four operators
    return Matcher(name, op, _unescape(raw_value))


def _unescape(raw: str) -> str:
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    expect_trailing_quote = quoted
    out: list[str] = []
    escaped = False
    for i, c in enumerate(body):
        if escaped:
            escaped = False
            if c == "n":
                out.append("\n")
            elif c in '"\\':
                out.append(c)
            else:
                out.append("\\" + c)
            continue
        if c == "\\":
            if i < len(body) - 1:
                escaped = True
            else:
                out.append("\\")
        elif c == '"':
            if not expect_trailing_quote or i < len(body) - 1:
                raise MatcherError(f"matcher value contains unescaped double quote: {raw}")
            expect_trailing_quote = False
        else:
            out.append(c)
    if expect_trailing_quote:
        raise MatcherError(f"matcher value contains unescaped double quote: {raw}")
    return "".join(out)


def split_matchers(text: str) -> list[str]:
    """The matcher texts of `{a="b", c!~"d"}` or `a=b,c!~d`: commas inside quotes do not split."""
    text = text.strip()
    text = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    current: list[str] = []
    inside_quotes = escaped = False
    for c in text:
        if c == "," and not inside_quotes:
            tokens.append("".join(current))
            current = []
            continue
        if c == '"':
            if escaped:
                escaped = False
            else:
                inside_quotes = not inside_quotes
        elif c == "\\":
            escaped = not escaped
        else:
            escaped = False
        current.append(c)
    last = "".join(current).strip()
    if last:
        tokens.append(last)
    return tokens


def parse_matchers(text: str) -> list[Matcher]:
    """A selector `{a="b", c!~"d"}` or a bare comma list; a trailing comma is allowed."""
    return [parse_matcher(token) for token in split_matchers(text)]
