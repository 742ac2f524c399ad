"""Alertmanager's notification-template functions."""

from __future__ import annotations

import pytest

from alerting_server.templating import (
    ALERTMANAGER_FUNCTIONS,
    GoTime,
    TemplateError,
    alertmanager_functions,
    parse_template,
)

NOW_MS = 1_696_789_234_567


def render(text: str, data: object = None) -> str:
    tmpl = parse_template(text, "am", funcs=ALERTMANAGER_FUNCTIONS)
    return tmpl.execute(data, alertmanager_functions(now_ms=NOW_MS))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{{ "aa bb CC" | title }}', "Aa Bb Cc"),
        ('{{ "aa" | toUpper }} {{ "BB" | toLower }}', "AA bb"),
        ('{{ "  x \\n" | trimSpace }}', "x"),
        ('{{ stringSlice "a" "b" "c" | join ", " }}', "a, b, c"),
        ('{{ match "^web" "web-1" }}', "true"),
        ('{{ reReplaceAll "(\\\\w+)-(\\\\d+)" "$2:$1" "web-1" }}', "1:web"),
        ('{{ reReplaceAll "a" "$1x" "aa" }}', ""),
        ('{{ reReplaceAll "a" "$$" "aa" }}', "$$"),
        ('{{ "a%20b+c" | urlUnescape }}', "a b c"),
        ("{{ humanizeDuration 3661 }}", "1h 1m 1s"),
        ('{{ list 1 "a" | toJson }}', '[1,"a"]'),
        ('{{ (dict "k" 1).k }}', "1"),
        ("{{ append (list 1) 2 }}", "[1 2]"),
        ('{{ "a/b?c=d&e" | base64encode }}', "YS9iP2M9ZCZl"),
        ('{{ "Pz4-" | base64encode }}', "UHo0LQ=="),
        ('{{ "UHo0LQ==" | base64decode }}', "Pz4-"),
        ('{{ "a?>" | base64encode | base64decode }}', "a?>"),
        ('{{ now | date "2006-01-02T15:04:05.000Z07:00" }}', "2023-10-08T18:20:34.567Z"),
        ('{{ "<b>" | safeHtml }} {{ "x:y" | safeUrl }}', "<b> x:y"),
    ],
)
def test_functions(text: str, want: str) -> None:
    assert render(text) == want


def test_date_tz_and_since() -> None:
    t = GoTime(1_696_789_234_567_000_000)
    assert render('{{ date "2006-01-02T15:04:05.000Z07:00" . }}', t) == "2023-10-08T18:20:34.567Z"
    assert render('{{ . | tz "Europe/Paris" | date "Mon Jan _2 15:04:05 MST 2006" }}', t) == (
        "Sun Oct  8 20:20:34 CEST 2023"
    )
    assert render('{{ date "3:04PM -0700" (tz "America/New_York" .) }}', t) == "2:20PM -0400"
    assert render("{{ since . }}", GoTime((NOW_MS - 90_500) * 1_000_000)) == "1m30.5s"


def test_base64decode_of_bad_input_is_an_execution_error() -> None:
    with pytest.raises(TemplateError, match="error calling base64decode: illegal base64 data"):
        render('{{ "a+b" | base64decode }}')


def test_unknown_zone_is_an_execution_error() -> None:
    with pytest.raises(TemplateError, match="error calling tz: unknown time zone Mars/Base"):
        render('{{ tz "Mars/Base" . }}', GoTime(0))


def test_prometheus_only_functions_are_rejected_at_parse_time() -> None:
    with pytest.raises(TemplateError, match='function "query" not defined'):
        parse_template('{{ query "up" }}', "am", funcs=ALERTMANAGER_FUNCTIONS)
