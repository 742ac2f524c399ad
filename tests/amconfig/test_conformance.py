"""Alertmanager's own configuration test files get the verdict its config_test.go gives them
(/work/shared/conformance/alertmanager/README.md), with the error about the same field."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting_server.amconfig import ConfigError, load

DATA = Path("/work/shared/conformance/alertmanager")

GOOD = [
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
# conf.good.yml is good to Alertmanager but has receivers of integrations this server lacks: it is
# refused naming exactly those, and nothing else in it.
UNSUPPORTED_IN_GOOD = {
    "receivers[5].victorops_configs": "victorops",
    "receivers[6].opsgenie_configs": "opsgenie",
    "receivers[7].pushover_configs": "pushover",
}


def _load(name: str) -> object:
    path = DATA / name
    return load(path.read_text(), str(path))


def test_every_file_has_a_verdict() -> None:
    files = {str(p.relative_to(DATA)) for d in ("config", "examples") for p in (DATA / d).glob("*.yml")}
    assert files == {*GOOD, *BAD, "config/conf.good.yml"}


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


def test_good_file_refused_only_for_integrations_we_lack() -> None:
    with pytest.raises(ConfigError) as caught:
        _load("config/conf.good.yml")
    found = {p.field: p.message for p in caught.value.problems}
    assert set(found) == set(UNSUPPORTED_IN_GOOD)
    for field, kind in UNSUPPORTED_IN_GOOD.items():
        assert f"receiver type {kind} is not supported" in found[field]


def test_good_file_without_those_receivers_loads() -> None:
    text = (DATA / "config/conf.good.yml").read_text()
    kept = text.split("  - name: victorOps-receiver")[0] + text[text.index("  - name: slack-receiver") :]
    config = load(kept, str(DATA / "config/conf.good.yml"))
    assert [c.name for c in config.channels] == [
        "team-X-mails",
        "team-X-pager-email-0",
        "team-X-pager-pagerduty-0",
        "team-Y-mails",
        "team-Y-pager",
        "team-DB-pager",
        "slack-receiver",
    ]
