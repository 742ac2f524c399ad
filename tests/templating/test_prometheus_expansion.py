"""Prometheus' template/template_test.go TestTemplateExpansion, ported (text mode)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from alerting_server.templating import Sample, StrMap, TemplateError, parse_template, prometheus_functions

EXTERNAL_URL = "http://testhost:9090/path/prefix"


@dataclass
class _Sample:
    Labels: dict[str, str]
    Value: float


def expand(text: str, data: object = None, query_result: Sequence[_Sample] = ()) -> str:
    """Prometheus' Expander.Expand with the name "test"; errors are returned as Prometheus words them."""
    funcs = prometheus_functions(external_url=EXTERNAL_URL, query=lambda q: list(query_result))
    try:
        tmpl = parse_template(text, "test")
    except TemplateError as err:
        return f"error parsing template test: {err}"
    try:
        return tmpl.execute(data, funcs)
    except TemplateError as err:
        return f"error executing template test: {err}"


def metric(value: float, **labels: str) -> _Sample:
    return _Sample({"__name__": "metric", **labels}, value)


ALL_HUMANIZERS = (
    "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:"
    "{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}"
)

CASES: list[tuple[str, object, list[_Sample], str]] = [
    ("plain text", None, [], "plain text"),
    ("{{ 1 }}", None, [], "1"),
    (
        "{{\u00a0}}",
        None,
        [],
        "error parsing template test: template: test:1: unrecognized character in action: U+00A0",
    ),
    ('{{ "<b>" }}', None, [], "<b>"),
    ('{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}', None, [], "1 2"),
    ('{{ query "1.5" | first | value }}', None, [_Sample({}, 1.5)], "1.5"),
    ("{{ query \"metric{instance='a'}\" | first | value }}", None, [metric(11, instance="a")], "11"),
    (
        '{{ query "metric{instance=\'a\'}" | first | label "instance" }}',
        None,
        [metric(11, instance="a")],
        "a",
    ),
    ("{{ query \"metric{__value__='a'}\" | first | strvalue }}", None, [metric(11, __value__="a")], "a"),
    ('{{ query "metric{instance=\'a\'}" | first | label "foo" }}', None, [metric(11, instance="a")], ""),
    ('{{ $x := query "metric" | first }}{{ $x.Labels.foo }}', None, [metric(11, instance="a")], ""),
    (
        '{{ range query "metric" | sortByLabel "instance" }}{{.Labels.instance}}:{{.Value}}: {{end}}',
        None,
        [metric(21, instance="b"), metric(11, instance="a")],
        "a:11: b:21: ",
    ),
    ('{{ "foo.example.com" | stripPort }}', None, [], "foo.example.com"),
    ('{{ "foo.example.com:12345" | stripPort }}', None, [], "foo.example.com"),
    ('{{ "192.0.2.1" | stripPort }}', None, [], "192.0.2.1"),
    ('{{ "192.0.2.1:12345" | stripPort }}', None, [], "192.0.2.1"),
    ('{{ "2001:0DB8::1" | stripPort }}', None, [], "2001:0DB8::1"),
    ('{{ "[2001:0DB8::1]:12345" | stripPort }}', None, [], "2001:0DB8::1"),
    ('{{ "[2001:0DB8::1]::12345" | stripPort }}', None, [], "[2001:0DB8::1]::12345"),
    ("{{ .Foo }}", None, [], "<no value>"),
    ("{{", None, [], "error parsing template test: template: test:1: unclosed action"),
    (
        '{{ query "missing" | first }}',
        None,
        [],
        'error executing template test: template: test:1:21: executing "test" at <first>: '
        "error calling first: first() called on vector with no elements",
    ),
    ('{{ reReplaceAll "(a)b" "x$1" "ab" }}', None, [], "xa"),
    ("{{ range . }}{{ humanize . }}:{{ end }}", [0.0, 1.0, 1234567.0, 0.12], [], "0:1:1.235M:120m:"),
    ("{{ range . }}{{ humanize . }}:{{ end }}", ["0.0", "1.0", "1234567.0", ".12"], [], "0:1:1.235M:120m:"),
    (
        '{{ humanize "one" }}',
        None,
        [],
        'error executing template test: template: test:1:3: executing "test" at <humanize "one">: '
        'error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax',
    ),
    ("{{ range . }}{{ humanize . }}:{{ end }}", [0, -1, 1, 1234567, 2**63 - 1], [], "0:-1:1:1.235M:9.223E:"),
    ("{{ range . }}{{ humanize . }}:{{ end }}", [0, 1, 1234567, 2**64 - 1], [], "0:1:1.235M:18.45E:"),
    ("{{ range . }}{{ humanize1024 . }}:{{ end }}", [0.0, 1.0, 1048576.0, 0.12], [], "0:1:1Mi:0.12:"),
    ("{{ range . }}{{ humanize1024 . }}:{{ end }}", ["0.0", "1.0", "1048576.0", ".12"], [], "0:1:1Mi:0.12:"),
    (
        "{{ range . }}{{ humanize1024 . }}:{{ end }}",
        [0, -1, 1, 1234567, 2**63 - 1],
        [],
        "0:-1:1:1.177Mi:8Ei:",
    ),
    ("{{ range . }}{{ humanize1024 . }}:{{ end }}", [0, 1, 1234567, 2**64 - 1], [], "0:1:1.177Mi:16Ei:"),
    (
        "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
        [0.0, 1.0, 60.0, 3600.0, 86400.0, 86400.0 + 3600, -(86400.0 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99],
        [],
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:",
    ),
    (
        "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
        ["0", "1", "60", "3600", "86400"],
        [],
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:",
    ),
    (
        "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
        [0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345],
        [],
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
    ),
    (
        "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
        [".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"],
        [],
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
    ),
    ("{{ range . }}{{ humanizeDuration . }}:{{ end }}", [0, -1, 1, 1234567], [], "0s:-1s:1s:14d 6h 56m 7s:"),
    (
        ALL_HUMANIZERS,
        [math.inf, -math.inf, math.nan],
        [],
        "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:",
    ),
    (
        ALL_HUMANIZERS,
        ["+Inf", "-Inf", "NaN"],
        [],
        "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:",
    ),
    (
        "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:"
        "{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
        None,
        [],
        "-22.22%:0%:12.35%:123.5%",
    ),
    (
        "{{ range . }}{{ humanizePercentage . }}:{{ end }}",
        [0, -1, 1, 1234567, 2**63 - 1],
        [],
        "0%:-100%:100%:1.235e+08%:9.223e+20%:",
    ),
    (
        '{{ "one" | humanizePercentage }}',
        None,
        [],
        'error executing template test: template: test:1:11: executing "test" at <humanizePercentage>: '
        'error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax',
    ),
    (
        "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
        [0, -1, 1, 1234567, 9223372036],
        [],
        "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:"
        "1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:",
    ),
    (
        "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
        [-(2**63), 2**63 - 1],
        [],
        'error executing template test: template: test:1:16: executing "test" at <humanizeTimestamp .>: '
        "error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds "
        "timestamp since it overflows int64",
    ),
    ("{{ 1435065584.128 | humanizeTimestamp }}", None, [], "2015-06-23 13:19:44.128 +0000 UTC"),
    ('{{ "1435065584.128" | humanizeTimestamp }}', None, [], "2015-06-23 13:19:44.128 +0000 UTC"),
    ('{{ (1435065584.128 | toTime).Format "2006" }}', None, [], "2015"),
    ('{{ ("1435065584.128" | toTime).Format "2006" }}', None, [], "2015"),
    ('{{ "aa bb CC" | title }}', None, [], "Aa Bb CC"),
    ('{{ "aa bb CC" | toUpper }}', None, [], "AA BB CC"),
    ('{{ "aA bB CC" | toLower }}', None, [], "aa bb cc"),
    ('{{ match "a+" "aa" }} {{ match "a+" "b" }}', None, [], "true false"),
    ('{{ graphLink "up" }}', None, [], "/graph?g0.expr=up&g0.tab=0"),
    ('{{ tableLink "up" }}', None, [], "/graph?g0.expr=up&g0.tab=1"),
    ('{{ define "a" }}x{{ end }}{{ $name := "a"}}{{ tmpl $name . }}', None, [], "x"),
    ("{{ pathPrefix }}", None, [], "/path/prefix"),
    ("{{ externalURL }}", None, [], "http://testhost:9090/path/prefix"),
    ('{{ printf "%0.2f" (parseDuration "1h2m10ms") }}', None, [], "3720.01"),
    ('{{ "foo.example.com" | stripDomain }}', None, [], "foo"),
    ('{{ "foo.example.com:12345" | stripDomain }}', None, [], "foo:12345"),
    ('{{ "192.0.2.1" | stripDomain }}', None, [], "192.0.2.1"),
    ('{{ "192.0.2.1:12345" | stripDomain }}', None, [], "192.0.2.1:12345"),
    ('{{ "2001:0DB8::1" | stripDomain }}', None, [], "2001:0DB8::1"),
    ('{{ "[2001:0DB8::1]:12345" | stripDomain }}', None, [], "[2001:0DB8::1]:12345"),
    ('{{ "[2001:0DB8::1]::12345" | stripDomain }}', None, [], "[2001:0DB8::1]::12345"),
    ("{{ toDuration 3725.5 }}", None, [], "1h2m5.5s"),
    ("{{ humanizeDuration (toDuration 90) }}", None, [], "1m 30s"),
]


@pytest.mark.parametrize(("text", "data", "query_result", "want"), CASES)
def test_template_expansion(text: str, data: object, query_result: list[_Sample], want: str) -> None:
    assert expand(text, data, query_result) == want


def test_query_results_are_samples_with_string_labels() -> None:
    got = expand(
        '{{ with query "up" | first }}{{ .Labels.missing }}|{{ .Value }}{{ end }}', None, [metric(1)]
    )
    assert got == "|1"
    sample = Sample(StrMap({"a": "b"}), 2.0)
    assert parse_template('{{ label "a" . }} {{ value . }}').execute(sample) == "b 2"


def test_now_is_the_evaluation_time_in_seconds() -> None:
    tmpl = parse_template("{{ now }} {{ now | humanizeTimestamp }}")
    assert tmpl.execute(None, prometheus_functions(now_ms=1_500)) == "1.5 1970-01-01 00:00:01.5 +0000 UTC"
