"""OpsGenie, VictorOps and Pushover receivers: what each becomes, Alertmanager's defaults and the
global section's values, the errors Alertmanager gives, and their export."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting_server.amconfig import ConfigError, LoadedConfig, load
from alerting_server.amconfig.context import read_text_file
from alerting_server.amconfig.export import export
from alerting_server.amconfig.receivers import UNSUPPORTED
from alerting_server.errors import Violations
from alerting_server.model import Channel, ChannelType, Route
from alerting_server.validation.channels import check_channel_config, redact


def _load(text: str, path: str = "/etc/am/alertmanager.yml", **kw: object) -> LoadedConfig:
    return load(text, path, **kw)  # type: ignore[arg-type]


def _problems(text: str) -> list[tuple[str, int, str]]:
    with pytest.raises(ConfigError) as caught:
        _load(text)
    return [(p.field, p.line, p.message) for p in caught.value.problems]


def _valid(channel: Channel) -> None:
    v = Violations()
    check_channel_config(v, channel.type, channel.config)
    assert not v.items, v.items


def test_opsgenie_takes_the_global_key_and_url_and_keeps_its_fields() -> None:
    config = _load(
        """\
global:
  opsgenie_api_key: global-key
  opsgenie_api_url: https://api.eu.opsgenie.com
route: {receiver: og}
receivers:
  - name: og
    opsgenie_configs:
      - message: '{{ .CommonLabels.alertname }}'
        details: {team: ops, runbook: 'https://rb/{{ .GroupLabels.alertname }}'}
        responders:
          - {name: 'ops,db', type: Teams}
          - {username: jane, type: '{{ .CommonLabels.kind }}'}
        tags: prod,db
        priority: P2
        update_alerts: true
        send_resolved: false
      - api_key: own-key
        api_url: http://127.0.0.1:9/og/
"""
    )
    first, second = config.channels
    assert (first.name, first.type, first.receiver) == ("og-opsgenie-0", ChannelType.OPSGENIE, "og")
    assert first.config == {
        "style": "alertmanager",
        "send_resolved": False,
        "api_key": "global-key",
        # Its path ends in '/', as Alertmanager's loader makes it.
        "api_url": "https://api.eu.opsgenie.com/",
        "message": "{{ .CommonLabels.alertname }}",
        "description": '{{ template "opsgenie.default.description" . }}',
        "source": '{{ template "opsgenie.default.source" . }}',
        "tags": "prod,db",
        "priority": "P2",
        "details": {"team": "ops", "runbook": "https://rb/{{ .GroupLabels.alertname }}"},
        # A type is kept as written (Alertmanager 0.25 lower-cases a copy only).
        "responders": [
            {"name": "ops,db", "type": "Teams"},
            {"username": "jane", "type": "{{ .CommonLabels.kind }}"},
        ],
        "update_alerts": True,
    }
    assert (second.config["api_key"], second.config["api_url"]) == ("own-key", "http://127.0.0.1:9/og/")
    assert second.config["send_resolved"] is True
    for channel in config.channels:
        _valid(channel)


def test_opsgenie_errors_as_alertmanager_gives_them() -> None:
    problems = _problems(
        """\
route: {receiver: og}
receivers:
  - name: og
    opsgenie_configs:
      - message: x
      - api_key: k
        api_key_file: /k
        responders:
          - {type: team}
          - {id: '1', type: squad}
"""
    )
    assert problems == [
        (
            "receivers[0].opsgenie_configs[0].api_key",
            5,
            "no global OpsGenie API Key set either inline or in a file",
        ),
        (
            "receivers[0].opsgenie_configs[1]",
            6,
            "at most one of api_key & api_key_file must be configured",
        ),
        (
            "receivers[0].opsgenie_configs[1].responders[0]",
            9,
            "opsGenieConfig responder has to have at least one of id, username or name specified",
        ),
        (
            "receivers[0].opsgenie_configs[1].responders[1].type",
            10,
            "opsGenieConfig responder type 'squad' does not match valid options"
            " ^(team|teams|user|escalation|schedule)$",
        ),
    ]


def test_key_files_are_read_from_the_receiver_or_the_global_section(tmp_path: Path) -> None:
    (tmp_path / "og").write_text("og-key\n")
    (tmp_path / "vo").write_text("vo-key\n")
    (tmp_path / "user").write_text("user-key\n")
    (tmp_path / "token").write_text("app-token\n")
    text = f"""\
global:
  victorops_api_key_file: {tmp_path / "vo"}
route: {{receiver: r}}
receivers:
  - name: r
    opsgenie_configs: [{{api_key_file: {tmp_path / "og"}}}]
    victorops_configs: [{{routing_key: ops}}]
    pushover_configs: [{{user_key_file: {tmp_path / "user"}, token_file: {tmp_path / "token"}}}]
"""
    opsgenie, victorops, pushover = _load(text, str(tmp_path / "am.yml"), read_file=read_text_file).channels
    assert opsgenie.config["api_key"] == "og-key"
    assert victorops.config["api_key"] == "vo-key"
    assert (pushover.config["user_key"], pushover.config["token"]) == ("user-key", "app-token")
    # Checking alone reads no file.
    unread = _load(text, str(tmp_path / "am.yml")).channels
    assert [c.config.get("api_key") or c.config["token"] for c in unread] == ["<secret>"] * 3


def test_victorops_defaults_and_errors() -> None:
    config = _load(
        """\
global:
  victorops_api_key: gk
route: {receiver: vo}
receivers:
  - name: vo
    victorops_configs:
      - routing_key: '{{ .CommonLabels.team }}'
        api_url: http://127.0.0.1:9/vo
        message_type: WARNING
        custom_fields: {runbook: '{{ .CommonAnnotations.runbook }}'}
"""
    )
    (channel,) = config.channels
    assert channel.config == {
        "style": "alertmanager",
        "send_resolved": True,
        "api_key": "gk",
        "api_url": "http://127.0.0.1:9/vo/",
        "routing_key": "{{ .CommonLabels.team }}",
        "message_type": "WARNING",
        "state_message": '{{ template "victorops.default.state_message" . }}',
        "entity_display_name": '{{ template "victorops.default.entity_display_name" . }}',
        "monitoring_tool": '{{ template "victorops.default.monitoring_tool" . }}',
        "custom_fields": {"runbook": "{{ .CommonAnnotations.runbook }}"},
    }
    _valid(channel)
    problems = _problems(
        """\
global:
  victorops_api_key: a
  victorops_api_key_file: /b
route: {receiver: vo}
receivers:
  - name: vo
    victorops_configs:
      - custom_fields: {entity_id: x}
"""
    )
    assert problems == [
        (
            "global.victorops_api_key_file",
            3,
            "at most one of victorops_api_key & victorops_api_key_file must be configured",
        ),
        ("receivers[0].victorops_configs[0].routing_key", 8, "missing Routing key in VictorOps config"),
        (
            "receivers[0].victorops_configs[0].custom_fields.entity_id",
            8,
            "victorOps config contains custom field entity_id which cannot be used as it conflicts with the"
            " fixed/static fields",
        ),
    ]
    assert _problems(
        "route: {receiver: v}\nreceivers: [{name: v, victorops_configs: [{routing_key: r}]}]\n"
    ) == [("receivers[0].victorops_configs[0].api_key", 2, "no global VictorOps API Key set")]


def test_pushover_defaults_fields_and_errors() -> None:
    config = _load(
        """\
route: {receiver: po}
receivers:
  - name: po
    pushover_configs:
      - {user_key: u, token: t, retry: 30s, expire: 2h, ttl: 1d, html: true, device: phone, sound: siren}
"""
    )
    (channel,) = config.channels
    assert channel.config == {
        "style": "alertmanager",
        "send_resolved": True,
        "user_key": "u",
        "token": "t",
        "title": '{{ template "pushover.default.title" . }}',
        "message": '{{ template "pushover.default.message" . }}',
        "url": '{{ template "pushover.default.url" . }}',
        "priority": '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}',
        "retry": "30s",
        "expire": "2h",
        "ttl": "1d",
        "html": True,
        "device": "phone",
        "sound": "siren",
    }
    _valid(channel)
    problems = _problems(
        """\
route: {receiver: po}
receivers:
  - name: po
    pushover_configs:
      - {token: t, token_file: /t, retry: soon}
"""
    )
    assert [(f, m) for f, _, m in problems] == [
        ("receivers[0].pushover_configs[0].user_key", "missing user key in Pushover config"),
        ("receivers[0].pushover_configs[0]", "at most one of token & token_file must be configured"),
        ("receivers[0].pushover_configs[0].retry", problems[2][2]),
    ]
    assert "soon" in problems[2][2]


@pytest.mark.parametrize("key", UNSUPPORTED)
def test_integrations_we_still_lack_are_refused_by_name(key: str) -> None:
    kind = key.removesuffix("_configs")
    assert kind not in ("opsgenie", "victorops", "pushover")
    problems = _problems(f"route: {{receiver: x}}\nreceivers: [{{name: x, {key}: [{{}}]}}]\n")
    assert [(f, m.split(" (")[0]) for f, _, m in problems] == [
        (f"receivers[0].{key}", f"receiver type {kind} is not supported")
    ]


def test_export_writes_them_back_without_secrets_or_defaults() -> None:
    text = """\
global:
  opsgenie_api_key: og-secret
route: {receiver: r}
receivers:
  - name: r
    opsgenie_configs: [{tags: 'a,b', update_alerts: true}]
    victorops_configs: [{api_key: vo-secret, routing_key: ops, custom_fields: {x: y}}]
    pushover_configs: [{user_key: user-secret, token: token-secret, priority: '1', ttl: 1h}]
"""
    loaded = _load(text)
    channels = [
        Channel(name=c.name, type=c.type, config=redact(c.type, c.config), receiver=c.receiver)
        for c in loaded.channels
    ]
    exported = export(Route(receiver="r"), channels, [], [], {})
    for secret in ("og-secret", "vo-secret", "user-secret", "token-secret"):
        assert secret not in exported
    assert "template" not in exported
    again = _load(exported)
    assert [c.type for c in again.channels] == [
        ChannelType.OPSGENIE,
        ChannelType.VICTOROPS,
        ChannelType.PUSHOVER,
    ]
    for before, after in zip(loaded.channels, again.channels, strict=True):
        secrets = {"api_key", "user_key", "token"}
        assert {k: v for k, v in after.config.items() if k not in secrets} == {
            k: v for k, v in before.config.items() if k not in secrets
        }
        assert all(after.config[k] == "<secret>" for k in secrets & set(after.config))
