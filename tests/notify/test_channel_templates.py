"""Overridden message texts reach real receivers: SMTP, Slack's and PagerDuty's wire contracts;
a text that fails at send time is replaced by the default and the result says so."""

from __future__ import annotations

import json
from typing import Any

import httpx

from alerting_server.model import Channel, ChannelType
from alerting_server.notify.alertmanager import TemplateSet
from alerting_server.notify.factory import notifier_for
from alerting_server.notify.integrations import integration
from alerting_server.notify.integrations.email import EmailConfig
from alerting_server.notify.integrations.email.notifier import EmailNotifier
from alerting_server.notify.notifier import Notifier
from alerting_server.notify.templates import ChannelTemplates
from tests.notify.alerts import T0, high_cpu_message
from tests.notify.conftest import FixedClock
from tests.notify.receiver import Receiver
from tests.notify.smtp import Handler, smtp_server

SUBJECT = "{{ .Alerts.Firing | len }} firing in {{ .GroupLabels.alertname }} for {{ .Receiver }}"
TEXT = "{{ range .Alerts }}{{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }}\n{{ end }}"
HTML = "<p>{{ .CommonLabels.severity | toUpper }}</p>"
BROKEN = '{{ index .CommonLabels "a" "b" }}'  # parses, fails at run time: a string is not indexable


def channel(type: ChannelType, config: dict[str, Any]) -> Channel:
    return Channel(name="ch", type=type, config=config, id="c1")


def notifier(client: httpx.AsyncClient, type: ChannelType, config: dict[str, Any]) -> Notifier:
    return notifier_for(channel(type, config), client, clock=FixedClock(T0))


def email(port: int, **texts: str) -> EmailNotifier:
    config = EmailConfig(
        sender="alerts@example.org",
        to=("oncall@example.org",),
        host="127.0.0.1",
        port=port,
        templates=ChannelTemplates.from_config(integration(ChannelType.EMAIL).templates, texts),
    )
    return EmailNotifier(config=config, timeout_s=5.0, clock=FixedClock(T0))


async def test_email_subject_text_and_html_are_the_channels_templates() -> None:
    handler = Handler()
    with smtp_server(handler) as port:
        result = await email(port, subject=SUBJECT, text=TEXT, html=HTML).notify(
            high_cpu_message(), idempotency_key="k"
        )
    assert result.ok, result.reason
    assert result.reason == ""
    [got] = handler.received
    mail = got.message
    assert mail["Subject"] == "2 firing in HighCPU for ops"
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert (
        text.get_content().replace("\r\n", "\n")
        == "firing a: CPU high\nfiring b: CPU high on b\nresolved c: \n"
    )
    assert html.get_content().strip() == "<p>CRITICAL</p>"


async def test_email_with_a_failing_subject_is_sent_with_the_default_subject() -> None:
    handler = Handler()
    with smtp_server(handler) as port:
        result = await email(port, subject=BROKEN, text=TEXT).notify(high_cpu_message(), idempotency_key="k")
    assert result.ok
    assert result.reason.startswith('template config.subject: template: subject:1:3: executing "subject"')
    assert result.reason.endswith("(sent with the default text instead)")
    [got] = handler.received
    assert got.message["Subject"] == "[FIRING:2] HighCPU (critical)"
    body = got.message.get_body(("plain",))
    assert body is not None
    assert body.get_content().startswith("firing a: CPU high\r\n")  # SMTP line ends


async def test_slack_title_text_pretext_and_footer(receiver: Receiver, client: httpx.AsyncClient) -> None:
    config = {
        "webhook_url": receiver.url("/slack"),
        "title": "{{ .Status | title }}: {{ .CommonLabels.alertname }}\n(multi-line)",
        "text": "{{ range .Alerts.Firing }}*{{ .Labels.instance }}* {{ end }}",
        "pretext": "{{ len .Alerts }} alerts",
        "footer": "{{ .ExternalURL }}",
    }
    message = high_cpu_message()
    result = await notifier(client, ChannelType.SLACK, config).notify(message, idempotency_key="k")
    assert result.ok, result.reason
    payload = json.loads(receiver.requests[0].body)
    assert payload["text"] == "Firing: HighCPU (multi-line)"
    assert payload["blocks"][0]["text"]["text"] == "Firing: HighCPU (multi-line)"
    [attachment] = payload["attachments"]
    assert attachment["pretext"] == "3 alerts"
    assert attachment["footer"] == "http://alerting.example"
    assert attachment["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": "*a* *b* "}}
    # The buttons stay: only the alert sections are what `text` replaces.
    assert attachment["blocks"][-1]["type"] == "actions"


async def test_slack_without_templates_is_unchanged(receiver: Receiver, client: httpx.AsyncClient) -> None:
    config = {"webhook_url": receiver.url("/slack")}
    await notifier(client, ChannelType.SLACK, config).notify(high_cpu_message(), idempotency_key="k")
    [attachment] = json.loads(receiver.requests[0].body)["attachments"]
    assert "pretext" not in attachment
    assert "footer" not in attachment
    assert attachment["blocks"][0]["text"]["text"].startswith(":red_circle: *CPU high*")


async def test_pagerduty_summary_severity_client_and_client_url(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    config = {
        "routing_key": "0123456789abcdef0123456789abcdef",
        "url": receiver.url("/enqueue"),
        "summary": "{{ .CommonLabels.alertname }} on {{ len .Alerts.Firing }} hosts",
        "severity": '{{ if eq .CommonLabels.severity "critical" }}warning{{ else }}info{{ end }}',
        "client": "Alerting ({{ .Receiver }})",
        "client_url": "{{ .ExternalURL }}/groups",
    }
    result = await notifier(client, ChannelType.PAGERDUTY, config).notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert result.ok, result.reason
    event = json.loads(receiver.requests[0].body)
    assert event["payload"]["summary"] == "HighCPU on 2 hosts"
    # The template's severity wins over the alerts' own severity label.
    assert event["payload"]["severity"] == "warning"
    assert event["client"] == "Alerting (ops)"
    assert event["client_url"] == "http://alerting.example/groups"


async def test_pagerduty_severity_template_naming_no_severity_falls_back_to_the_labels(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    config = {
        "routing_key": "0123456789abcdef0123456789abcdef",
        "url": receiver.url("/enqueue"),
        "severity": "{{ .Status }}",
        "summary": BROKEN,
    }
    result = await notifier(client, ChannelType.PAGERDUTY, config).notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert result.ok
    assert "template config.summary" in result.reason
    event = json.loads(receiver.requests[0].body)
    assert event["payload"]["severity"] == "critical"
    assert event["payload"]["summary"] == "[FIRING:2] HighCPU (critical)"


async def test_texts_call_alertmanagers_default_templates_and_the_template_files(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    config = {
        "webhook_url": receiver.url("/slack"),
        "title": '{{ template "slack.default.title" . }}',
        "text": '{{ template "team.text" . }}',
    }
    files = TemplateSet([("team.tmpl", '{{ define "team.text" }}for {{ .Receiver }}{{ end }}')])
    result = await notifier_for(channel(ChannelType.SLACK, config), client, templates=files).notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert result.ok
    assert result.reason == ""
    body = receiver.requests[0].json()
    assert isinstance(body, dict)
    assert body["text"] == "[FIRING:2] HighCPU (critical)"
    assert body["attachments"][0]["blocks"][0]["text"]["text"] == "for ops"
    # Without the file, the call fails at send time: the default text is sent, and that is told.
    result = await notifier(client, ChannelType.SLACK, config).notify(high_cpu_message(), idempotency_key="k")
    assert result.ok
    assert 'no such template "team.text"' in result.reason


async def test_slack_channel_username_and_icon_may_be_templates(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    config = {
        "webhook_url": receiver.url("/slack"),
        "channel": "#{{ .CommonLabels.severity }}",
        "username": "{{ .Receiver | toUpper }}",
        "icon_emoji": ":fire:",
    }
    result = await notifier(client, ChannelType.SLACK, config).notify(high_cpu_message(), idempotency_key="k")
    assert result.ok
    body = receiver.requests[0].json()
    assert isinstance(body, dict)
    assert (body["channel"], body["username"], body["icon_emoji"]) == ("#critical", "OPS", ":fire:")
