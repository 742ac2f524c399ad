"""Alertmanager's template set: its default templates, user files read after them, a field's text."""

from __future__ import annotations

import pytest

from alerting_server.notify.alertmanager import TemplateSet
from alerting_server.notify.template_data import template_data
from alerting_server.templating import TemplateError
from tests.notify.alerts import high_cpu_message

DATA = template_data(high_cpu_message())


def test_the_default_templates_are_callable() -> None:
    names = TemplateSet().names()
    for name in (
        "__subject",
        "__text_alert_list",
        "slack.default.title",
        "slack.default.color",
        "email.default.subject",
        "email.default.html",
        "pagerduty.default.description",
        "pagerduty.default.instances",
    ):
        assert name in names
    ts = TemplateSet()
    assert ts.text('{{ template "slack.default.title" . }}', DATA, 0) == "[FIRING:2] HighCPU (critical)"
    assert ts.text('{{ template "__alertmanagerURL" . }}', DATA, 0) == (
        "http://alerting.example/#/alerts?receiver=ops"
    )
    assert ts.text('{{ template "pagerduty.default.instances" .Alerts.Resolved }}', DATA, 0) == (
        "Labels:\n - alertname = HighCPU\n - instance = c\n - severity = critical\nAnnotations:\nSource: \n"
    )


def test_a_user_file_redefines_a_default_and_adds_its_own() -> None:
    ts = TemplateSet(
        [
            ("a.tmpl", '{{ define "__alertmanager" }}Us{{ end }}{{ define "mine" }}[{{ .Status }}]{{ end }}'),
            ("b.tmpl", '{{ define "mine" }}<{{ .Status }}>{{ end }}'),
        ]
    )
    assert ts.text('{{ template "slack.default.username" . }}', DATA, 0) == "Us"
    # Files are read in order: the later definition wins.
    assert ts.text('{{ template "mine" . }}', DATA, 0) == "<firing>"
    # The defaults themselves are untouched for a set without the files.
    assert TemplateSet().text('{{ template "slack.default.username" . }}', DATA, 0) == "Alertmanager"


def test_an_empty_definition_does_not_replace_one_with_a_body() -> None:
    ts = TemplateSet([("a.tmpl", '{{ define "__subject" }}{{ end }}')])
    assert ts.text('{{ template "__subject" . }}', DATA, 0) == "[FIRING:2] HighCPU (critical)"


def test_a_file_that_does_not_parse_is_left_out_and_told() -> None:
    ts = TemplateSet([("bad.tmpl", '{{ define "x" }}{{ .Foo '), ("good.tmpl", '{{ define "y" }}y{{ end }}')])
    assert len(ts.errors) == 1
    assert "bad.tmpl" in ts.errors[0]
    assert ts.text('{{ template "y" . }}', DATA, 0) == "y"


def test_a_field_may_define_templates_of_its_own() -> None:
    ts = TemplateSet()
    text = '{{ define "__alertmanager" }}Field{{ end }}{{ template "slack.default.username" . }}'
    assert ts.text(text, DATA, 0) == "Field"
    # ... for itself only.
    assert ts.text('{{ template "slack.default.username" . }}', DATA, 0) == "Alertmanager"


def test_an_empty_field_renders_as_empty_and_failures_raise() -> None:
    ts = TemplateSet()
    assert ts.text("", DATA, 0) == ""
    with pytest.raises(TemplateError, match="no such template"):
        ts.text('{{ template "nope" . }}', DATA, 0)
    with pytest.raises(TemplateError):
        ts.text("{{ .Status", DATA, 0)


def test_html_fields_are_escaped_and_text_fields_are_not() -> None:
    ts = TemplateSet()
    assert ts.text("<b>{{ .CommonLabels.alertname }}&</b>{{ `<&>` }}", DATA, 0) == "<b>HighCPU&</b><&>"
    assert ts.html("<b>{{ `<&>` }}</b>", DATA, 0) == "<b>&lt;&amp;&gt;</b>"
