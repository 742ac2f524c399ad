"""The loader field family by field family: what each becomes, Alertmanager's defaults, and errors
that name the field and its line."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from alerting_server.amconfig import ConfigError, LoadedConfig, load
from alerting_server.amconfig.context import read_text_file
from alerting_server.amconfig.redact import redact
from alerting_server.model import ChannelType, Route


def _load(text: str, path: str = "/etc/am/alertmanager.yml", **kw: object) -> LoadedConfig:
    return load(text, path, **kw)  # type: ignore[arg-type]


def _problems(text: str) -> list[tuple[str, int, str]]:
    with pytest.raises(ConfigError) as caught:
        _load(text)
    return [(p.field, p.line, p.message) for p in caught.value.problems]


MINIMAL = """\
route:
  receiver: null-rcv
receivers:
  - name: null-rcv
"""


def test_minimal_file_and_global_defaults() -> None:
    config = _load(MINIMAL)
    assert config.route == Route(receiver="null-rcv")
    assert config.channels == ()
    assert config.empty_receivers == ("null-rcv",)
    assert config.resolve_timeout_ms == 5 * 60 * 1000
    assert config.source == "/etc/am/alertmanager.yml"
    assert config.settings()["empty_receivers"] == ["null-rcv"]


def test_route_tree() -> None:
    config = _load(
        """\
global:
  resolve_timeout: 1m
route:
  receiver: a
  group_by: [alertname, cluster]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 2h
  routes:
    - match: {service: files}
      match_re: {severity: 'crit.*'}
      matchers: ['team="x", env=~"prod|staging"', 'owner!=bob']
      receiver: b
      continue: true
      group_by: ['...']
      mute_time_intervals: [nights]
      active_time_intervals: [weekdays]
      routes:
        - receiver: a
receivers: [{name: a}, {name: b}]
time_intervals:
  - name: nights
    time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]
  - name: weekdays
    time_intervals: [{weekdays: ['monday:friday'], location: Europe/Berlin}]
"""
    )
    assert config.resolve_timeout_ms == 60_000
    child = config.route.routes[0]
    assert config.route.group_by == ("alertname", "cluster")
    assert (config.route.group_wait, config.route.group_interval, config.route.repeat_interval) == (
        10_000,
        60_000,
        7_200_000,
    )
    assert child.matchers == (
        'service="files"',
        'severity=~"crit.*"',
        'team="x"',
        'env=~"prod|staging"',
        'owner!="bob"',
    )
    assert child.continue_ is True
    assert child.group_by == ("...",)
    assert child.group_wait is None
    assert child.mute_time_intervals == ("nights",)
    assert child.active_time_intervals == ("weekdays",)
    assert child.routes == (Route(receiver="a"),)
    assert [t.name for t in config.time_intervals] == ["nights", "weekdays"]
    assert config.time_intervals[1].intervals == (
        {"weekdays": ["monday:friday"], "location": "Europe/Berlin"},
    )


def test_inhibit_rules_new_and_deprecated_forms() -> None:
    config = _load(
        MINIMAL
        + """\
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: [severity=warning]
    equal: [alertname]
  - source_match: {severity: critical}
    target_match_re: {severity: 'warn.*'}
"""
    )
    first, second = config.inhibit_rules
    assert (first.source_matchers, first.target_matchers, first.equal) == (
        ('severity="critical"',),
        ('severity="warning"',),
        ("alertname",),
    )
    assert (second.source_matchers, second.target_matchers) == (
        ('severity="critical"',),
        ('severity=~"warn.*"',),
    )
    assert first.source == "/etc/am/alertmanager.yml"


def test_email_defaults_and_globals() -> None:
    config = _load(
        """\
global:
  smtp_from: am@example.org
  smtp_smarthost: smtp.example.org:587
  smtp_auth_username: am
  smtp_auth_password: hunter2
route: {receiver: mail}
receivers:
  - name: mail
    email_configs:
      - to: 'a@example.org, B <b@example.org>'
        headers: {subject: 'Alert {{ .Status }}', x-team: ops}
        require_tls: false
"""
    )
    (channel,) = config.channels
    assert (channel.name, channel.type, channel.receiver) == ("mail", ChannelType.EMAIL, "mail")
    assert channel.config == {
        "style": "alertmanager",
        "send_resolved": False,
        "html": '{{ template "email.default.html" . }}',
        "text": "",
        "to": ["a@example.org", "b@example.org"],
        "from": "am@example.org",
        "hello": "localhost",
        "smarthost": "smtp.example.org:587",
        "username": "am",
        "password": "hunter2",
        "starttls": False,
        "subject": "Alert {{ .Status }}",
        "headers": {"X-Team": "ops"},
    }


def test_email_without_global_smtp_is_refused() -> None:
    problems = _problems(
        "route: {receiver: m}\nreceivers:\n  - name: m\n    email_configs: [{to: a@x.org}]\n"
    )
    assert ("receivers[0].email_configs[0].from", 4, "no global SMTP from set") in problems
    assert ("receivers[0].email_configs[0].smarthost", 4, "no global SMTP smarthost set") in problems


def test_slack_defaults_and_integration_names() -> None:
    config = _load(
        """\
global: {slack_api_url: 'https://hooks.slack.com/services/T/B/X'}
route: {receiver: team}
receivers:
  - name: team
    slack_configs:
      - channel: '#a'
      - channel: '#b'
        api_url: 'https://hooks.slack.com/services/T/B/Y'
        send_resolved: true
        title: custom
        fields: [{title: t, value: v, short: true}]
    webhook_configs:
      - url: http://127.0.0.1:9/hook
"""
    )
    assert [c.name for c in config.channels] == ["team-slack-0", "team-slack-1", "team-webhook-0"]
    assert {c.receiver for c in config.channels} == {"team"}
    first, second, hook = config.channels
    assert first.config["webhook_url"] == "https://hooks.slack.com/services/T/B/X"
    assert first.config["title"] == '{{ template "slack.default.title" . }}'
    assert first.config["color"] == '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    assert first.config["send_resolved"] is False
    assert second.config["webhook_url"] == "https://hooks.slack.com/services/T/B/Y"
    assert second.config["title"] == "custom"
    assert second.config["send_resolved"] is True
    assert second.config["fields"] == [{"title": "t", "value": "v", "short": True}]
    assert hook.config == {"style": "alertmanager", "send_resolved": True, "url": "http://127.0.0.1:9/hook"}


def test_slack_app_token_becomes_a_bearer_header() -> None:
    config = _load(
        """\
global: {slack_app_token: xoxb-1}
route: {receiver: s}
receivers: [{name: s, slack_configs: [{channel: '#x'}]}]
"""
    )
    (channel,) = config.channels
    assert channel.config["webhook_url"] == "https://slack.com/api/chat.postMessage"
    assert channel.config["headers"] == {"Authorization": "Bearer xoxb-1"}


def test_pagerduty_defaults() -> None:
    config = _load(
        """\
route: {receiver: pd}
receivers:
  - name: pd
    pagerduty_configs:
      - routing_key: abc
        severity: critical
        details: {team: ops}
"""
    )
    (channel,) = config.channels
    assert channel.config["routing_key"] == "abc"
    assert channel.config["url"] == "https://events.pagerduty.com/v2/enqueue"
    assert channel.config["send_resolved"] is True
    assert channel.config["description"] == '{{ template "pagerduty.default.description" .}}'
    assert channel.config["client"] == '{{ template "pagerduty.default.client" . }}'
    assert channel.config["source"] == channel.config["client"]
    assert channel.config["details"] == {
        "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
        "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
        "num_firing": "{{ .Alerts.Firing | len }}",
        "num_resolved": "{{ .Alerts.Resolved | len }}",
        "team": "ops",
    }
    problems = _problems(
        "route: {receiver: pd}\nreceivers: [{name: pd, pagerduty_configs: [{url: http://x}]}]\n"
    )
    assert problems == [
        (
            "receivers[0].pagerduty_configs[0].routing_key",
            2,
            "missing service or routing key in PagerDuty config",
        )
    ]


def test_http_config_auth_and_tls(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    (tmp_path / "token").write_text("tok\n")
    text = """\
global:
  http_config:
    authorization: {credentials_file: token}
route: {receiver: w}
receivers:
  - name: w
    webhook_configs:
      - url: http://127.0.0.1:9/a
        max_alerts: 5
        timeout: 10s
        http_config:
          basic_auth: {username: u, password_file: pw}
          tls_config: {ca_file: ca.pem, insecure_skip_verify: true, server_name: hooks}
      - url: http://127.0.0.1:9/b
"""
    config = _load(text, str(tmp_path / "am.yml"), read_file=read_text_file)
    first, second = config.channels
    assert first.config["headers"] == {"Authorization": "Basic " + base64.b64encode(b"u:s3cret").decode()}
    assert first.config["tls_config"] == {
        "ca_file": str(tmp_path / "ca.pem"),
        "server_name": "hooks",
        "insecure_skip_verify": True,
    }
    assert (first.config["max_alerts"], first.config["timeout"]) == (5, "10s")
    # Without an http_config of its own, the global one.
    assert second.config["headers"] == {"Authorization": "Bearer tok"}


def test_http_config_proxies() -> None:
    text = """\
global:
  http_config: {proxy_url: "http://proxy.corp:3128"}
route: {receiver: w}
receivers:
  - name: w
    webhook_configs:
      - url: http://127.0.0.1:9/a
        http_config: {proxy_url: "http://u:p@proxy.corp:3128", no_proxy: "127.0.0.1,.internal"}
      - url: http://127.0.0.1:9/b
        http_config: {proxy_from_environment: true, proxy_connect_header: {X: [y, z]}, enable_http2: true}
      - url: http://127.0.0.1:9/c
"""
    config = _load(text)
    first, second, third = (c.config for c in config.channels)
    assert (first["proxy_url"], first["no_proxy"]) == ("http://u:p@proxy.corp:3128", "127.0.0.1,.internal")
    assert second["proxy_from_environment"] is True
    assert second["proxy_connect_header"] == {"X": "y, z"}
    assert "proxy_url" not in second
    # Without an http_config of its own, the global one's.
    assert third["proxy_url"] == "http://proxy.corp:3128"
    assert [w.field for w in config.warnings] == ["receivers[0].webhook_configs[1].http_config.enable_http2"]
    both = text.replace(
        "proxy_from_environment: true,", 'proxy_from_environment: true, proxy_url: "http://p:1",'
    )
    assert [(f, m) for f, _, m in _problems(both)] == [
        (
            "receivers[0].webhook_configs[1].http_config",
            "if proxy_from_environment is configured, proxy_url must not be configured",
        )
    ]
    headers_alone = text.replace("proxy_from_environment: true, ", "")
    assert [(f, m) for f, _, m in _problems(headers_alone)] == [
        (
            "receivers[0].webhook_configs[1].http_config",
            "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be "
            "configured",
        )
    ]
    alone = text.replace('proxy_url: "http://u:p@proxy.corp:3128", ', "")
    assert [(f, m) for f, _, m in _problems(alone)] == [
        (
            "receivers[0].webhook_configs[0].http_config",
            "if no_proxy is configured, proxy_url must also be configured",
        )
    ]


def test_secret_files_read_only_when_asked(tmp_path: Path) -> None:
    text = "route: {receiver: w}\nreceivers: [{name: w, webhook_configs: [{url_file: hook}]}]\n"
    (tmp_path / "hook").write_text("http://127.0.0.1:9/x\n")
    assert _load(text, str(tmp_path / "am.yml")).channels[0].config["url"] == "<secret>"
    read = _load(text, str(tmp_path / "am.yml"), read_file=lambda p: read_text_file(str(tmp_path / p)))
    assert read.channels[0].config["url"] == "http://127.0.0.1:9/x"
    with pytest.raises(ConfigError) as caught:
        _load(
            text.replace("url_file: hook", "url_file: missing"),
            str(tmp_path / "am.yml"),
            read_file=read_text_file,
        )
    (problem,) = caught.value.problems
    assert (problem.field, problem.line) == ("receivers[0].webhook_configs[0].url_file", 2)
    assert "unable to read missing" in problem.message


def test_templates_relative_to_the_file() -> None:
    config = _load(MINIMAL + "templates: ['tmpl/*.tmpl', '/abs/*.tmpl']\n")
    assert config.templates == ("/etc/am/tmpl/*.tmpl", "/abs/*.tmpl")


def test_unknown_fields_are_refused_with_their_line() -> None:
    problems = _problems(
        """\
route:
  receiver: a
  recevier: b
receivers:
  - name: a
    webhook_configs:
      - url: http://x
        sendresolved: true
bogus: 1
"""
    )
    assert [(f, line) for f, line, _ in problems] == [
        ("bogus", 9),
        ("receivers[0].webhook_configs[0].sendresolved", 8),
        ("route.recevier", 3),
    ]
    assert "field recevier not found" in problems[2][2]


def test_validation_as_alertmanager_does() -> None:
    problems = _problems(
        """\
route:
  receiver: a
  matchers: [x=y]
  routes:
    - receiver: nobody
      mute_time_intervals: [never]
      group_interval: 0s
      group_by: [a, a]
receivers:
  - name: a
  - name: a
  - name: t
    telegram_configs: [{bot_token: x, chat_id: 1}]
"""
    )
    assert ("receivers[1].name", 11, 'notification config name "a" is not unique') in problems
    assert (
        "receivers[2].telegram_configs",
        13,
        "receiver type telegram is not supported"
        " (supported: email, slack, pagerduty, webhook, opsgenie, victorops, pushover)",
    ) in problems
    assert ("route.matchers", 3, "root route must not have any matchers") in problems
    assert ("route.routes[0].receiver", 5, 'undefined receiver "nobody" used in route') in problems
    assert (
        "route.routes[0].mute_time_intervals",
        6,
        'undefined time interval "never" used in route',
    ) in problems
    assert ("route.routes[0].group_interval", 7, "group_interval cannot be zero") in problems
    assert ("route.routes[0].group_by[1]", 8, 'duplicated label "a" in group_by') in problems


def test_root_route_needs_a_receiver_and_a_route_is_required() -> None:
    assert _problems("route: {group_by: [a]}\nreceivers: []\n") == [
        ("route.receiver", 1, "root route must specify a default receiver")
    ]
    assert _problems("receivers: [{name: a}]\n") == [("route", 1, "no routes provided")]


def test_bad_time_intervals() -> None:
    problems = _problems(
        MINIMAL
        + """\
time_intervals:
  - name: x
    time_intervals:
      - times: [{start_time: '10:00', end_time: '09:00'}]
        weekdays: [funday]
        location: Mars/Olympus
"""
    )
    assert (
        "time_intervals[0].time_intervals[0].times[0].end_time",
        8,
        "start time cannot be equal or greater than end time",
    ) in problems
    assert ("time_intervals[0].time_intervals[0].weekdays[0]", 9, "funday is not a valid weekday") in problems
    assert (
        "time_intervals[0].time_intervals[0].location",
        10,
        "unknown time zone Mars/Olympus",
    ) in problems


def test_yaml_syntax_error() -> None:
    with pytest.raises(ConfigError, match="line 3, column 1: while parsing a flow sequence"):
        _load("route:\n  receiver: [a\n")


def test_redaction_keeps_the_text_but_the_secrets() -> None:
    text = """\
global:
  smtp_auth_password: "hunter2"  # the password
route: {receiver: w}
receivers:
  - name: w
    webhook_configs: [{url: 'http://h/token123'}]
    pagerduty_configs: [{routing_key: rk, url: 'https://events.pagerduty.com/v2/enqueue'}]
"""
    out = redact(text)
    for secret in ("hunter2", "token123", "rk,"):
        assert secret not in out
    assert "smtp_auth_password: <secret>  # the password" in out
    assert "url: 'https://events.pagerduty.com/v2/enqueue'" in out


def test_destinations_and_addresses_are_checked_by_their_field() -> None:
    problems = _problems(
        """\
route: {receiver: r}
receivers:
  - name: r
    webhook_configs:
      - url: 'ftp://files.example.org/x'
    email_configs:
      - to: 'not-an-address'
        from: am@example.org
        smarthost: 'localhost:99999'
    slack_configs:
      - api_url: 'hooks.slack.com/no-scheme'
"""
    )
    assert sorted(problems) == [
        ("receivers[0].email_configs[0].smarthost", 7, "invalid port '99999': must be 1..65535"),
        ("receivers[0].email_configs[0].to[0]", 7, "invalid email address 'not-an-address'"),
        ("receivers[0].slack_configs[0].api_url", 11, "must be an absolute http or https URL"),
        ("receivers[0].webhook_configs[0].url", 5, "must be an http or https URL, got scheme 'ftp'"),
    ]


def test_time_interval_ranges() -> None:
    good = _load(
        MINIMAL
        + """\
time_intervals:
  - name: ok
    time_intervals:
      - days_of_month: ['1:-1', '-7:-1', '15']
        months: ['january:march', '12']
        years: ['2024:2030']
        location: Local
"""
    )
    assert good.time_intervals[0].intervals[0]["days_of_month"] == ["1:-1", "-7:-1", "15"]
    problems = _problems(
        MINIMAL
        + """\
time_intervals:
  - name: bad
    time_intervals:
      - days_of_month: ['-1:5', '0']
        months: ['march:january']
        weekdays: ['friday:monday']
"""
    )
    assert [(f, m) for f, _, m in problems] == [
        ("time_intervals[0].time_intervals[0].weekdays[0]", "start day cannot be before end day"),
        (
            "time_intervals[0].time_intervals[0].days_of_month[0]",
            "end day must be negative if start day is negative",
        ),
        (
            "time_intervals[0].time_intervals[0].days_of_month[1]",
            "0 is not a valid day of the month: out of range",
        ),
        ("time_intervals[0].time_intervals[0].months[0]", "end month january is before start month march"),
    ]


def test_a_pagerduty_service_key_is_events_api_v1_to_its_own_url() -> None:
    config = _load(
        """\
route: {receiver: pd}
receivers:
  - name: pd
    pagerduty_configs:
      - service_key: s3rv1ce
        url: http://127.0.0.1:9/ignored
"""
    )
    [channel] = config.channels
    assert channel.config["service_key"] == "s3rv1ce"
    assert "routing_key" not in channel.config
    assert channel.config["url"] == "https://events.pagerduty.com/generic/2010-04-15/create_event.json"
    assert [(w.field, w.message) for w in config.warnings] == [
        ("receivers[0].pagerduty_configs[0].url", "not used with a service_key (Events API v1)")
    ]


def test_smtp_hello_secret_and_identity() -> None:
    config = _load(
        """\
global:
  smtp_smarthost: 127.0.0.1:25
  smtp_from: am@example.org
  smtp_hello: alerting.example.org
route: {receiver: mail}
receivers:
  - name: mail
    email_configs:
      - to: a@example.org
        auth_username: alice
        auth_secret: s3cr3t
        auth_identity: alice
"""
    )
    [channel] = config.channels
    assert (channel.config["hello"], channel.config["auth_secret"]) == ("alerting.example.org", "s3cr3t")
    assert "auth_identity" not in channel.config
    problems = _problems(
        MINIMAL
        + """\
  - name: mail
    email_configs:
      - {to: a@example.org, from: b@example.org, smarthost: 'h:25', auth_username: alice, auth_identity: bob}
"""
    )
    assert [(f, m) for f, _, m in problems] == [
        (
            "receivers[1].email_configs[0].auth_identity",
            "an auth_identity other than the auth_username is not supported",
        )
    ]
