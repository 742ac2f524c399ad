"""Alertmanager's regex matchers: Go RE2 patterns, anchored as Alertmanager anchors them."""

from __future__ import annotations

from alerting_common.regexp import Regexp, RegexpError
from alerting_common.regexp import compile as compile_regexp
from alerting_server.matching.errors import RegexError


def compile_re2(pattern: str) -> Regexp:
    """`pattern` as Alertmanager compiles a matcher's value: `^(?:pattern)$` (match with `search`)."""
    try:
        return compile_regexp(f"^(?:{pattern})$")
    except RegexpError as e:
        raise RegexError(f"invalid regular expression {pattern!r}: {e.reason}") from None
