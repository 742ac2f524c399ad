"""Template execution has limits: nesting depth, steps and output size, for rule and channel templates."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting_server.errors import Violations
from alerting_server.templating import (
    ALERTMANAGER_FUNCTIONS,
    TemplateError,
    alertmanager_functions,
    parse_template,
    render_alert_template,
)
from alerting_server.templating.executor import MAX_EXEC_DEPTH, MAX_EXEC_STEPS, MAX_OUTPUT
from alerting_server.validation.templates import check_rule_templates, check_template

SELF_CALL = '{{define "a"}}{{template "a"}}{{end}}{{template "a"}}'


def fan_out(levels: int) -> str:
    """Each level calls the one below twice: 2**levels calls in all."""
    defs = "".join(
        f'{{{{define "a{i}"}}}}{{{{template "a{i - 1}"}}}}{{{{template "a{i - 1}"}}}}{{{{end}}}}'
        for i in range(1, levels + 1)
    )
    return '{{define "a0"}}x{{end}}' + defs + f'{{{{template "a{levels}"}}}}'


def test_endless_template_recursion_stops_at_the_depth_limit() -> None:
    with pytest.raises(TemplateError) as info:
        parse_template(SELF_CALL).execute(None)
    assert 'executing "a"' in str(info.value)
    assert f"exceeded maximum template depth ({MAX_EXEC_DEPTH})" in str(info.value)


def test_recursion_through_tmpl_shares_the_depth_limit() -> None:
    with pytest.raises(TemplateError, match=r"exceeded maximum template depth"):
        parse_template('{{define "a"}}{{tmpl "a" .}}{{end}}{{template "a"}}').execute(None)


def test_exponential_fan_out_stops_at_the_step_limit() -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateError) as info:
        parse_template(fan_out(18)).execute(None)
    assert time.perf_counter() - started < 2.0
    assert f"exceeded maximum execution steps ({MAX_EXEC_STEPS})" in str(info.value)
    assert 'executing "a1"' in str(info.value)


def test_a_huge_range_stops_at_the_step_limit() -> None:
    with pytest.raises(TemplateError, match=r"exceeded maximum execution steps"):
        parse_template("{{range 1000000}}x{{end}}").execute(None)


def test_printf_refuses_a_huge_width_as_go_does() -> None:
    # Go's fmt stops reading a width past 10**6: no verb, and the argument is left over.
    assert parse_template('{{printf "%050000000d" 1}}').execute(None) == "%!(NOVERB)%!(EXTRA int=1)"
    assert parse_template('{{printf "%*d" 50000000 1}}').execute(None) == "%!(BADWIDTH)1"


def test_output_is_limited() -> None:
    # A width Go accepts, but more text than any annotation or message needs.
    with pytest.raises(TemplateError, match=rf"error calling printf: result exceeds {MAX_OUTPUT} characters"):
        parse_template('{{printf "%09999999d" 1}}').execute(None)
    with pytest.raises(TemplateError, match=rf"output exceeds {MAX_OUTPUT} characters"):
        parse_template('{{range 100000}}{{printf "%020d" 1}}{{end}}').execute(None)


def test_a_channel_template_has_the_same_limits() -> None:
    tmpl = parse_template(SELF_CALL, "slack.text", ALERTMANAGER_FUNCTIONS)
    with pytest.raises(
        TemplateError, match=r'template: slack.text:1:25: executing "a" .*maximum template depth'
    ):
        tmpl.execute(None, alertmanager_functions(now_ms=0))


def test_a_rule_annotation_that_recurses_expands_to_an_error() -> None:
    text = render_alert_template(SELF_CALL, "Bad", {}, 1.0, {})
    assert text.startswith("<error expanding template: error executing template __alert_Bad:")
    assert "exceeded maximum template depth" in text


def test_validation_rejects_recursion_with_no_condition() -> None:
    v = Violations()
    check_rule_templates(v, "annotations", {"summary": SELF_CALL}, "Bad")
    check_template(
        v,
        "slack.text",
        '{{define "a"}}{{template "b"}}{{end}}{{define "b"}}{{template "a"}}{{end}}x{{template "a"}}',
    )
    assert [(f.field, f.description) for f in v.items] == [
        (
            "annotations.summary",
            'template: __alert_Bad: template "a" calls itself with no condition, so it never ends',
        ),
        ("slack.text", 'template: text: template "a" calls itself with no condition, so it never ends'),
    ]


def test_validation_accepts_recursion_under_a_condition() -> None:
    v = Violations()
    check_template(v, "text", '{{define "a"}}{{if .}}{{template "a"}}{{end}}{{end}}{{template "a" 1}}')
    assert v.items == []


def test_nesting_too_deep_for_the_parser_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="max expression depth exceeded"):
        parse_template("{{" + "(" * 2000 + "1" + ")" * 2000 + "}}")
    with pytest.raises(TemplateError, match="max expression depth exceeded"):
        parse_template("{{if 1}}" * 2000)


_FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
_PIECES = st.sampled_from(
    [
        "{{",
        "}}",
        "{{-",
        "-}}",
        "(",
        ")",
        "|",
        " ",
        "$x",
        ":=",
        "=",
        ".",
        ".Labels",
        '"a"',
        "`b`",
        "1",
        "1.5e3",
        "'c'",
        "if",
        "else",
        "end",
        "range",
        "with",
        "define",
        "template",
        "block",
        "break",
        "continue",
        "printf",
        "tmpl",
        "nil",
        "true",
        "/*",
        "*/",
        "\n",
        "x",
    ]
)
_TEMPLATES = st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=40).map("".join))


@_FUZZ
@given(_TEMPLATES)
def test_any_template_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        tmpl = parse_template(text)
    except TemplateError:
        return
    with contextlib.suppress(TemplateError):
        tmpl.execute(None)
