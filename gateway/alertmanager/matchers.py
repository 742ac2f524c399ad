"""Alertmanager's classic label matchers, and their three spellings on the wire.

- text, as amtool and `filter=` parameters write them: `host="a"`, `job=~api.*` (pkg/labels/parse.go of
  Alertmanager 0.25: the value quoted or bare, OpenMetrics escapes, a stray backslash stays literal);
- the API object `{"name", "value", "isRegex", "isEqual"}` of a silence;
- our silence matcher strings and ListAlerts selectors, always quoted so that the server reads them back.
The gateway talks to the server only over gRPC, so this is its own small parser, not the server's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from gateway.jsonmap import JSONObject

MatchOp = Literal["=", "!=", "=~", "!~"]

# `=~` before `=`, or `a=~b` would read as the value `~b`. A quoted name is what `str()` writes for a
# name that is not a plain Prometheus label name.
_MATCHER = re.compile(
    r'\s*([a-zA-Z_:][a-zA-Z0-9_:]*|"(?:[^"\\]|\\.)*")\s*(=~|=|!=|!~)\s*(.*?)\s*',
    re.DOTALL,
)
_BARE_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_OPS: dict[str, MatchOp] = {"=": "=", "!=": "!=", "=~": "=~", "!~": "!~"}


class MatcherError(ValueError):
    """A matcher that does not parse; the message is Alertmanager's."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: MatchOp
    value: str

    @property
    def is_regex(self) -> bool:
        return self.op in ("=~", "!~")

    @property
    def is_equal(self) -> bool:
        return self.op in ("=", "=~")

    def __str__(self) -> str:
        name = self.name if _BARE_NAME.fullmatch(self.name) else json.dumps(self.name, ensure_ascii=False)
        return f'{name}{self.op}"{escape_value(self.value)}"'

    def to_api(self) -> JSONObject:
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex, "isEqual": self.is_equal}

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Prometheus semantics: an absent label reads as "", regexes are fully anchored.

        Python's `re` stands in for RE2 here; the two agree on the patterns matchers use.
        """
        value = labels.get(self.name, "")
        found = re.fullmatch(self.value, value) is not None if self.is_regex else value == self.value
        return found == self.is_equal


def from_api(name: str, value: str, is_regex: bool, is_equal: bool = True) -> Matcher:
    """The matcher of an API object; `isEqual` defaults to true, as in the OpenAPI spec."""
    op: MatchOp = ("=~" if is_equal else "!~") if is_regex else ("=" if is_equal else "!=")
    return Matcher(name, op, value)


def escape_value(value: str) -> str:
    """OpenMetrics escaping, the one Alertmanager prints matcher values with."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def parse_matcher(text: str) -> Matcher:
    """One matcher in the classic syntax; MatcherError with Alertmanager's message."""
    m = _MATCHER.fullmatch(text)
    if m is None:
        raise MatcherError(f"bad matcher format: {text}")
    raw_name, op, raw_value = m.groups()
    name = raw_name
    if raw_name.startswith('"'):
        try:
            name = json.loads(raw_name)
        except ValueError:
            raise MatcherError(f"bad matcher format: {text}") from None
    matcher = Matcher(name, _OPS[op], _unescape(raw_value))
    if matcher.is_regex:
        try:
            re.compile(matcher.value)
        except re.error as exc:
            raise MatcherError(f"error parsing regexp: {exc}: `{matcher.value}`") from None
    return matcher


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


def selector(matchers: Iterable[Matcher]) -> str:
    """The PromQL-style selector ListAlerts filters with: `{a="b",c=~"d"}`; "" for no matcher."""
    texts = [str(m) for m in matchers]
    return "{" + ",".join(texts) + "}" if texts else ""
