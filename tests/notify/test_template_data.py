"""Alertmanager's template data model, exercised through the templates that use it."""

from __future__ import annotations

import pytest

from alerting_server.model import ChannelType
from alerting_server.notify.integrations import integration
from alerting_server.notify.message import build_message
from alerting_server.notify.template_data import KV, template_data
from alerting_server.notify.templates import ChannelTemplates
from tests.notify.alerts import T0, firing, high_cpu_message, resolved

# Alertmanager's default.tmpl `__subject`, verbatim: the template most overrides start from.
AM_SUBJECT = (
    '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
    '{{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}'
    '({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}'
)


def render(text: str, now_ms: int = T0) -> tuple[str, list[str]]:
    templates = ChannelTemplates.from_config(integration(ChannelType.EMAIL).templates, {"subject": text})
    expander = templates.expander(high_cpu_message(), now_ms)
    return expander.text("subject", lambda: "DEFAULT"), expander.errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (AM_SUBJECT, "[FIRING:2] HighCPU (critical)"),
        ("{{ .Status }} {{ .Receiver }} {{ .ExternalURL }}", "firing ops http://alerting.example"),
        ("{{ len .Alerts }}/{{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }}", "3/2/1"),
        (
            "{{ range .Alerts.Firing }}{{ .Labels.instance }}={{ .Annotations.summary }};{{ end }}",
            "a=CPU high;b=CPU high on b;",
        ),
        (
            "{{ range .CommonLabels.SortedPairs }}{{ .Name }}:{{ .Value }} {{ end }}",
            "alertname:HighCPU severity:critical ",
        ),
        ("{{ .CommonLabels.Names }} {{ .CommonLabels.Values }}", "[alertname severity] [HighCPU critical]"),
        (
            "{{ .CommonLabels }}|{{ .CommonLabels.SortedPairs }}",
            "alertname=HighCPU, severity=critical|alertname=HighCPU, severity=critical",
        ),
        (
            "{{ range $k, $v := .GroupLabels }}{{ $k }}={{ $v }}{{ end }} "
            '{{ index .CommonLabels "severity" }}',
            "alertname=HighCPU critical",
        ),
        ("[{{ .CommonLabels.nothere }}] {{ .CommonAnnotations }}", "[] "),
        (
            "{{ (index .Alerts 0).StartsAt }} {{ (index .Alerts 0).EndsAt }}",
            "2023-11-14 22:13:20 +0000 UTC 0001-01-01 00:00:00 +0000 UTC",
        ),
        (
            '{{ (index .Alerts 2).Status }} {{ (index .Alerts 2).EndsAt.UTC.Format "15:04:05.000" }}',
            "resolved 22:15:20.500",
        ),
        (
            "{{ (index .Alerts 0).Fingerprint }} {{ (index .Alerts 0).GeneratorURL }}",
            "fp-HighCPU-a http://prom.example/graph?g0.expr=HighCPU",
        ),
        ("{{ (index .Alerts 0).StartsAt | since | humanizeDuration }}", "1m 0s"),
        ('{{ define "x" }}{{ .Alerts.Firing | len }}{{ end }}{{ template "x" . }}', "2"),
    ],
)
def test_alertmanager_templates_render_on_the_data_model(text: str, expected: str) -> None:
    assert render(text, now_ms=T0 + 60_000) == (expected, [])


def test_a_template_that_fails_at_send_time_yields_the_default_and_says_why() -> None:
    text, errors = render("{{ .Nope }}")
    assert text == "DEFAULT"
    assert errors == [
        'template config.subject: template: subject:1:3: executing "subject" at <.Nope>: '
        "can't evaluate field Nope in type *template.Data"
    ]


def test_a_stored_template_that_does_not_parse_is_told_at_every_send() -> None:
    templates = ChannelTemplates.from_config(
        integration(ChannelType.SLACK).templates, {"title": "{{ .Status "}
    )
    expander = templates.expander(high_cpu_message(), T0)
    assert expander.text("title", lambda: "default title") == "default title"
    assert expander.reason().startswith("template config.title: template: title:1:")
    assert expander.reason().endswith("(sent with the default text instead)")


def test_a_template_that_recurses_forever_falls_back() -> None:
    text, errors = render('{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}')
    assert text == "DEFAULT"
    assert len(errors) == 1


def test_kv_methods_follow_alertmanager() -> None:
    kv = KV({"zone": "z", "alertname": "A", "job": "j"})
    assert kv.Names() == ["alertname", "job", "zone"]
    assert kv.Values() == ["A", "j", "z"]
    assert kv.Remove(["job", "absent"]) == {"zone": "z", "alertname": "A"}
    assert isinstance(kv.Remove([]), KV)
    assert kv.SortedPairs().String() == "alertname=A, job=j, zone=z"


def test_data_receiver_is_regexp_quoted_and_firing_alerts_have_no_end() -> None:
    message = build_message(
        receiver="team.a (eu)",
        group_key="k",
        group_labels={},
        firing=[firing("A", "x")],
        resolved=[resolved("A", "y", at=T0 + 5000)],
    )
    data = template_data(message)
    assert data.Receiver == r"team\.a \(eu\)"
    assert [a.Status for a in data.Alerts] == ["firing", "resolved"]
    assert data.Alerts[0].EndsAt.String() == "0001-01-01 00:00:00 +0000 UTC"
    assert data.Alerts[1].EndsAt.UnixMilli() == T0 + 5000
    assert data.CommonLabels == {"alertname": "A", "severity": "critical"}


def test_only_the_fields_of_the_channel_type_are_templates() -> None:
    templates = ChannelTemplates.from_config(
        integration(ChannelType.PAGERDUTY).templates,
        {"summary": "s", "severity": "critical", "subject": "not pagerduty's"},
    )
    # A plain severity stays the default under the alerts' labels, as before templates.
    assert set(templates.templates) == {"summary"}
    assert "severity" in ChannelTemplates.from_config(
        integration(ChannelType.PAGERDUTY).templates, {"severity": "{{ .Status }}"}
    )
