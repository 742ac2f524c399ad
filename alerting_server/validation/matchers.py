"""Lists of matcher strings, as routes, silences and inhibit rules carry them."""

from __future__ import annotations

from collections.abc import Sequence

from alerting_server.errors import Violations
from alerting_server.matching import Matcher, MatcherError, parse_matcher
from alerting_server.validation.limits import MAX_MATCHER_LENGTH, MAX_MATCHERS


def check_matchers(v: Violations, field: str, texts: Sequence[str]) -> list[Matcher]:
    """The matchers that parse; each one that does not is recorded as `field[i]`."""
    if len(texts) > MAX_MATCHERS:
        v.add(field, f"at most {MAX_MATCHERS} matchers, got {len(texts)}")
        return []
    parsed: list[Matcher] = []
    for i, text in enumerate(texts):
        if len(text) > MAX_MATCHER_LENGTH:
            v.add(f"{field}[{i}]", f"must be at most {MAX_MATCHER_LENGTH} characters")
            continue
        try:
            parsed.append(parse_matcher(text))
        except MatcherError as e:
            v.add(f"{field}[{i}]", str(e))
    return parsed
