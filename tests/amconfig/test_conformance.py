"""Alertmanager's own configuration test files get the verdict its config_test.go gives them
(/work/shared/conformance/alertmanager/README.md), with the error about the same field."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting_server.amconfig import ConfigError, LoadedConfig, load
from alerting_server.errors import Violations
from alerting_server.model import ChannelType
from alerting_server.validation.channels import check_channel_config

DATA = Path("/work/shared/conformance/alertmanager")

GOOD = [
    "config/conf.good.yml",
    "config/conf.empty-fields.yml",
    "config/conf.group-by-all.yml",
    "config/conf.http-config.good.yml",
    "config/conf.slack-default-api-url-file.yml",
    "config/conf.slack-default-app-token.yml",
    "config/conf.smtp-no-username-or-password.yml",
    "config/conf.smtp-password-global-and-local.yml",
    "examples/simple.yml",
    "examples/route_labels.yml",
]
# File -> (field path of the error, words of its message).
BAD = {
    "config/conf.slack-both-file-and-token.yml": (
        "global.slack_app_token_file",
        "at most one of slack_app_token & slack_app_token_file",
    ),
    "config/conf.slack-both-file-and-url.yml": (
        "global.slack_api_url_file",
        "at most one of slack_api_url & slack_api_url_file",
    ),
    "config/conf.slack-both-url-and-token.yml": (
        "global.slack_app_token",
        "at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file",
    ),
    "config/conf.slack-no-api-url-or-token.yml": (
        "receivers[0].slack_configs[0].api_url",
        "no Slack API URL nor App token set",
    ),
    "config/conf.slack-update-message-and-webhook.yml": (
        "receivers[0].slack_configs[0].update_message",
        "update_message can only be used with bot tokens",
    ),
    "config/conf.smtp-both-password-and-file.yml": (
        "global.smtp_auth_password_file",
        "at most one of smtp_auth_password & smtp_auth_password_file",
    ),
    "config/conf.nil-match_re-route.yml": ("route.routes[0].match_re.invalid_label", "invalid_label"),
    "config/conf.nil-source_match_re-inhibition.yml": (
        "inhibit_rules[0].source_match_re.invalid_source_label",
        "invalid_source_label",
    ),
    "config/conf.nil-target_match_re-inhibition.yml": (
        "inhibit_rules[0].target_match_re.invalid_target_label",
        "invalid_target_label",
    ),
}


def _load(name: str) -> LoadedConfig:
    path = DATA / name
    return load(path.read_text(), str(path))


def test_every_file_has_a_verdict() -> None:
    files = {str(p.relative_to(DATA)) for d in ("config", "examples") for p in (DATA / d).glob("*.yml")}
    assert files == {*GOOD, *BAD}


@pytest.mark.parametrize("name", GOOD)
def test_loads(name: str) -> None:
    _load(name)


@pytest.mark.parametrize("name", sorted(BAD))
def test_refused_naming_the_field(name: str) -> None:
    field, words = BAD[name]
    with pytest.raises(ConfigError) as caught:
        _load(name)
    problems = caught.value.problems
    assert [p.field for p in problems] == [field], problems
    assert words in problems[0].message
    assert problems[0].line > 0


def test_good_file_makes_a_channel_of_every_integration_with_alertmanagers_defaults() -> None:
    config = _load("config/conf.good.yml")
    by_name = {c.name: c for c in config.channels}
    assert list(by_name) == [
        "team-X-mails",
        "team-X-pager-email-0",
        "team-X-pager-pagerduty-0",
        "team-Y-mails",
        "team-Y-pager",
        "team-DB-pager",
        "victorOps-receiver",
        "opsGenie-receiver",
        "pushover-receiver",
        "slack-receiver",
    ]
    victorops = by_name["victorOps-receiver"]
    assert victorops.type is ChannelType.VICTOROPS
    assert victorops.config == {
        "style": "alertmanager",
        "send_resolved": True,
        "api_key": "mysecret",
        "api_url": "https://alert.victorops.com/integrations/generic/20131114/alert/",
        "routing_key": "Sample_route",
        "message_type": "CRITICAL",
        "state_message": '{{ template "victorops.default.state_message" . }}',
        "entity_display_name": '{{ template "victorops.default.entity_display_name" . }}',
        "monitoring_tool": '{{ template "victorops.default.monitoring_tool" . }}',
        # Without an http_config of its own, the global one's proxy.
        "proxy_url": "http://127.0.0.1:1025",
    }
    opsgenie = by_name["opsGenie-receiver"]
    assert opsgenie.type is ChannelType.OPSGENIE
    assert opsgenie.config == {
        "style": "alertmanager",
        "send_resolved": True,
        "api_key": "mysecret",
        "api_url": "https://api.opsgenie.com/",
        "message": '{{ template "opsgenie.default.message" . }}',
        "description": '{{ template "opsgenie.default.description" . }}',
        "source": '{{ template "opsgenie.default.source" . }}',
        "proxy_url": "http://127.0.0.1:1025",
    }
    pushover = by_name["pushover-receiver"]
    assert pushover.type is ChannelType.PUSHOVER
    assert pushover.config == {
        "style": "alertmanager",
        "send_resolved": True,
        "token": "mysecret",
        "user_key": "key",
        "title": '{{ template "pushover.default.title" . }}',
        "message": '{{ template "pushover.default.message" . }}',
        "url": '{{ template "pushover.default.url" . }}',
        "priority": '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}',
        "retry": "1m",
        "expire": "1h",
        "proxy_url": "http://127.0.0.1:1025",
    }
    for channel in (victorops, opsgenie, pushover):
        v = Violations()
        check_channel_config(v, channel.type, channel.config)
        assert not v.items, (channel.name, v.items)
