"""Alertmanager's classic matcher syntax, shared by the server, the gateway and the clients.

`severity="critical"`, `host=~web.*`: as pkg/labels/parse.go of Alertmanager, which amtool and
the v2 API use. The value may be quoted or bare; quoted values use OpenMetrics escapes (`\\"`,
`\\\\`, `\\n`) and a stray backslash stays literal. A label name may also be double-quoted, which
is how `format_matcher` writes a name that is not a plain Prometheus label name. This module only
reads and writes the text; what a regex means is for whoever evaluates the matcher.
"""

from __future__ import annotations

import json
import re
from typing import Literal, TypeGuard

MatchOp = Literal["=", "!=", "=~", "!~"]
MATCH_OPS: tuple[MatchOp, ...] = ("=", "!=", "=~", "!~")

# `=~` before `=`, or `a=~b` would read as the value `~b`.
_MATCHER = re.compile(
    r'\s*([a-zA-Z_:][a-zA-Z0-9_:]*|"(?:[^"\\]|\\.)*")\s*(=~|=|!=|!~)\s*(.*?)\s*',
    re.DOTALL,
)
_BARE_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


class MatcherError(ValueError):
    """A label matcher (or a list of them) could not be parsed or built; Alertmanager's wording."""


def is_match_op(text: str) -> TypeGuard[MatchOp]:
    return text in MATCH_OPS


def split_matcher(text: str) -> tuple[str, MatchOp, str, str]:
    """(name, op, value, raw value) of one matcher; MatcherError when the text is no matcher."""
    m = _MATCHER.fullmatch(text)
    if m is None:
        raise MatcherError(f"bad matcher format: {text}")
    raw_name, op, raw_value = m.groups()
    name = raw_name
    if raw_name.startswith('"'):
        try:
            name = json.loads(raw_name)
        except ValueError:
            raise MatcherError(f"bad matcher format: invalid quoted label name {raw_name}") from None
    assert is_match_op(op)  # the pattern only captures the four operators
    return name, op, unescape_value(raw_value), raw_value


def unescape_value(raw: str) -> str:
    """The value of a quoted or bare matcher value, as Alertmanager reads it."""
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
        elif c == "\\":
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


def escape_value(value: str) -> str:
    """OpenMetrics escaping, the one Alertmanager prints matcher values with."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_matcher(name: str, op: MatchOp, value: str) -> str:
    """`name op "value"`, which `split_matcher` reads back exactly."""
    shown = name if _BARE_NAME.fullmatch(name) else json.dumps(name, ensure_ascii=False)
    return f'{shown}{op}"{escape_value(value)}"'
