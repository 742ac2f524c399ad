"""What a query may be before any parser sees it: a linear scan, so that a hostile query costs nothing.

promql-parser's time and memory grow with the square of an expression's nesting (a 3,000-term
`1+1+...+1` takes seconds and a gigabyte; deeper ones overflow its stack and kill the process), and
the Python code walking a parsed tree recurses once per level. Prometheus' parser has no such
limits; these are far above what real queries need (Prometheus' own rules and dashboards nest a
handful of levels and join a few dozen operands at most).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_LENGTH = 64 * 1024
MAX_QUERY_DEPTH = 32
MAX_QUERY_OPERATORS = 128

# Strings and comments first, so that what they hold is skipped; then brackets and operators.
# An operator counted too many (the `-` of `1e-3`, a metric named `or`) only lowers the bound.
_SCAN = re.compile(
    r"""
    "(?:[^"\\]|\\.)*"? | '(?:[^'\\]|\\.)*'? | `[^`]*`? | \#[^\n]*
    | (?P<open>[({\[]) | (?P<close>[)}\]])
    | (?P<op>[-+*/%^] | [=!<>]= | [<>] | \b(?:and|or|unless|atan2)\b)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Shape:
    """How large a query is to a parser; a count past its limit stops the scan there."""

    length: int
    depth: int = 0
    operators: int = 0

    @property
    def problem(self) -> str | None:
        """Why the query may not be parsed, or None."""
        if self.length > MAX_QUERY_LENGTH:
            return f"must be at most {MAX_QUERY_LENGTH} characters"
        if self.depth > MAX_QUERY_DEPTH:
            return f"nests deeper than {MAX_QUERY_DEPTH} levels of brackets"
        if self.operators > MAX_QUERY_OPERATORS:
            return f"has more than {MAX_QUERY_OPERATORS} operators"
        return None

    @property
    def parsed_size(self) -> int:
        """The memory its parsed tree holds, in rough units: promql-parser's trees grow with the
        square of their operators (128 of them take about 2 MB) and with the text they copy."""
        return (self.operators + 1) ** 2 + self.length // 64


def shape(query: str) -> Shape:
    if len(query) > MAX_QUERY_LENGTH:
        return Shape(len(query))
    stack: list[str] = []
    deepest = operators = 0
    for m in _SCAN.finditer(query):
        kind = m.lastgroup
        if kind == "open":
            stack.append(m.group())
            deepest = max(deepest, len(stack))
            if deepest > MAX_QUERY_DEPTH:
                break
        elif kind == "close":
            if stack:
                stack.pop()
        elif kind == "op" and not (stack and stack[-1] == "{"):
            # Inside braces `=~` and `!=` are label matchers, not operators.
            operators += 1
            if operators > MAX_QUERY_OPERATORS:
                break
    return Shape(len(query), deepest, operators)
