"""Alertmanager's classic label matchers, and their three spellings on the wire.

- text, as amtool and `filter=` parameters write them: `host="a"`, `job=~api.*` (pkg/labels/parse.go of
  Alertmanager 0.25: the value quoted or bare, OpenMetrics escapes, a stray backslash stays literal);
- the API object `{"name", "value", "isRegex", "isEqual"}` of a silence;
- our silence matcher strings and ListAlerts selectors, always quoted so that the server reads them back.
The text syntax itself is `alerting_common.matchers`, shared with the server; the gateway talks to the
server only over gRPC, so its matcher evaluates regexes itself, with RE2 as Alertmanager does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alerting_common.jsonmap import JSONObject
from alerting_common.matchers import MatcherError, MatchOp, format_matcher, split_matcher
from alerting_common.regexp import RegexpError
from alerting_common.regexp import compile as compile_regexp

__all__ = ["MatchOp", "Matcher", "MatcherError", "from_api", "parse_matcher", "selector"]


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
        return format_matcher(self.name, self.op, self.value)

    def to_api(self) -> JSONObject:
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex, "isEqual": self.is_equal}

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Prometheus semantics: an absent label reads as "", regexes are fully anchored."""
        value = labels.get(self.name, "")
        found = compile_regexp(f"^(?:{self.value})$").search(value) if self.is_regex else value == self.value
        return found == self.is_equal


def from_api(name: str, value: str, is_regex: bool, is_equal: bool = True) -> Matcher:
    """The matcher of an API object; `isEqual` defaults to true, as in the OpenAPI spec."""
    op: MatchOp = ("=~" if is_equal else "!~") if is_regex else ("=" if is_equal else "!=")
    return Matcher(name, op, value)


def parse_matcher(text: str) -> Matcher:
    """One matcher in the classic syntax; MatcherError with Alertmanager's message."""
    name, op, value, _ = split_matcher(text)
    matcher = Matcher(name, op, value)
    if matcher.is_regex:
        try:
            compile_regexp(f"^(?:{matcher.value})$")
        except RegexpError as exc:
            raise MatcherError(str(exc)) from None
    return matcher


def selector(matchers: Iterable[Matcher]) -> str:
    """The PromQL-style selector ListAlerts filters with: `{a="b",c=~"d"}`; "" for no matcher."""
    texts = [str(m) for m in matchers]
    return "{" + ",".join(texts) + "}" if texts else ""
