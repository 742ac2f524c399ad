"""Syntax errors match Prometheus' parser: the cases and messages are ported from its parse_test.go."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alerting_server.errors import InvalidArgument
from alerting_server.query.engine import parse
from alerting_server.query.syntax import syntax_error
from alerting_server.validation.promql import check_query

# (query, Prometheus' error; its column is PositionRange.Start + 1)
PROMETHEUS_CASES = [
    ("", "1:1: parse error: no expression found in input"),
    ("# just a comment\n\n", "1:1: parse error: no expression found in input"),
    ("1+", "1:3: parse error: unexpected end of input"),
    (".", "1:1: parse error: unexpected character: '.'"),
    ("2.5.", '1:1: parse error: bad number or duration syntax: "2.5."'),
    ("100..4", '1:1: parse error: bad number or duration syntax: "100.."'),
    ("0deadbeef", '1:1: parse error: bad number or duration syntax: "0de"'),
    ("1 /", "1:4: parse error: unexpected end of input"),
    ("*1", "1:1: parse error: unexpected <op:*>"),
    ("(1))", "1:5: parse error: unexpected right parenthesis ')'"),
    ("((1)", "1:5: parse error: unclosed left parenthesis"),
    ("(", "1:2: parse error: unclosed left parenthesis"),
    ("1 and 1", '1:1: parse error: set operator "and" not allowed in binary scalar expression'),
    ("1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
    ("1 or 1", '1:1: parse error: set operator "or" not allowed in binary scalar expression'),
    ("1 unless 1", '1:1: parse error: set operator "unless" not allowed in binary scalar expression'),
    ("1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"),
    ("1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"),
    (
        '-"string"',
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, "
        'got "string"',
    ),
    (
        "-test[5m]",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, "
        'got "range vector"',
    ),
    ("*test", "1:1: parse error: unexpected <op:*>"),
    ("@@", "1:1: parse error: unexpected <op:@>"),
    (
        "1 offset 1d",
        "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector "
        "selector or a subquery",
    ),
    ("foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"),
    ("a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"),
    ("{", "1:2: parse error: unexpected end of input inside braces"),
    ("}", "1:1: parse error: unexpected character: '}'"),
    ("some{", "1:6: parse error: unexpected end of input inside braces"),
    ("some}", "1:5: parse error: unexpected character: '}'"),
    ("some_metric{a=b}", '1:15: parse error: unexpected identifier "b" in label matching, expected string'),
    ('some_metric{a:b="b"}', "1:14: parse error: unexpected character inside braces: ':'"),
    ('foo{a*"b"}', "1:6: parse error: unexpected character inside braces: '*'"),
    ('foo{a>="b"}', "1:6: parse error: unexpected character inside braces: '>'"),
    (
        "foo{gibberish}",
        '1:14: parse error: unexpected "}" in label matching, expected label matching operator',
    ),
    ("foo{1}", "1:5: parse error: unexpected character inside braces: '1'"),
    ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ('{x=""}', "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ('{x=~".*"}', "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ('{x!~".+"}', "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ('{x!="a"}', "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ('foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'),
    ("foo{__name__= =}", '1:15: parse error: unexpected "=" in label matching, expected string'),
    ("foo{,}", '1:5: parse error: unexpected "," in label matching, expected identifier or "}"'),
    ('foo{__name__ == "bar"}', '1:15: parse error: unexpected "=" in label matching, expected string'),
    (
        'foo{__name__="bar" lol}',
        '1:20: parse error: unexpected identifier "lol" in label matching, expected "," or "}"',
    ),
    ('foo{"a"=}', '1:9: parse error: unexpected "}" in label matching, expected string'),
    ("foo{a=}", '1:7: parse error: unexpected "}" in label matching, expected string'),
]

# Our own cases, in Prometheus' wording (grammar actions and checkAST in parse.go).
OTHER_CASES = [
    ("x + ", "1:5: parse error: unexpected end of input"),
    ("1 +* 2", "1:4: parse error: unexpected <op:*>"),
    ("sum by (a) (x) without (b)", "1:16: parse error: unexpected <without>"),
    (
        "rate(foo)",
        '1:6: parse error: expected type range vector in call to function "rate", got instant vector',
    ),
    (
        "foo[5m] + bar[5m]",
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
    ),
    ("sum(1)", "1:5: parse error: expected type instant vector in aggregation expression, got scalar"),
    ("topk(foo, bar)", "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"),
    ("count_values(1, foo)", "1:14: parse error: expected type string in aggregation parameter, got scalar"),
    ("sum()", "1:1: parse error: no arguments for aggregate expression provided"),
    (
        "topk(foo)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
    ),
    ("sum by a (foo)", '1:8: parse error: unexpected identifier "a" in grouping opts, expected "("'),
    ("sum by (1) (foo)", '1:9: parse error: unexpected number "1" in grouping opts, expected label'),
    (
        "sum by (a b) (foo)",
        '1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")"',
    ),
    ("sum foo", '1:5: parse error: unexpected identifier "foo"'),
    ("rate(foo[5m], 1)", '1:1: parse error: expected 1 argument(s) in call to "rate", got 2'),
    ("round()", '1:1: parse error: expected at least 1 argument(s) in call to "round", got 0'),
    ("round(foo, 1, 2)", '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3'),
    ("nosuchfn(x)", '1:1: parse error: unknown function with name "nosuchfn"'),
    ("sum(foo,)", "1:8: parse error: trailing commas not allowed in function call args"),
    ("foo[5m:1m][1m]", "1:11: parse error: ranges only allowed for vector selectors"),
    ("(foo)[5m]", "1:6: parse error: ranges only allowed for vector selectors"),
    ("foo offset 5m[5m]", "1:14: parse error: no offset modifiers allowed before range"),
    ("foo @ 1 [5m]", "1:9: parse error: no @ modifiers allowed before range"),
    ("foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"),
    ("foo @ bar", '1:7: parse error: unexpected identifier "bar" in @, expected timestamp'),
    ("foo @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"),
    (
        "sum(foo) @ 1",
        "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector "
        "selector or a subquery",
    ),
    (
        "foo offset bar",
        '1:12: parse error: unexpected identifier "bar" in offset, expected number or duration',
    ),
    ("foo[bar]", "1:5: parse error: unexpected character in duration expression: 'b'"),
    ("foo[5m", "1:7: parse error: unexpected end of input in duration expression"),
    ("foo[5m:1m:]", "1:11: parse error: unexpected repeated colon in duration expression"),
    ("foo[1hs]", '1:5: parse error: not a valid duration string: "1hs"'),
    ("1[5m:1m]", "1:1: parse error: subquery is only allowed on instant vector, got scalar instead"),
    ("foo and 1", '1:1: parse error: set operator "and" not allowed in binary scalar expression'),
    ("foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"),
    ("1 + on(a) foo", "1:1: parse error: vector matching only allowed between instant vectors"),
    ("foo and on(a) group_left bar", '1:1: parse error: no grouping allowed for "and" operation'),
    (
        "foo * on(a) group_left(a) bar",
        '1:5: parse error: label "a" must not occur in ON and GROUP clause at once',
    ),
    ("foo * group_left bar", "1:7: parse error: unexpected <group_left>"),
    ('"a\\qb"', "1:1: parse error: unknown escape sequence U+0071 'q'"),
    ('"abc', "1:1: parse error: unterminated quoted string"),
    ("`abc", "1:1: parse error: unterminated raw string"),
    ("foo bar", '1:5: parse error: unexpected identifier "bar"'),
    ("foo $", "1:5: parse error: unexpected character: '$'"),
    ("foo\n  + ", "2:5: parse error: unexpected end of input"),
    (
        "sum(\n  rate(foo)\n)",
        '2:8: parse error: expected type range vector in call to function "rate", got instant vector',
    ),
]


@pytest.mark.parametrize(("query", "message"), PROMETHEUS_CASES + OTHER_CASES)
def test_the_first_error_in_prometheus_words_and_position(query: str, message: str) -> None:
    assert str(syntax_error(query)) == message


_EVAL = re.compile(
    r"^eval(?:_fail)?\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.+)$"
)
_CONFORMANCE = Path("/work/shared/conformance/promql")


def _conformance_queries() -> list[str]:
    queries = []
    for path in sorted(_CONFORMANCE.glob("*.test")):
        for line in path.read_text().splitlines():
            if match := _EVAL.match(line):
                queries.append(match.group(1))
    return queries


def test_no_error_for_any_query_of_the_conformance_suite() -> None:
    queries = _conformance_queries()
    assert len(queries) > 900
    wrong = {q: str(e) for q in queries if (e := syntax_error(q)) is not None}
    assert wrong == {}


@pytest.mark.parametrize(
    "query",
    [
        "sum",
        'offset{step="1s"}[5m]',
        "foo * on(test,blub) group_left bar",
        "sum without (a) (foo) / on() group_right(b) bar",
        'count_values("v", foo) by (a,)',
        "-1^-2",
        "0x_1f + 1_000 + Inf + -nan",
        "foo[5m:] offset -1h @ end()",
        '{"foo.bar", "a.b"="c"} @ 1m',
        'label_join(foo, "a", ",", "b", "c", "d")',
        "# comment\nfoo # trailing\n",
    ],
)
def test_valid_queries_have_no_error(query: str) -> None:
    assert syntax_error(query) is None


def test_check_query_reports_the_position() -> None:
    with pytest.raises(InvalidArgument) as info:
        check_query("avg(cpu{job=}) > 80", field="expr")
    [violation] = info.value.violations
    assert violation.field == "expr"
    assert (
        violation.description
        == 'invalid PromQL: 1:13: parse error: unexpected "}" in label matching, expected string'
    )


def test_engine_parse_reports_the_position() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse("sum by (a) (x) without (b)")
    assert str(info.value.violations[0].description) == "1:16: parse error: unexpected <without>"
