"""Label matchers: the one way silences, inhibition, routing and alert filters select alerts.

Matcher("severity", "=", "critical").matches({"severity": "critical"})   # True
parse_matcher('host=~"web.*"')
parse_matchers('{host="server01", env!~"dev|test"}')
"""

from alerting_server.matching.errors import MatcherError, RegexError
from alerting_server.matching.matcher import MATCH_OPS, Matcher, MatchOp, escape_value, matches_all
from alerting_server.matching.parse import parse_matcher, parse_matchers, split_matchers
from alerting_server.matching.regex import compile_re2

__all__ = [
    "MATCH_OPS",
    "MatchOp",
    "Matcher",
    "MatcherError",
    "RegexError",
    "compile_re2",
    "escape_value",
    "matches_all",
    "parse_matcher",
    "parse_matchers",
    "split_matchers",
]
