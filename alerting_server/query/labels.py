"""Label sets: sorted tuples of (name, value) pairs, hashable and cheap to compare."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from alerting_common.regexp import Regexp
from alerting_common.regexp import compile as compile_regexp

Labels = tuple[tuple[str, str], ...]

METRIC_NAME = "__name__"
_TYPE_AND_UNIT = frozenset({"__type__", "__unit__"})
# The labels of a metric's schema (Prometheus' type-and-unit labels): its name, type and unit.
METADATA_LABELS = frozenset({METRIC_NAME, *_TYPE_AND_UNIT})


def from_mapping(labels: Mapping[str, str]) -> Labels:
    """A label set from a mapping; empty values are dropped, as Prometheus does."""
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


def from_pairs(pairs: Iterable[tuple[str, str]]) -> Labels:
    return tuple(sorted((k, v) for k, v in pairs if v != ""))


def get(labels: Labels, name: str) -> str:
    for k, v in labels:
        if k == name:
            return v
    return ""


def without(labels: Labels, names: Iterable[str]) -> Labels:
    drop = set(names)
    return tuple(p for p in labels if p[0] not in drop)


def keep(labels: Labels, names: Iterable[str]) -> Labels:
    wanted = set(names)
    return tuple(p for p in labels if p[0] in wanted)


def with_label(labels: Labels, name: str, value: str) -> Labels:
    rest = [p for p in labels if p[0] != name]
    if value != "":
        rest.append((name, value))
    return tuple(sorted(rest))


def drop_name(labels: Labels) -> Labels:
    """Without the metric's name, and its type and unit (`__type__`, `__unit__`): what Prometheus
    drops where an operation changes what a series measures (schema.IsMetadataLabel)."""
    if labels and labels[0][0] == METRIC_NAME and not any(p[0] in _TYPE_AND_UNIT for p in labels):
        return labels[1:]
    return tuple(p for p in labels if p[0] not in METADATA_LABELS)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def format_labels(labels: Labels) -> str:
    """Prometheus' `labels.Labels.String()`: `{__name__="x", a="b"}`."""
    return "{" + ", ".join(f"{k}={_quote(v)}" for k, v in labels) + "}"


def format_series(labels: Labels) -> str:
    """The test-file notation: `name{a="b"}`."""
    name = get(labels, METRIC_NAME)
    rest = ", ".join(f"{k}={_quote(v)}" for k, v in labels if k != METRIC_NAME)
    return f"{name}{{{rest}}}" if rest or not name else name


def promql_regex(pattern: str) -> Regexp:
    """A matcher's or label_replace's pattern as Prometheus compiles it: anchored, `.` matching newlines.

    RegexpError (a ValueError) with Go's message when RE2 rejects it.
    """
    return compile_regexp(f"^(?s:{pattern})$")


class MatchType(Enum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class Matcher:
    """One label matcher; regexes are fully anchored and `.` matches newlines, as in Prometheus."""

    type: MatchType
    name: str
    value: str
    _regex: Regexp | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, type: MatchType, name: str, value: str) -> Matcher:
        regex = None
        if type in (MatchType.REGEX, MatchType.NOT_REGEX):
            regex = promql_regex(value)
        return cls(type, name, value, regex)

    def matches(self, value: str) -> bool:
        if self.type is MatchType.EQUAL:
            return value == self.value
        if self.type is MatchType.NOT_EQUAL:
            return value != self.value
        assert self._regex is not None
        hit = self._regex.search(value)
        return hit if self.type is MatchType.REGEX else not hit
