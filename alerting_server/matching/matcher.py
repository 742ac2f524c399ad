"""Label matchers with Prometheus/Alertmanager semantics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# `str` quotes a name that is not a plain label name so that parse_matcher reads it back
# (Alertmanager would print `foo🙂` bare and then fail to parse it).
from alerting_common.matchers import MATCH_OPS, MatchOp, escape_value, format_matcher, is_match_op
from alerting_common.regexp import Regexp
from alerting_server.matching.errors import MatcherError
from alerting_server.matching.regex import compile_re2

__all__ = ["MATCH_OPS", "MatchOp", "Matcher", "escape_value", "is_match_op", "matches_all"]


@dataclass(frozen=True)
class Matcher:
    """`name op value`; a label that is absent matches as the empty string.

    Regexes are RE2 syntax and fully anchored, as in Prometheus: `host=~"web"` does
    not match `web01`.
    """

    name: str
    op: MatchOp
    value: str
    _regex: Regexp | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.op not in MATCH_OPS:
            raise MatcherError(f"unknown match operator {self.op!r}; expected one of = != =~ !~")
        if not self.name:
            raise MatcherError("matcher label name is empty")
        if self.op in ("=~", "!~"):
            object.__setattr__(self, "_regex", compile_re2(self.value))

    def matches_value(self, value: str) -> bool:
        if self._regex is not None:
            return self._regex.search(value) == (self.op == "=~")
        return (value == self.value) == (self.op == "=")

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.matches_value(labels.get(self.name, ""))

    def matches_empty(self) -> bool:
        """True when the matcher also selects alerts that lack the label altogether."""
        return self.matches_value("")

    def __str__(self) -> str:
        return format_matcher(self.name, self.op, self.value)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
