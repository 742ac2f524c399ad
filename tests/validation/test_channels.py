from __future__ import annotations

from typing import Any

import pytest

from alerting_server.model import Channel, ChannelType
from alerting_server.validation.channels import merge_secrets, redact, secret_fields
from alerting_server.validation.resources import validate_channel
from tests.validation.helpers import violations_of

EMAIL: dict[str, Any] = {
    "to": ["a@x.org", "Ops Team <ops@x.org>"],
    "from": "alerts@x.org",
    "smarthost": "smtp.x.org:587",
    "username": "alerts",
    "password": "hunter2",
    "starttls": True,
    "reply_to": "noreply@x.org",
    "headers": {"X-Team": "infra"},
    "send_resolved": True,
}
SLACK: dict[str, Any] = {
    "webhook_url": "https://hooks.slack.com/services/T0/B0/XXX",
    "channel": "#alerts",
    "username": "alertbot",
    "icon_emoji": ":fire:",
    "send_resolved": False,
}
PAGERDUTY: dict[str, Any] = {
    "routing_key": "0123456789abcdef0123456789abcdef",
    "url": "https://events.pagerduty.com/v2/enqueue",
    "severity": "critical",
    "send_resolved": True,
}
WEBHOOK: dict[str, Any] = {
    "url": "http://127.0.0.1:9000/hook",
    "headers": {"Authorization": "Bearer abc", "X-Env": "prod"},
    "hmac_secret": "s3cret",
    "max_alerts": 10,
    "timeout": "10s",
    "send_resolved": True,
}
OPSGENIE: dict[str, Any] = {
    "api_key": "0a1b2c3d-genie-key",
    "api_url": "https://api.eu.opsgenie.com/",
    "message": "{{ .CommonLabels.alertname }}",
    "details": {"team": "{{ .CommonLabels.team }}"},
    "responders": [{"name": "ops,db", "type": "teams"}, {"username": "jane@x.org", "type": "User"}],
    "tags": "prod,{{ .CommonLabels.job }}",
    "priority": "P2",
    "update_alerts": True,
    "send_resolved": True,
}
VICTOROPS: dict[str, Any] = {
    "api_key": "vo-api-key",
    "api_url": "https://alert.victorops.com/integrations/generic/20131114/alert/",
    "routing_key": "team-{{ .CommonLabels.team }}",
    "message_type": "WARNING",
    "custom_fields": {"runbook": "{{ .CommonAnnotations.runbook }}"},
    "send_resolved": True,
}
PUSHOVER: dict[str, Any] = {
    "user_key": "u-key",
    "token": "app-token",
    "title": "{{ .CommonLabels.alertname }}",
    "priority": "1",
    "retry": "2m",
    "expire": "3h",
    "ttl": "1d",
    "device": "phone",
    "html": True,
    "send_resolved": False,
}
GOOD = {
    ChannelType.EMAIL: EMAIL,
    ChannelType.SLACK: SLACK,
    ChannelType.PAGERDUTY: PAGERDUTY,
    ChannelType.WEBHOOK: WEBHOOK,
    ChannelType.OPSGENIE: OPSGENIE,
    ChannelType.VICTOROPS: VICTOROPS,
    ChannelType.PUSHOVER: PUSHOVER,
}


def errors(type: ChannelType, config: dict[str, Any], name: str = "ch") -> dict[str, str]:
    return violations_of(lambda: validate_channel(Channel(name=name, type=type, config=config)))


@pytest.mark.parametrize("type", list(ChannelType))
def test_full_configs_are_valid(type: ChannelType) -> None:
    validate_channel(Channel(name="ch", type=type, config=GOOD[type]))


@pytest.mark.parametrize(
    ("type", "config"),
    [
        (ChannelType.EMAIL, {"to": ["a@x.org"], "from": "b@x.org", "smarthost": "[::1]:25"}),
        (ChannelType.EMAIL, {"to": ["a@x.org"], "from": "b@x.org", "smarthost": "mail:465", "tls": True}),
        (ChannelType.SLACK, {"webhook_url": "http://localhost:8080/slack"}),
        (ChannelType.PAGERDUTY, {"routing_key": "short-but-accepted"}),
        (
            ChannelType.PAGERDUTY,
            {"routing_key": "k", "severity": "{{ if .CommonLabels.severity }}x{{ end }}"},
        ),
        (ChannelType.WEBHOOK, {"url": "https://example.com", "max_alerts": 0, "headers": {}}),
        # Numbers that went through a protobuf Struct are floats.
        (ChannelType.WEBHOOK, {"url": "https://example.com", "max_alerts": 5.0}),
        (ChannelType.WEBHOOK, {"url": "https://example.com", "timeout": None}),
    ],
)
def test_minimal_configs_are_valid(type: ChannelType, config: dict[str, Any]) -> None:
    validate_channel(Channel(name="ch", type=type, config=config))


@pytest.mark.parametrize(
    ("type", "config", "expected"),
    [
        (
            ChannelType.EMAIL,
            {},
            {
                "config.to": "is required",
                "config.from": "is required",
                "config.smarthost": 'is required: the SMTP server as "host:port"',
            },
        ),
        (ChannelType.SLACK, {}, {"config.webhook_url": "is required: the Slack incoming webhook URL"}),
        (
            ChannelType.PAGERDUTY,
            {"routing_key": ""},
            {
                "config.routing_key": "is required: the 32-character integration key of a PagerDuty "
                "Events API v2 integration"
            },
        ),
        (ChannelType.WEBHOOK, {"url": None}, {"config.url": "is required"}),
    ],
)
def test_required_fields(type: ChannelType, config: dict[str, Any], expected: dict[str, str]) -> None:
    assert errors(type, config) == expected


def test_unknown_fields_are_errors() -> None:
    found = errors(ChannelType.SLACK, {**SLACK, "foo": 1, "webhookurl": "x"})
    assert set(found) == {"config.foo", "config.webhookurl"}
    assert found["config.foo"].startswith(
        "unknown field for a slack channel (known: actions, callback_id, channel, color, fallback,"
    )


@pytest.mark.parametrize(
    ("type", "changes", "field", "reason"),
    [
        (ChannelType.EMAIL, {"to": "a@x.org"}, "config.to", "must be a list of email addresses, got string"),
        (ChannelType.EMAIL, {"to": ["a@x.org", "nope"]}, "config.to[1]", "invalid email address 'nope'"),
        (
            ChannelType.EMAIL,
            {"to": ["a@x.org", 7]},
            "config.to[1]",
            "must be an email address string, got number",
        ),
        (
            ChannelType.EMAIL,
            {"from": "a@x.org\nBcc: evil@y.org"},
            "config.from",
            "invalid email address 'a@x.org\\nBcc: evil@y.org'",
        ),
        (ChannelType.EMAIL, {"reply_to": "two@@x"}, "config.reply_to", "invalid email address 'two@@x'"),
        (
            ChannelType.EMAIL,
            {"smarthost": "smtp.x.org"},
            "config.smarthost",
            "must be \"host:port\", got 'smtp.x.org'",
        ),
        (
            ChannelType.EMAIL,
            {"smarthost": "smtp:0"},
            "config.smarthost",
            "invalid port '0': must be 1..65535",
        ),
        (
            ChannelType.EMAIL,
            {"smarthost": "smtp:http"},
            "config.smarthost",
            "invalid port 'http': must be 1..65535",
        ),
        (
            ChannelType.EMAIL,
            {"smarthost": "::1:25"},
            "config.smarthost",
            "an IPv6 host must be in brackets, as \"[::1]:25\"; got '::1:25'",
        ),
        (ChannelType.EMAIL, {"starttls": "yes"}, "config.starttls", "must be a boolean, got string"),
        (
            ChannelType.EMAIL,
            {"tls": True},
            "config.tls",
            "tls (implicit TLS, usually port 465) and starttls are mutually exclusive",
        ),
        (
            ChannelType.EMAIL,
            {"headers": ["X: y"]},
            "config.headers",
            "must be an object of header names to values, got array",
        ),
        (
            ChannelType.EMAIL,
            {"headers": {"Bad Name": "v"}},
            "config.headers.Bad Name",
            "invalid header name 'Bad Name'",
        ),
        (ChannelType.EMAIL, {"password": 1234}, "config.password", "must be a string, got number"),
        (
            ChannelType.SLACK,
            {"webhook_url": "hooks.slack.com/x"},
            "config.webhook_url",
            "must be an absolute http or https URL",
        ),
        (
            ChannelType.SLACK,
            {"webhook_url": "ftp://hooks.slack.com/x"},
            "config.webhook_url",
            "must be an http or https URL, got scheme 'ftp'",
        ),
        (ChannelType.SLACK, {"webhook_url": "https://"}, "config.webhook_url", "URL has no host"),
        (
            ChannelType.SLACK,
            {"webhook_url": "https://h:99999/"},
            "config.webhook_url",
            "invalid URL: Port out of range 0-65535",
        ),
        (
            ChannelType.SLACK,
            {"webhook_url": "https://h/a b"},
            "config.webhook_url",
            "URL must not contain whitespace",
        ),
        (ChannelType.SLACK, {"channel": ["#a"]}, "config.channel", "must be a template string, got array"),
        (ChannelType.SLACK, {"send_resolved": 1}, "config.send_resolved", "must be a boolean, got number"),
        (
            ChannelType.PAGERDUTY,
            {"url": "mailto:x@y"},
            "config.url",
            "must be an http or https URL, got scheme 'mailto'",
        ),
        (
            ChannelType.PAGERDUTY,
            {"severity": "high"},
            "config.severity",
            "must be one of critical, error, warning, info (or a template), got 'high'",
        ),
        (
            ChannelType.PAGERDUTY,
            {"severity": "{{ nosuchfunc }}"},
            "config.severity",
            'function "nosuchfunc" not defined',
        ),
        (ChannelType.WEBHOOK, {"max_alerts": -1}, "config.max_alerts", "must not be negative, got -1"),
        (ChannelType.WEBHOOK, {"max_alerts": 1.5}, "config.max_alerts", "must be an integer, got 1.5"),
        (ChannelType.WEBHOOK, {"max_alerts": True}, "config.max_alerts", "must be an integer, got boolean"),
        (
            ChannelType.WEBHOOK,
            {"timeout": "ten seconds"},
            "config.timeout",
            "not a valid duration string: 'ten seconds'",
        ),
        (ChannelType.WEBHOOK, {"timeout": "0s"}, "config.timeout", "must be greater than zero"),
        (
            ChannelType.WEBHOOK,
            {"headers": {"X-A": 1}},
            "config.headers.X-A",
            "header value must be a string, got number",
        ),
        (
            ChannelType.WEBHOOK,
            {"headers": {"X-A": "a\r\nInjected: 1"}},
            "config.headers.X-A",
            "header value must not contain line breaks",
        ),
        (
            ChannelType.WEBHOOK,
            {"url": "https://h/" + "a" * 9000},
            "config.url",
            "must be at most 8192 characters",
        ),
    ],
)
def test_bad_values_name_the_field(
    type: ChannelType, changes: dict[str, Any], field: str, reason: str
) -> None:
    found = errors(type, {**GOOD[type], **changes})
    assert list(found) == [field]
    assert reason in found[field]


def test_all_violations_are_reported_together() -> None:
    found = errors(
        ChannelType.WEBHOOK,
        {"url": "nope", "max_alerts": -2, "timeout": "x", "extra": True},
        name="",
    )
    assert set(found) == {"name", "config.url", "config.max_alerts", "config.timeout", "config.extra"}


def test_secret_fields() -> None:
    assert secret_fields(ChannelType.EMAIL) == {"password", "auth_secret"}
    # A proxy's address may carry its credentials, and its CONNECT headers mostly do.
    proxy = {"proxy_url", "proxy_connect_header"}
    assert secret_fields(ChannelType.SLACK) == {"webhook_url", *proxy}
    assert secret_fields(ChannelType.PAGERDUTY) == {"routing_key", "service_key", *proxy}
    assert secret_fields(ChannelType.WEBHOOK) == {"url", "hmac_secret", *proxy}
    assert secret_fields(ChannelType.OPSGENIE) == {"api_key", *proxy}
    assert secret_fields(ChannelType.VICTOROPS) == {"api_key", *proxy}
    assert secret_fields(ChannelType.PUSHOVER) == {"user_key", "token", *proxy}


def test_redact_hides_secrets_and_every_header_value() -> None:
    assert redact(ChannelType.WEBHOOK, WEBHOOK) == {
        **WEBHOOK,
        "url": "<secret>",
        "hmac_secret": "<secret>",
        "headers": {"Authorization": "<secret>", "X-Env": "<secret>"},
    }
    assert redact(ChannelType.SLACK, SLACK)["webhook_url"] == "<secret>"
    assert redact(ChannelType.PAGERDUTY, PAGERDUTY)["routing_key"] == "<secret>"
    email = redact(ChannelType.EMAIL, {**EMAIL, "headers": {"authorization": "Basic x"}})
    assert email["password"] == "<secret>"
    assert email["headers"] == {"authorization": "<secret>"}
    # The input is not modified, and unset secrets stay unset.
    assert WEBHOOK["hmac_secret"] == "s3cret"
    assert WEBHOOK["headers"]["Authorization"] == "Bearer abc"
    assert "password" not in redact(ChannelType.EMAIL, {"to": ["a@x.org"]})


def test_read_modify_write_keeps_secrets() -> None:
    shown = redact(ChannelType.WEBHOOK, WEBHOOK)
    edited = {**shown, "max_alerts": 3}
    merged = merge_secrets(ChannelType.WEBHOOK, edited, WEBHOOK)
    assert merged == {**WEBHOOK, "max_alerts": 3}
    validate_channel(Channel(name="ch", type=ChannelType.WEBHOOK, config=merged))


def test_merge_secrets_takes_new_secrets_and_matches_headers_case_insensitively() -> None:
    new = {**WEBHOOK, "hmac_secret": "rotated", "headers": {"authorization": "<secret>"}}
    merged = merge_secrets(ChannelType.WEBHOOK, new, WEBHOOK)
    assert merged["hmac_secret"] == "rotated"
    assert merged["headers"] == {"authorization": "Bearer abc"}


def test_placeholder_without_a_stored_secret_is_an_error() -> None:
    # On create there is nothing stored: the placeholder survives merging and validation refuses it.
    config = merge_secrets(
        ChannelType.WEBHOOK,
        {"url": "https://x.org", "hmac_secret": "<secret>", "headers": {"Authorization": "<secret>"}},
        {},
    )
    found = errors(ChannelType.WEBHOOK, config)
    assert set(found) == {"config.hmac_secret", "config.headers.Authorization"}
    assert "send the secret itself" in found["config.hmac_secret"]
    found = errors(ChannelType.PAGERDUTY, {"routing_key": "<secret>"})
    assert set(found) == {"config.routing_key"}


@pytest.mark.parametrize(
    ("type", "key"),
    [
        (ChannelType.EMAIL, "subject"),
        (ChannelType.EMAIL, "text"),
        (ChannelType.EMAIL, "html"),
        (ChannelType.SLACK, "title"),
        (ChannelType.SLACK, "text"),
        (ChannelType.SLACK, "pretext"),
        (ChannelType.SLACK, "footer"),
        (ChannelType.PAGERDUTY, "summary"),
        (ChannelType.PAGERDUTY, "client"),
        (ChannelType.PAGERDUTY, "client_url"),
        (ChannelType.OPSGENIE, "message"),
        (ChannelType.OPSGENIE, "tags"),
        (ChannelType.VICTOROPS, "routing_key"),
        (ChannelType.VICTOROPS, "state_message"),
        (ChannelType.PUSHOVER, "title"),
        (ChannelType.PUSHOVER, "priority"),
    ],
)
def test_message_templates_are_parsed_with_alertmanagers_functions(type: ChannelType, key: str) -> None:
    good = (
        "{{ range .Alerts.Firing }}{{ .Labels.instance | toUpper }}{{ end }}"
        '{{ .CommonLabels.Names | join "," }}'
    )
    validate_channel(Channel(name="ch", type=type, config={**GOOD[type], key: good}))
    assert errors(type, {**GOOD[type], key: "{{ .Status "}) == {
        f"config.{key}": f"template: {key}:1: unclosed action"
    }
    # Prometheus' query functions are not Alertmanager's.
    found = errors(type, {**GOOD[type], key: "{{ humanize 1 }}"})
    assert found == {f"config.{key}": f'template: {key}:1: function "humanize" not defined'}
    assert errors(type, {**GOOD[type], key: 3}) == {f"config.{key}": "must be a template string, got number"}


@pytest.mark.parametrize(
    ("type", "changes", "field", "reason"),
    [
        (ChannelType.OPSGENIE, {"api_key": ""}, "config.api_key", "is required"),
        (ChannelType.OPSGENIE, {"api_url": "ftp://x"}, "config.api_url", "http"),
        (
            ChannelType.OPSGENIE,
            {"responders": [{"type": "team"}]},
            "config.responders[0]",
            "at least one of id, username or name",
        ),
        (
            ChannelType.OPSGENIE,
            {"responders": [{"id": "1", "type": "squad"}]},
            "config.responders[0].type",
            "must be one of team, teams, user, escalation, schedule",
        ),
        (ChannelType.OPSGENIE, {"responders": [{"id": "1"}]}, "config.responders[0].type", "is required"),
        (
            ChannelType.OPSGENIE,
            {"responders": [{"id": "1", "type": "user", "team": "x"}]},
            "config.responders[0].team",
            "unknown field",
        ),
        (ChannelType.OPSGENIE, {"details": {"a": 1}}, "config.details.a", "must be a template string"),
        (ChannelType.OPSGENIE, {"update_alerts": "yes"}, "config.update_alerts", "must be a boolean"),
        (ChannelType.VICTOROPS, {"routing_key": ""}, "config.routing_key", "is required"),
        (
            ChannelType.VICTOROPS,
            {"custom_fields": {"entity_id": "x"}},
            "config.custom_fields.entity_id",
            "conflicts with a fixed field",
        ),
        (ChannelType.PUSHOVER, {"token": ""}, "config.token", "is required"),
        (ChannelType.PUSHOVER, {"user_key": ""}, "config.user_key", "is required"),
        (ChannelType.PUSHOVER, {"retry": "soon"}, "config.retry", "not a valid duration"),
        (ChannelType.PUSHOVER, {"html": 1}, "config.html", "must be a boolean"),
    ],
)
def test_bad_values_of_alertmanagers_other_integrations_name_the_field(
    type: ChannelType, changes: dict[str, Any], field: str, reason: str
) -> None:
    found = errors(type, {**GOOD[type], **changes})
    assert list(found) == [field], found
    assert reason in found[field]


def test_webhooks_have_no_message_templates() -> None:
    assert list(errors(ChannelType.WEBHOOK, {**GOOD[ChannelType.WEBHOOK], "text": "x"})) == ["config.text"]


@pytest.mark.parametrize(
    ("type", "base"),
    [
        (ChannelType.EMAIL, EMAIL),
        (ChannelType.SLACK, SLACK),
        (ChannelType.PAGERDUTY, PAGERDUTY),
        (ChannelType.WEBHOOK, WEBHOOK),
    ],
)
def test_style_is_alertmanager_or_absent(type: ChannelType, base: dict[str, Any]) -> None:
    validate_channel(Channel(name="ch", type=type, config={**base, "style": "alertmanager"}))
    assert errors(type, {**base, "style": "fancy"}) == {
        "config.style": "must be \"alertmanager\" (or absent, for this server's own messages), got 'fancy'"
    }
    assert set(errors(type, {**base, "style": 1})) == {"config.style"}


def test_alertmanagers_slack_fields_are_accepted_and_checked() -> None:
    good = {
        **SLACK,
        "style": "alertmanager",
        "title": '{{ template "slack.default.title" . }}',
        "title_link": "{{ .ExternalURL }}",
        "color": '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
        "fallback": "f",
        "callback_id": "c",
        "icon_url": "https://x/i.png",
        "image_url": "",
        "thumb_url": "",
        "link_names": True,
        "short_fields": True,
        "mrkdwn_in": ["text", "fields"],
        "fields": [{"title": "T", "value": "{{ .Status }}", "short": False}],
        "actions": [
            {
                "type": "button",
                "text": "Go",
                "url": "{{ .ExternalURL }}",
                "confirm": {"text": "Sure?", "ok_text": "Y"},
            }
        ],
    }
    validate_channel(Channel(name="ch", type=ChannelType.SLACK, config=good))
    bad = {
        **SLACK,
        "title_link": "{{ .Foo",
        "link_names": "yes",
        "mrkdwn_in": "text",
        "fields": [{"title": "T"}, {"value": "v", "colour": "red"}, "x"],
        "actions": [{"type": "button", "text": "Go", "confirm": {"title": "no text"}}],
    }
    found = errors(ChannelType.SLACK, bad)
    assert set(found) == {
        "config.title_link",
        "config.link_names",
        "config.mrkdwn_in",
        "config.fields[0].value",
        "config.fields[1].colour",
        "config.fields[1].title",
        "config.fields[2]",
        "config.actions[0].confirm.text",
    }
    assert found["config.fields[0].value"] == "is required"
    assert found["config.title_link"].startswith("template: title_link:1: unclosed action")


def test_alertmanagers_pagerduty_fields_are_accepted_and_checked() -> None:
    good = {
        **PAGERDUTY,
        "style": "alertmanager",
        "description": '{{ template "pagerduty.default.description" . }}',
        "details": {"firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}', "team": "ops"},
        "class": "c",
        "component": "{{ .CommonLabels.job }}",
        "group": "g",
        "source": "s",
        "images": [{"src": "https://x/a.png", "alt": "a", "href": ""}],
        "links": [{"href": "{{ .ExternalURL }}", "text": "AM"}],
    }
    validate_channel(Channel(name="ch", type=ChannelType.PAGERDUTY, config=good))
    found = errors(
        ChannelType.PAGERDUTY,
        {**PAGERDUTY, "details": {"a": 1, "b": "{{"}, "images": {"src": "x"}, "links": [{"url": "x"}]},
    )
    assert set(found) == {"config.details.a", "config.details.b", "config.images", "config.links[0].url"}
