"""Errors of matcher parsing; ValueError subclasses so callers may treat them as bad input."""

from __future__ import annotations

from alerting_common.matchers import MatcherError

__all__ = ["MatcherError", "RegexError"]


class RegexError(MatcherError):
    """A regular expression is malformed or uses syntax Go's RE2 does not have."""
