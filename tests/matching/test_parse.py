"""Parsing, after Alertmanager's pkg/labels/parse_test.go."""

from __future__ import annotations

import pytest

from alerting_server.matching import Matcher, MatcherError, parse_matcher, parse_matchers


def m(name: str, op: str, value: str) -> Matcher:
    return Matcher(name, op, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{foo="bar"}', [m("foo", "=", "bar")]),
        ('{foo=~"bar.*"}', [m("foo", "=~", "bar.*")]),
        ('{foo!="bar"}', [m("foo", "!=", "bar")]),
        ('{foo!~"bar.*"}', [m("foo", "!~", "bar.*")]),
        ('{foo="bar", baz!="quux"}', [m("foo", "=", "bar"), m("baz", "!=", "quux")]),
        (
            '{foo="bar",baz!~".*quux", derp="wat"}',
            [m("foo", "=", "bar"), m("baz", "!~", ".*quux"), m("derp", "=", "wat")],
        ),
        ('{foo="bar", instance=~"some-api.*"}', [m("foo", "=", "bar"), m("instance", "=~", "some-api.*")]),
        ('{foo=""}', [m("foo", "=", "")]),
        ('{foo="bar,quux", job="job1"}', [m("foo", "=", "bar,quux"), m("job", "=", "job1")]),
        ('{foo = "bar", dings != "bums", }', [m("foo", "=", "bar"), m("dings", "!=", "bums")]),
        ("foo=bar,dings!=bums", [m("foo", "=", "bar"), m("dings", "!=", "bums")]),
        (
            '{quote="She said: \\"Hi, ladies! That\'s gender-neutral…\\""}',
            [m("quote", "=", 'She said: "Hi, ladies! That\'s gender-neutral…"')],
        ),
        ('statuscode=~"5.."', [m("statuscode", "=~", "5..")]),
        ("tricky=~~~", [m("tricky", "=~", "~~")]),
        ('trickier==\\\\=\\=\\"', [m("trickier", "=", '=\\=\\="')]),
        (
            'contains_quote != "\\"" , contains_comma !~ "foo,bar" , ',
            [m("contains_quote", "!=", '"'), m("contains_comma", "!~", "foo,bar")],
        ),
        ('  { host="server01" }  ', [m("host", "=", "server01")]),
        ('{"foo bar"="x", "a,b"!="y"}', [m("foo bar", "=", "x"), m("a,b", "!=", "y")]),
        ('line="a\\nb"', [m("line", "=", "a\nb")]),
        ("colon:name=v", [m("colon:name", "=", "v")]),
        ("", []),
        ("{}", []),
    ],
)
def test_parse_matchers(text: str, expected: list[Matcher]) -> None:
    assert parse_matchers(text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("job=", "matcher value is not present: job="),
        ('job="value', 'matcher value contains unescaped double quote: "value'),
        ('job=value"', 'matcher value contains unescaped double quote: value"'),
        ('trickier==\\\\=\\=\\""', 'matcher value contains unescaped double quote: =\\\\=\\=\\""'),
        ('contains_unescaped_quote = foo"bar', 'matcher value contains unescaped double quote: foo"bar'),
        ('{invalid-name = "valid label"}', 'bad matcher format: invalid-name = "valid label"'),
        ('{foo=~"invalid[regexp"}', "invalid regular expression 'invalid[regexp': missing closing ]"),
        ('"{foo=\\"bar"}', 'bad matcher format: "{foo=\\"bar"'),
        ('"foo=\\"bar"', 'bad matcher format: "foo=\\"bar"'),
        ('"foo="bar""', 'bad matcher format: "foo="bar""'),
        ('a="1",,b="2"', "bad matcher format: "),
        ('a=~"(?=x)"', "invalid or unsupported Perl syntax: `(?=`"),
    ],
)
def test_parse_matchers_errors(text: str, error: str) -> None:
    with pytest.raises(MatcherError) as info:
        parse_matchers(text)
    assert error in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('severity="critical"', m("severity", "=", "critical")),
        ('host=~"web.*"', m("host", "=~", "web.*")),
        ("severity=critical", m("severity", "=", "critical")),
        ('  env !~ "dev|test"  ', m("env", "!~", "dev|test")),
        ('path="C:\\\\dir\\\\"', m("path", "=", "C:\\dir\\")),
        ('odd="a\\qb"', m("odd", "=", "a\\qb")),
        ("trailing=a\\", m("trailing", "=", "a\\")),
        ('comma="a,b"', m("comma", "=", "a,b")),
    ],
)
def test_parse_matcher(text: str, expected: Matcher) -> None:
    assert parse_matcher(text) == expected


@pytest.mark.parametrize(
    "matcher",
    [
        m("a", "=", ""),
        m("a", "=", 'q"uo\\te\nnl'),
        m("a", "=~", "x|y,z"),
        m("a", "!~", ".*"),
        m("weird name", "!=", "}"),
        m("a", "=", "{},=!~"),
    ],
)
def test_str_round_trips_through_both_parsers(matcher: Matcher) -> None:
    assert parse_matcher(str(matcher)) == matcher
    assert parse_matchers("{" + str(matcher) + ", b=c}") == [matcher, m("b", "=", "c")]
