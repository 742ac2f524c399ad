"""Matching semantics, after Alertmanager's pkg/labels/matcher_test.go."""

from __future__ import annotations

import pytest

from alerting_server.matching import Matcher, MatcherError, MatchOp, matches_all, parse_matcher


@pytest.mark.parametrize(
    ("op", "pattern", "value", "expected"),
    [
        ("=", "bar", "bar", True),
        ("=", "bar", "foo-bar", False),
        ("!=", "bar", "bar", False),
        ("!=", "bar", "foo-bar", True),
        ("=~", "bar", "bar", True),
        ("=~", "bar", "foo-bar", False),
        ("=~", ".*bar", "foo-bar", True),
        ("!~", "bar", "bar", False),
        ("!~", "bar", "foo-bar", True),
        ("!~", ".*bar", "foo-bar", False),
        ("=~", "foo.bar", "foo-bar", True),
        ("=~", r"foo\.bar", "foo-bar", False),
        ("=~", r"foo\.bar", "foo.bar", True),
        ("=", "foo\nbar", "foo\nbar", True),
        ("=~", "foo.bar", "foo\nbar", False),
        ("=~", "(?s)foo.bar", "foo\nbar", True),
        ("=", '~!="', '~!="', True),
        # Anchoring: the whole value must match, also around alternations.
        ("=~", "web", "web01", False),
        ("=~", "a|b", "ab", False),
        ("=~", "a|b", "b", True),
        ("=~", "bar$", "bar\n", False),
        ("=~", "(?m)bar$", "bar", True),
        # RE2 classes are ASCII.
        ("=~", r"\d+", "123", True),
        ("=~", r"\d+", "١٢٣", False),
        ("=~", "(?i)CRITICAL", "critical", True),
        ("=~", "x(?i)a|b", "B", True),
        ("=~", "x(?i)a|b", "xb", False),
        ("=~", "[[:digit:]]+-[[:alpha:]]", "42-z", True),
        ("=~", r"\x{41}", "A", True),
        ("=~", r"\Qa.b\E", "a.b", True),
        ("=~", r"\Qa.b\E", "axb", False),
        ("=~", "(?P<first>a)(?<second>b)", "ab", True),
        ("=~", "[a&&b]", "&", True),
        ("=~", "a{2,3}?", "aa", True),
        # Braces that are no repetition are literal in RE2; Python would read {,3} as one.
        ("=~", "a{,3}", "a{,3}", True),
        ("=~", "a*{,3}", "aa{,3}", True),
        ("=~", "{foo}", "{foo}", True),
        # Go's RE2 has Unicode classes and the ungreedy flag.
        ("=~", r"\pL+", "héllo", True),
        ("=~", r"\p{Greek}", "\u03b1", True),
        ("=~", "(?U)(a+)a*", "aaa", True),
    ],
)
def test_matches_value(op: MatchOp, pattern: str, value: str, expected: bool) -> None:
    assert Matcher("label", op, pattern).matches_value(value) is expected


@pytest.mark.parametrize(
    ("matcher", "labels", "expected"),
    [
        (Matcher("host", "=", ""), {}, True),
        (Matcher("host", "!=", ""), {}, False),
        (Matcher("host", "=~", ".*"), {}, True),
        (Matcher("host", "=~", ".+"), {}, False),
        (Matcher("host", "!~", "web.*"), {}, True),
        (Matcher("host", "!=", "web"), {"env": "prod"}, True),
        (Matcher("host", "=", "web"), {"host": "web"}, True),
        (Matcher("host", "=", "web"), {"host": ""}, False),
    ],
)
def test_missing_label_is_empty_string(matcher: Matcher, labels: dict[str, str], expected: bool) -> None:
    assert matcher.matches(labels) is expected


def test_matches_empty() -> None:
    assert Matcher("a", "=~", "x|").matches_empty()
    assert not Matcher("a", "=~", "x+").matches_empty()
    assert Matcher("a", "!=", "x").matches_empty()


def test_matches_all() -> None:
    ms = [Matcher("a", "=", "1"), Matcher("b", "!~", "x.*")]
    assert matches_all(ms, {"a": "1", "b": "y"})
    assert not matches_all(ms, {"a": "1", "b": "xy"})
    assert matches_all([], {"a": "1"})


@pytest.mark.parametrize(
    ("name", "op", "value", "expected"),
    [
        ("foo", "=", "bar", 'foo="bar"'),
        ("foo", "!=", "bar", 'foo!="bar"'),
        ("foo", "=~", "bar", 'foo=~"bar"'),
        ("foo", "!~", "bar", 'foo!~"bar"'),
        ("foo", "=", "back\\slash", 'foo="back\\\\slash"'),
        ("foo", "=", 'double"quote', 'foo="double\\"quote"'),
        ("foo", "=", "new\nline", 'foo="new\\nline"'),
        ("foo", "=", "tab\tstop", 'foo="tab\tstop"'),
        ("foo", "=", "🙂", 'foo="🙂"'),
        ("foo!", "!=", "bar", '"foo!"!="bar"'),
        ("foo🙂", "=", "bar", '"foo🙂"="bar"'),
        ("foo bar", "=", "baz", '"foo bar"="baz"'),
    ],
)
def test_str(name: str, op: MatchOp, value: str, expected: str) -> None:
    m = Matcher(name, op, value)
    assert str(m) == expected
    assert parse_matcher(str(m)) == m


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        # Go's regexp messages, as Alertmanager reports them for `^(?:value)$`.
        (r"(a)\1", r"invalid escape sequence: `\1`"),
        ("(?P<x>a)(?P=x)", "invalid or unsupported Perl syntax: `(?P`"),
        (r"(?P<x>a)\g<x>", r"invalid escape sequence: `\g`"),
        ("foo(?=bar)", "invalid or unsupported Perl syntax: `(?=`"),
        ("foo(?!bar)", "invalid or unsupported Perl syntax: `(?!`"),
        ("(?<=foo)bar", "invalid or unsupported Perl syntax: `(?<=`"),
        ("(?<!foo)bar", "invalid or unsupported Perl syntax: `(?<!`"),
        ("a*+", "invalid nested repetition operator: `*+`"),
        ("a{2}+", "invalid nested repetition operator: `{2}+`"),
        ("a**", "invalid nested repetition operator: `**`"),
        ("a*{2}", "invalid nested repetition operator: `*{2}`"),
        ("a{1001}", "invalid repeat count: `{1001}`"),
        ("(?>a)", "invalid or unsupported Perl syntax: `(?>`"),
        ("(?(1)a|b)", "invalid or unsupported Perl syntax: `(?(`"),
        ("(?#note)a", "invalid or unsupported Perl syntax: `(?#`"),
        ("(?x)a b", "invalid or unsupported Perl syntax: `(?x`"),
        (r"a\Z", r"invalid escape sequence: `\Z`"),
        (r"a\C", r"invalid escape sequence: `\C`"),
        ("[[:nope:]]", "invalid character class range: `[:nope:]`"),
        ("invalid[regexp", "missing closing ]: `[regexp)$`"),
        ("(a", "missing closing ): `^(?:(a)$`"),
        ("a)", "unexpected ): `^(?:a))$`"),
        ("a\\", "missing closing ): `^(?:a\\)$`"),
        ("*a", "missing argument to repetition operator: `*`"),
    ],
)
def test_rejects_what_re2_does_not_have(pattern: str, reason: str) -> None:
    with pytest.raises(MatcherError) as info:
        Matcher("a", "=~", pattern)
    assert reason in str(info.value)
    assert repr(pattern) in str(info.value)


def test_bad_operator_and_name() -> None:
    with pytest.raises(MatcherError, match="unknown match operator"):
        Matcher("a", "==", "b")  # type: ignore[arg-type]
    with pytest.raises(MatcherError, match="label name is empty"):
        Matcher("", "=", "b")


def test_equality_ignores_compiled_regex() -> None:
    assert Matcher("a", "=~", "x.*") == Matcher("a", "=~", "x.*")
    assert hash(Matcher("a", "=~", "x.*")) == hash(Matcher("a", "=~", "x.*"))
    assert Matcher("a", "=~", "x") != Matcher("a", "=", "x")
