"""Alertmanager's classic matcher syntax: `severity="critical"`, `host=~web.*`, `{a="b", c!~"d"}`.

Follows pkg/labels/parse.go of Alertmanager, which amtool and the v2 API use: the value may
be quoted or bare, quoted values use OpenMetrics escapes (`\\"`, `\\\\`, `\\n`) and a stray
backslash stays literal. Label names may also be double-quoted, which is how `str(Matcher)`
prints a name that is not a plain Prometheus label name.
"""

from __future__ import annotations

from alerting_common.matchers import split_matcher
from alerting_server.matching.errors import MatcherError
from alerting_server.matching.matcher import Matcher


def parse_matcher(text: str) -> Matcher:
    """One matcher; MatcherError (a ValueError) saying what is wrong."""
    name, op, value, raw_value = split_matcher(text)
    if not raw_value:
        raise MatcherError(f"matcher value is not present: {text}")
    return Matcher(name, op, value)


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
