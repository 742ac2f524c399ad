"""Errors of matcher parsing; ValueError subclasses so callers may treat them as bad input."""

from __future__ import annotations


class MatcherError(ValueError):
    """A label matcher (or a list of them) could not be parsed or built."""


class RegexError(MatcherError):
    """A regular expression is malformed or uses syntax Go's RE2 does not have."""
