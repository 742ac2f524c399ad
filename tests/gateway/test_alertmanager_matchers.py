from __future__ import annotations

import pytest
from google.protobuf import timestamp_pb2

from gateway.alertmanager.matchers import Matcher, MatcherError, from_api, parse_matcher, selector
from gateway.alertmanager.timefmt import ZERO_TIME, format_ms, format_timestamp, parse_ms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('host="a"', Matcher("host", "=", "a")),
        ("host=a", Matcher("host", "=", "a")),
        (' job =~ "api.*" ', Matcher("job", "=~", "api.*")),
        ('env!="prod"', Matcher("env", "!=", "prod")),
        ("instance!~web.+", Matcher("instance", "!~", "web.+")),
        (r'msg="say \"hi\""', Matcher("msg", "=", 'say "hi"')),
        (r'path="C:\\dir"', Matcher("path", "=", "C:\\dir")),
        (r'text="a\nb"', Matcher("text", "=", "a\nb")),
        # A stray backslash stays literal, as in Alertmanager.
        (r'x="a\qb"', Matcher("x", "=", r"a\qb")),
        ('empty=""', Matcher("empty", "=", "")),
        ('"odd name"="v"', Matcher("odd name", "=", "v")),
    ],
)
def test_classic_syntax_parses(text: str, expected: Matcher) -> None:
    assert parse_matcher(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("host", "bad matcher format: host"),
        ("=a", "bad matcher format: =a"),
        ('a="b', 'matcher value contains unescaped double quote: "b'),
        ('a=b"c', 'matcher value contains unescaped double quote: b"c'),
        ('a=~"("', "error parsing regexp"),
    ],
)
def test_bad_matchers_say_what_alertmanager_says(text: str, message: str) -> None:
    with pytest.raises(MatcherError, match=message.replace("(", r"\(")):
        parse_matcher(text)


@pytest.mark.parametrize(
    "matcher",
    [
        Matcher("host", "=", "a"),
        Matcher("job", "!~", "api.*"),
        Matcher("msg", "=~", 'say "hi"\\n\n'),
        Matcher("odd name", "!=", ""),
    ],
)
def test_text_form_reads_back(matcher: Matcher) -> None:
    assert parse_matcher(str(matcher)) == matcher


def test_text_form_quotes_and_escapes() -> None:
    assert str(Matcher("msg", "=", 'say "hi" \\ now\n')) == r'msg="say \"hi\" \\ now\n"'
    assert str(Matcher("job", "!~", "api.*")) == 'job!~"api.*"'
    assert str(Matcher("odd name", "=", "v")) == '"odd name"="v"'


@pytest.mark.parametrize(
    ("is_regex", "is_equal", "op"),
    [(False, True, "="), (False, False, "!="), (True, True, "=~"), (True, False, "!~")],
)
def test_api_objects_both_ways(is_regex: bool, is_equal: bool, op: str) -> None:
    matcher = from_api("host", 'a"b', is_regex, is_equal)

    assert matcher.op == op
    assert matcher.to_api() == {"name": "host", "value": 'a"b', "isRegex": is_regex, "isEqual": is_equal}


def test_is_equal_defaults_to_true() -> None:
    assert from_api("host", "a", False) == Matcher("host", "=", "a")


def test_selector_joins_matchers() -> None:
    matchers = [Matcher("alertname", "=", "a"), Matcher("job", "=~", "api.*"), Matcher("q", "!=", '"')]

    assert selector(matchers) == r'{alertname="a",job=~"api.*",q!="\""}'
    assert selector([]) == ""


@pytest.mark.parametrize(
    ("matcher", "labels", "expected"),
    [
        (Matcher("host", "=", "a"), {"host": "a"}, True),
        (Matcher("host", "=", ""), {}, True),
        (Matcher("host", "!=", "a"), {}, True),
        (Matcher("host", "=~", "web"), {"host": "web01"}, False),
        (Matcher("host", "=~", "web.*"), {"host": "web01"}, True),
        (Matcher("host", "!~", "web.*"), {"host": "db01"}, True),
    ],
)
def test_matching_is_anchored_and_absent_is_empty(
    matcher: Matcher, labels: dict[str, str], expected: bool
) -> None:
    assert matcher.matches(labels) is expected


def test_times_are_rfc3339_with_milliseconds() -> None:
    assert format_ms(1_696_789_234_567) == "2023-10-08T18:20:34.567Z"
    assert format_ms(1_696_789_234_000) == "2023-10-08T18:20:34.000Z"
    assert format_timestamp(timestamp_pb2.Timestamp(), False) == ZERO_TIME


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2023-10-08T18:20:34.567Z", 1_696_789_234_567),
        ("2023-10-08T18:20:34.567891234Z", 1_696_789_234_567),
        ("2023-10-08T20:20:34+02:00", 1_696_789_234_000),
        ("1969-12-31T23:59:59.999Z", -1),
        (ZERO_TIME, 0),
    ],
)
def test_times_parse(text: str, ms: int) -> None:
    assert parse_ms(text) == ms


@pytest.mark.parametrize("text", ["2023-10-08", "yesterday", "2023-13-08T00:00:00Z"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="parsing time"):
        parse_ms(text)
