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


@pytest.mark.parametrize(
    ("layout", "value", "want"),
    [
        ("2006-01-02", "2024-02-29", "2024-02-29T00:00:00Z"),
        ("2006-01-02T15:04:05Z07:00", "2024-02-29T10:11:12+02:00", "2024-02-29T10:11:12+02:00"),
        # A fraction after the seconds is taken although the layout has none, as Go does.
        ("2006-01-02T15:04:05Z07:00", "2024-02-29T10:11:12.5Z", "2024-02-29T10:11:12.5Z"),
        ("Jan _2 15:04:05 2006", "Feb  3 04:05:06 2024", "2024-02-03T04:05:06Z"),
        ("02/01/06 3:04PM", "31/12/99 9:15PM", "1999-12-31T21:15:00Z"),
        ("January 2, 2006 -0700", "March 7, 2025 -0130", "2025-03-07T00:00:00-01:30"),
        ("2006-01-02 15:04:05.000", "2024-01-01 00:00:00.123", "2024-01-01T00:00:00.123Z"),
    ],
)
def test_to_date_parses_as_gos_time_parse_in_utc(layout: str, value: str, want: str) -> None:
    out = f'{{{{ toDate "{layout}" "{value}" | date "2006-01-02T15:04:05.999999999Z07:00" }}}}'
    assert render(out) == want
    assert render(out.replace("toDate", "mustToDate")) == want


def test_to_date_gives_the_zero_time_and_must_to_date_an_error_for_what_does_not_fit() -> None:
    assert render('{{ toDate "2006-01-02" "2024-02-30" }}') == "0001-01-01 00:00:00 +0000 UTC"
    with pytest.raises(TemplateError, match='error calling mustToDate: parsing time "yesterday"'):
        render('{{ mustToDate "2006-01-02" "yesterday" }}')


def test_base64decode_of_bad_input_is_an_execution_error() -> None:
    with pytest.raises(TemplateError, match="error calling base64decode: illegal base64 data"):
        render('{{ "a+b" | base64decode }}')


def test_unknown_zone_is_an_execution_error() -> None:
    with pytest.raises(TemplateError, match="error calling tz: unknown time zone Mars/Base"):
        render('{{ tz "Mars/Base" . }}', GoTime(0))


def test_prometheus_only_functions_are_rejected_at_parse_time() -> None:
    with pytest.raises(TemplateError, match='function "query" not defined'):
        parse_template('{{ query "up" }}', "am", funcs=ALERTMANAGER_FUNCTIONS)
