"""The same alerts and receiver configuration given to a real Alertmanager (Debian's 0.25) and to our
channels of style "alertmanager": what each sends must be the same bytes.

Alertmanager groups the alerts posted to its /api/v2/alerts (group_wait 1s) and notifies one
receiver with a webhook, a Slack, a PagerDuty and an email integration; ours are the channel
configs its loader gives (Alertmanager's field names, `webhook_url` for Slack's api_url), sent by
our notifiers through real HTTP and SMTP to the same local receivers. Compared:

- webhook, Slack and PagerDuty bodies: byte for byte. The group key is the one Alertmanager's
  dispatcher made (taken from its webhook body: it is routing's, not rendering's); PagerDuty's
  dedup_key is its hash, so it must match too.
- email: every header but Message-Id and Date (a time and a random number in both) and the
  multipart boundary (random in both); then each part, its headers and its quoted-printable
  body, byte for byte. Alertmanager writes headers in a Go map's random order: compared as sets.

A second Alertmanager does the same for OpsGenie, VictorOps and Pushover integrations (what is
compared, and what must differ, is told above that test).

Both sides read Alertmanager's default templates from the files we ship (given to Alertmanager as
template files too: Debian's 0.25 has an older email.tmpl, which differs in one URL), then a user
file that redefines `__alertmanager` and defines a template the Slack title calls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from alerting_server.alerts.fingerprint import fingerprint
from alerting_server.amconfig import load
from alerting_server.errors import Violations
from alerting_server.model import Alert, AlertState, Channel, ChannelType, NotificationPayload
from alerting_server.notify import notifier_for, sends_resolved
from alerting_server.notify.alertmanager import TemplateSet
from alerting_server.notify.render import render
from alerting_server.validation.channels import check_channel_config
from tests.integration.peers import TOOLS, free_port, peer_binary
from tests.notify.proxyserver import ForwardProxy
from tests.notify.receiver import Receiver

SHIPPED = Path(__file__).resolve().parents[2] / "alerting_server" / "notify" / "alertmanager"
RECEIVER = "team.x"  # a regexp metacharacter: Alertmanager's data quotes the name
# A receiver whose integrations have nothing but where to send: Alertmanager's defaults throughout
# (Slack and email do not send resolved alerts then, PagerDuty and the webhook do).
DEFAULTS = "defaults"
# A receiver notified twice for one group, when its alert fires and when it is resolved.
RESOLVING = "resolving"
# A receiver whose Slack message has a field for every template of default.tmpl and email.tmpl
# (run as text), for the same alerts as RECEIVER's.
EVERY_TEMPLATE = "every-template"
# Those that take a list of alerts rather than the notification's data.
LIST_TEMPLATES = ("__text_alert_list", "__text_alert_list_markdown", "pagerduty.default.instances")
USER_TEMPLATE = (
    '{{ define "__alertmanager" }}Alerting Server{{ end }}\n'
    '{{ define "custom.title" }}{{ .Status | toUpper }} {{ .CommonLabels.alertname }} '
    "{{ range .Alerts }}{{ .Labels.instance }} {{ end }}{{ end }}\n"
)
T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Posted:
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    generator_url: str = ""


ALERTS = [
    Posted(
        {
            "alertname": "HighLatency",
            "job": "api",
            "instance": "b:9090",
            "severity": "critical",
            "team": "db & <ops> 'x'+y",
        },
        {
            "summary": "p99 latency > 2s on <b:9090> & friends",
            "description": "It's 'slow' + getting worse — ça va mal",
        },
        T0,
        generator_url="http://prom.example:9090/graph?g0.expr=up%3D%3D0&g0.tab=1",
    ),
    Posted(
        {"alertname": "HighLatency", "job": "api", "instance": "a:9090", "severity": "critical"},
        {"summary": "p99 latency > 2s on <a:9090> & friends", "runbook": "https://runbooks.example/latency"},
        T0 + dt.timedelta(seconds=7, milliseconds=5),
        generator_url="http://prom.example:9090/graph?g0.expr=latency",
    ),
    Posted(
        {"alertname": "HighLatency", "job": "db", "instance": "c:5432", "severity": "warning"},
        {"summary": "p99 latency > 2s on <c:5432> & friends"},
        T0 - dt.timedelta(minutes=30),
        ends_at=T0 - dt.timedelta(minutes=5),
        generator_url="http://prom.example:9090/graph?g0.expr=db",
    ),
]

SLACK: dict[str, Any] = {
    "channel": "#alerts-{{ .CommonLabels.job }}",
    "title": '{{ template "custom.title" . }}',
    "text": "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n{{ end }}",
    "fields": [
        {"title": "Severity", "value": "{{ .CommonLabels.severity }}", "short": True},
        {"title": "Firing", "value": "{{ .Alerts.Firing | len }}"},
    ],
    "short_fields": False,
    "actions": [
        {"type": "button", "text": "Runbook :book:", "url": "{{ (index .Alerts 0).Annotations.runbook }}"},
        {
            "type": "button",
            "text": "Silence",
            "name": "silence",
            "value": "{{ .GroupLabels.alertname }}",
            "style": "danger",
            "confirm": {"text": "Silence {{ .GroupLabels.alertname }}?", "ok_text": "Yes"},
        },
    ],
    "link_names": True,
    "mrkdwn_in": ["text", "fields"],
    "footer": "{{ .ExternalURL }}",
    "send_resolved": True,
}
PAGERDUTY: dict[str, Any] = {
    "routing_key": "0123456789abcdef0123456789abcdef",
    "severity": '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}',
    "class": "latency",
    "component": "{{ .CommonLabels.job }}",
    "group": "{{ .GroupLabels.alertname }}",
    "details": {
        "runbook": "{{ .CommonAnnotations.runbook }}",
        "num_firing": "{{ len .Alerts.Firing }} of {{ len .Alerts }}",
    },
    "images": [{"src": "https://img.example/{{ .GroupLabels.alertname }}.png", "alt": "graph", "href": ""}],
    "links": [
        {"href": "{{ (index .Alerts 0).GeneratorURL }}", "text": "Source <1>"},
        {"href": "", "text": "dropped"},
    ],
    "send_resolved": True,
}
EMAIL: dict[str, Any] = {
    "to": ["oncall@example.org"],
    "from": "alertmanager@example.org",
    "headers": {
        "X-Team": "Équipe {{ .CommonLabels.job }} — {{ .GroupLabels.alertname }}",
        "Reply-To": "noc@example.org",
    },
    "text": (
        '{{ template "email.default.subject" . }}\n'
        "{{ range .Alerts }}{{ .Annotations.description }} {{ .Annotations.summary }}\n{{ end }}"
        "a long line that has to be folded by the quoted-printable writer, since it is longer than "
        "seventy-six characters"
    ),
    "send_resolved": True,
}
WEBHOOK: dict[str, Any] = {"max_alerts": 2, "send_resolved": True}
RESOLVING_FIRING = Posted(
    {"alertname": "Resolving", "instance": "r:1", "severity": "critical"},
    {"summary": "r:1 is down"},
    T0 - dt.timedelta(minutes=10),
    generator_url="http://prom.example:9090/graph?g0.expr=up",
)
RESOLVING_RESOLVED = dataclasses.replace(RESOLVING_FIRING, ends_at=T0)
DEFAULT_ALERTS = [
    Posted(
        {"alertname": "DiskFull", "instance": "fs:9100", "mount": "/var"},
        {"summary": "/var is 97% full"},
        T0 - dt.timedelta(hours=2),
    ),
    Posted(
        {"alertname": "DiskFull", "instance": "fs:9100", "mount": "/home"},
        {"summary": "/home was full"},
        T0 - dt.timedelta(hours=3),
        ends_at=T0 - dt.timedelta(hours=1),
    ),
]


@dataclass
class RawSmtp:
    received: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.received.append(envelope.content)
        return "250 OK"


def _go_time(t: dt.datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _receivers(http: Receiver, smtp_port: int) -> dict[str, dict[ChannelType, dict[str, Any]]]:
    """Each receiver's channel configs as the loader makes them (our names, Alertmanager's fields)."""
    smarthost = f"127.0.0.1:{smtp_port}"
    return {
        RECEIVER: {
            ChannelType.WEBHOOK: {"url": http.url(f"/ours/{RECEIVER}/webhook"), **WEBHOOK},
            ChannelType.SLACK: {"webhook_url": http.url(f"/ours/{RECEIVER}/slack"), **SLACK},
            ChannelType.PAGERDUTY: {"url": http.url(f"/ours/{RECEIVER}/pagerduty"), **PAGERDUTY},
            ChannelType.EMAIL: {**EMAIL, "smarthost": smarthost},
        },
        DEFAULTS: {
            ChannelType.WEBHOOK: {"url": http.url(f"/ours/{DEFAULTS}/webhook")},
            ChannelType.SLACK: {"webhook_url": http.url(f"/ours/{DEFAULTS}/slack")},
            ChannelType.PAGERDUTY: {"url": http.url(f"/ours/{DEFAULTS}/pagerduty"), "routing_key": "k" * 32},
            ChannelType.EMAIL: {
                "to": ["defaults@example.org"],
                "from": "am@example.org",
                "smarthost": smarthost,
            },
        },
        RESOLVING: {
            ChannelType.WEBHOOK: {"url": http.url(f"/ours/{RESOLVING}/webhook")},
            ChannelType.SLACK: {"webhook_url": http.url(f"/ours/{RESOLVING}/slack"), "send_resolved": True},
            ChannelType.PAGERDUTY: {"url": http.url(f"/ours/{RESOLVING}/pagerduty"), "routing_key": "r" * 32},
            ChannelType.EMAIL: {
                "to": ["resolving@example.org"],
                "from": "am@example.org",
                "smarthost": smarthost,
                "send_resolved": True,
            },
        },
        EVERY_TEMPLATE: {
            ChannelType.WEBHOOK: {"url": http.url(f"/ours/{EVERY_TEMPLATE}/webhook")},
            ChannelType.SLACK: {
                "webhook_url": http.url(f"/ours/{EVERY_TEMPLATE}/slack"),
                "fields": [{"title": name, "value": _call(name)} for name in _default_templates()],
            },
        },
    }


def _to_ours(config: dict[str, Any]) -> dict[str, Any]:
    """A loaded channel's config sending to our side of the receiver: /ours/ where it says /am/."""
    out = dict(config)
    for key in ("url", "webhook_url"):
        if key in out:
            out[key] = str(out[key]).replace("/am/", "/ours/", 1)
    return out


def _call(name: str) -> str:
    dot = ".Alerts" if name in LIST_TEMPLATES else "."
    return f'{{{{ template "{name}" {dot} }}}}'


def _default_templates() -> list[str]:
    names = [n for n in TemplateSet().names() if not n.endswith(".tmpl")]
    assert len(names) > 60, names
    return names


def _alertmanager_receiver(
    name: str, configs: dict[ChannelType, dict[str, Any]], prefix: str
) -> dict[str, Any]:
    def url(config: dict[str, Any], key: str) -> str:
        return str(config[key]).replace(f"/ours/{name}/", f"/{prefix}/{name}/")

    receiver: dict[str, Any] = {"name": name}
    if ChannelType.WEBHOOK in configs:
        webhook = {**configs[ChannelType.WEBHOOK], "url": url(configs[ChannelType.WEBHOOK], "url")}
        receiver["webhook_configs"] = [webhook]
    if ChannelType.SLACK in configs:
        slack = dict(configs[ChannelType.SLACK])
        slack["api_url"] = url(slack, "webhook_url")
        del slack["webhook_url"]
        receiver["slack_configs"] = [slack]
    if ChannelType.PAGERDUTY in configs:
        pagerduty = {**configs[ChannelType.PAGERDUTY], "url": url(configs[ChannelType.PAGERDUTY], "url")}
        receiver["pagerduty_configs"] = [pagerduty]
    if ChannelType.EMAIL in configs:
        email = dict(configs[ChannelType.EMAIL])
        email.update(to=", ".join(email["to"]), require_tls=False)
        receiver["email_configs"] = [email]
    return receiver


def _alertmanager_config(
    receivers: dict[str, dict[ChannelType, dict[str, Any]]], templates: list[Path]
) -> dict[str, Any]:
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1h",
            "repeat_interval": "4h",
            "routes": [
                {"matchers": ['alertname="HighLatency"'], "receiver": EVERY_TEMPLATE, "continue": True},
                {"matchers": ['alertname="HighLatency"'], "receiver": RECEIVER},
                {"matchers": ['alertname="DiskFull"'], "receiver": DEFAULTS},
                {"matchers": ['alertname="Resolving"'], "receiver": RESOLVING, "group_interval": "1s"},
            ],
        },
        "receivers": [_alertmanager_receiver(name, configs, "am") for name, configs in receivers.items()],
        "templates": [str(p) for p in templates],
    }


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[Receiver, RawSmtp, int]]:
    http = await Receiver().start()
    smtp = RawSmtp()
    port = free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield http, smtp, port
    finally:
        controller.stop()
        await http.close()


def _start_alertmanager(scratch: Path, config: dict[str, Any], port: int) -> subprocess.Popen[bytes]:
    (scratch / "alertmanager.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    args = [
        str(peer_binary("prometheus-alertmanager")),
        f"--config.file={scratch / 'alertmanager.yml'}",
        f"--storage.path={scratch / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=debug",
    ]
    # Debian's build reads its default templates from /usr/share/prometheus/alertmanager, which
    # scripts/install-prometheus.sh only unpacked under .tools: the unpacked /usr/share is laid
    # over the system's in a mount namespace of this process alone (as bench/amcluster.py does).
    share = (TOOLS.parent / "share").resolve()
    overlay = f"mount -t overlay overlay -o lowerdir={share}:/usr/share /usr/share"
    command = ["unshare", "--mount", "sh", "-c", f'{overlay} && exec "$0" "$@"', *args]
    with (scratch / "alertmanager.log").open("wb") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def _payload(receiver: str, group_key: str, alertname: str, posted: list[Posted]) -> NotificationPayload:
    """What our pipeline queues for the group: the same alerts, start and end times to the ms."""
    firing, resolved = [], []
    for p in posted:
        ms = int(p.starts_at.timestamp() * 1000)
        alert = Alert(
            fingerprint=fingerprint(p.labels),
            labels=p.labels,
            annotations=p.annotations,
            state=AlertState.FIRING,
            started_at=ms,
            fired_at=ms,
            updated_at=ms,
            generator_url=p.generator_url,
        )
        if p.ends_at is None:
            firing.append(alert)
        else:
            ended = int(p.ends_at.timestamp() * 1000)
            resolved.append(dataclasses.replace(alert, state=AlertState.RESOLVED, resolved_at=ended))
    return NotificationPayload(
        receiver=receiver,
        group_key=group_key,
        group_labels={"alertname": alertname},
        reason="test",
        firing=tuple(firing),
        resolved=tuple(resolved),
    )


def _posted(p: Posted) -> dict[str, Any]:
    return {
        "labels": p.labels,
        "annotations": p.annotations,
        "startsAt": _go_time(p.starts_at),
        **({"endsAt": _go_time(p.ends_at)} if p.ends_at else {}),
        "generatorURL": p.generator_url,
    }


def _email_parts(raw: bytes) -> tuple[dict[str, str], list[bytes]]:
    """The headers (but Message-Id and Date; the boundary left out) and the parts of one message."""
    head, _, body = raw.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    boundary = ""
    for line in head.decode().split("\r\n"):
        name, _, value = line.partition(": ")
        if name == "Content-Type":
            kind, _, boundary = value.partition(";  boundary=")
            value = kind
        if name not in ("Message-Id", "Date"):
            headers[name] = value
    assert boundary, head
    parts = body.split(f"--{boundary}".encode())
    assert parts[-1] == b"--\r\n", parts[-1]
    return headers, parts[:-1]


async def _wait(
    http: Receiver, smtp: RawSmtp, paths: dict[str, int], emails: int, timeout_s: float = 30.0
) -> None:
    """Until each path has had its count of requests, and `emails` messages came."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        got = [r.path for r in http.requests]
        if all(got.count(p) >= n for p, n in paths.items()) and len(smtp.received) >= emails:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"not all notifications arrived: {[r.path for r in http.requests]}, {len(smtp.received)} emails"
    )


def _bodies(http: Receiver, path: str) -> list[bytes]:
    return [r.body for r in http.requests if r.path == path]


def _body(http: Receiver, path: str) -> bytes:
    found = _bodies(http, path)
    assert len(found) == 1, (path, len(found))
    return found[0]


def _email_to(smtp: RawSmtp, address: str, count: int) -> list[bytes]:
    found = [
        m
        for m in smtp.received
        if f"\r\nTo: {address}\r\n".encode() in m or m.startswith(f"To: {address}\r\n".encode())
    ]
    assert len(found) == count, (address, len(found))
    return found


def _shifted(posted: list[Posted], delta: dt.timedelta) -> list[Posted]:
    return [
        dataclasses.replace(
            p, starts_at=p.starts_at + delta, ends_at=p.ends_at + delta if p.ends_at else None
        )
        for p in posted
    ]


def _alerts_now() -> tuple[list[Posted], list[Posted], Posted, Posted]:
    """ALERTS, DEFAULT_ALERTS, RESOLVING_FIRING and RESOLVING_RESOLVED, T0 moved to now (to the ms).

    Alertmanager flushes a new group at once when an alert that started more than group_wait ago
    comes in, whatever else was posted with it: in each group, only the last alert posted may have
    started long ago (the firing DiskFull starts now)."""
    now = dt.datetime.now(dt.UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    delta = now - T0
    alerts = _shifted(ALERTS, delta)
    default_alerts = [
        dataclasses.replace(DEFAULT_ALERTS[0], starts_at=now),
        *_shifted(DEFAULT_ALERTS[1:], delta),
    ]
    resolving_firing, resolving_resolved = _shifted([RESOLVING_FIRING, RESOLVING_RESOLVED], delta)
    assert [a.ends_at is not None for a in [*alerts, *default_alerts]] == [False, False, True, False, True]
    return alerts, default_alerts, resolving_firing, resolving_resolved


async def test_channels_of_style_alertmanager_send_what_alertmanager_sends(
    tmp_path: Path, receivers: tuple[Receiver, RawSmtp, int]
) -> None:
    http, smtp, smtp_port = receivers
    alerts, default_alerts, resolving_firing, resolving_resolved = _alerts_now()
    user_file = tmp_path / "user.tmpl"
    user_file.write_text(USER_TEMPLATE)
    templates = [SHIPPED / "default.tmpl", SHIPPED / "email.tmpl", user_file]
    configs = _receivers(http, smtp_port)
    kinds = {ChannelType.WEBHOOK: "webhook", ChannelType.SLACK: "slack", ChannelType.PAGERDUTY: "pagerduty"}
    # How many notifications each path gets: the resolving receiver's come when its alert fires and
    # when it is resolved.
    paths = {
        f"{name}/{kinds[t]}": 2 if name == RESOLVING else 1
        for name, cs in configs.items()
        for t in cs
        if t in kinds
    }
    port = free_port()
    am_config = _alertmanager_config(configs, templates)
    # Ours are the channels our loader makes of the very file Alertmanager runs.
    loaded = load(yaml.safe_dump(am_config, allow_unicode=True), str(tmp_path / "alertmanager.yml"))
    loaded_configs = {(c.receiver, c.type): _to_ours(c.config) for c in loaded.channels}
    assert set(loaded_configs) == {(name, t) for name, cs in configs.items() for t in cs}
    am = _start_alertmanager(tmp_path, am_config, port)
    base = f"http://127.0.0.1:{port}"
    first = {f"/am/{p}": 1 for p in paths}
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(120):
                try:
                    if (await client.get(f"{base}/-/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert am.poll() is None, (tmp_path / "alertmanager.log").read_text()
                await asyncio.sleep(0.25)
            posted = [_posted(p) for p in [*alerts, *default_alerts, resolving_firing]]
            response = await client.post(f"{base}/api/v2/alerts", json=posted)
            assert response.status_code == 200, response.text
            await _wait(http, smtp, first, emails=3)
            response = await client.post(f"{base}/api/v2/alerts", json=[_posted(resolving_resolved)])
            assert response.status_code == 200, response.text
            await _wait(http, smtp, {f"/am/{p}": n for p, n in paths.items()}, emails=4)
    finally:
        am.terminate()
        am.wait(10)

    # Ours: the same receivers' channels, through render() and the factory as the server sends them.
    files = TemplateSet([("user.tmpl", USER_TEMPLATE)])
    groups = {
        RECEIVER: [("HighLatency", alerts)],
        DEFAULTS: [("DiskFull", default_alerts)],
        EVERY_TEMPLATE: [("HighLatency", alerts)],
        RESOLVING: [("Resolving", [resolving_firing]), ("Resolving", [resolving_resolved])],
    }
    async with httpx.AsyncClient(timeout=5) as client:
        for name, channel_configs in configs.items():
            # The group key is the dispatcher's (routing), taken from Alertmanager's webhook body.
            group_key = json.loads(_bodies(http, f"/am/{name}/webhook")[0])["groupKey"]
            for alertname, alerts in groups[name]:
                payload = _payload(name, group_key, alertname, alerts)
                for type in channel_configs:
                    config = loaded_configs[(name, type)]
                    assert config["style"] == "alertmanager"
                    v = Violations()
                    check_channel_config(v, type, config)
                    assert not v.items, v.items
                    channel = Channel(name=name, type=type, config=config)
                    message = render(payload, external_url=base, send_resolved=sends_resolved(channel))
                    assert message is not None
                    notifier = notifier_for(channel, client, templates=files)
                    result = await notifier.notify(message, idempotency_key="k")
                    assert result.ok, (type, result)
    await _wait(http, smtp, {f"/ours/{p}": n for p, n in paths.items()}, emails=8)

    for path, count in sorted(paths.items()):
        # Every field must agree; nothing is excepted in these bodies.
        ours = [b.decode() for b in _bodies(http, f"/ours/{path}")]
        assert ours == [b.decode() for b in _bodies(http, f"/am/{path}")], path
        assert len(ours) == count
    every = json.loads(_body(http, f"/am/{EVERY_TEMPLATE}/slack"))["attachments"][0]["fields"]
    assert len(every) == len(_default_templates())
    assert any(f["title"] == "email.default.html" and "<!DOCTYPE html" in f["value"] for f in every)
    resolved_event = json.loads(_bodies(http, f"/am/{RESOLVING}/pagerduty")[1])
    assert resolved_event["event_action"] == "resolve"
    assert json.loads(_bodies(http, f"/am/{RESOLVING}/slack")[1])["attachments"][0]["color"] == "good"
    for address, count in (
        ("oncall@example.org", 1),
        ("defaults@example.org", 1),
        ("resolving@example.org", 2),
    ):
        mails = _email_to(smtp, address, 2 * count)
        # Alertmanager's come first, then ours, each in the order sent.
        for am_mail, our_mail in zip(mails[:count], mails[count:], strict=True):
            am_headers, am_parts = _email_parts(am_mail)
            our_headers, our_parts = _email_parts(our_mail)
            assert our_headers == am_headers
            assert [p.decode() for p in our_parts] == [p.decode() for p in am_parts]
    # The first receiver's has a text part; Alertmanager's default is HTML alone.
    assert len(_email_parts(_email_to(smtp, "oncall@example.org", 2)[0])[1]) == 3
    assert len(_email_parts(_email_to(smtp, "defaults@example.org", 2)[0])[1]) == 2
    assert (
        "Subject: [RESOLVED] Resolving (r:1 critical)"
        in _email_to(smtp, "resolving@example.org", 4)[1].decode()
    )


# --- OpsGenie, VictorOps and Pushover ---------------------------------------------------------------
#
# The same alerts and receivers, with an OpsGenie, a VictorOps and a Pushover integration each (and a
# webhook, for the dispatcher's group key). Alertmanager's OpsGenie and VictorOps integrations post to
# the api_url given them, a local receiver. Its Pushover integration has no api_url (it always posts
# to https://api.pushover.net/1/messages.json): its http_config sends it through a local CONNECT
# proxy to a local HTTPS receiver holding a certificate for api.pushover.net from a test CA, which
# its tls_config trusts. Compared:
#
# - OpsGenie and VictorOps: every request's method, path below the api_url (the alias and the
#   entity_id are the group key's hash, the VictorOps path holds the key and the routing key),
#   Authorization header and body, byte for byte, in the order sent.
# - Pushover: what must differ is where it goes (Alertmanager's fixed URL; ours is the channel's
#   api_url, a local receiver): the query string that holds every parameter, the Content-Type
#   and the (empty) body are compared byte for byte.

PUSHOVER_HOST = "api.pushover.net"
OPSGENIE: dict[str, Any] = {
    "api_key": "og-key-{{ .GroupLabels.alertname }}",
    "message": "{{ .CommonLabels.alertname }} on {{ range .Alerts }}{{ .Labels.instance }} {{ end }}",
    "details": {"team": "{{ .CommonLabels.team }}", "job": "{{ .CommonLabels.job }} & co"},
    "responders": [
        {"name": "ops, db", "type": "teams"},
        {"username": "{{ .CommonLabels.owner }}", "type": "{{ if .CommonLabels.owner }}user{{ end }}"},
        {"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "Schedule"},
    ],
    "tags": " {{ .CommonLabels.severity }},,latency,{{ .GroupLabels.alertname }} ",
    "actions": "restart,page",
    "note": "{{ len .Alerts.Firing }} firing <now>",
    "priority": '{{ if eq .CommonLabels.severity "critical" }}P1{{ else }}P3{{ end }}',
    "entity": "{{ .GroupLabels.alertname }}",
    "update_alerts": True,
}
VICTOROPS: dict[str, Any] = {
    "api_key": "vo-key",
    "routing_key": "team {{ .GroupLabels.alertname }}",
    "message_type": '{{ if eq .CommonLabels.severity "critical" }}CRITICAL{{ else }}WARNING{{ end }}',
    "entity_display_name": '{{ template "custom.title" . }}',
    "custom_fields": {"runbook": "{{ .CommonAnnotations.runbook }}", "count": "{{ len .Alerts }}"},
}
PUSHOVER: dict[str, Any] = {
    "title": '{{ template "custom.title" . }} <&>',
    "html": True,
    "url_title": "Alerts of {{ .Receiver }}",
    "sound": "siren",
    "priority": "1",
    "retry": "30s",
    "expire": "2h",
}


def _other_receivers(http: Receiver) -> dict[str, dict[ChannelType, dict[str, Any]]]:
    """Ours, as the loader makes them; Pushover's user key names its receiver."""

    def configs(
        name: str, og: dict[str, Any], vo: dict[str, Any], po: dict[str, Any]
    ) -> dict[ChannelType, dict[str, Any]]:
        return {
            ChannelType.OPSGENIE: {"api_key": "og-key", **og, "api_url": http.url(f"/ours/{name}/opsgenie/")},
            ChannelType.VICTOROPS: {
                "api_key": "vo-key",
                "routing_key": "route",
                **vo,
                "api_url": http.url(f"/ours/{name}/victorops/"),
            },
            ChannelType.PUSHOVER: {
                "user_key": f"user-{name}",
                "token": "app-token",
                **po,
                "api_url": http.url(f"/ours/{name}/pushover"),
            },
        }

    return {
        RECEIVER: configs(RECEIVER, OPSGENIE, VICTOROPS, PUSHOVER),
        DEFAULTS: configs(DEFAULTS, {}, {}, {}),
        RESOLVING: configs(RESOLVING, {}, {"routing_key": "{{ .Status }}"}, {}),
    }


def _other_alertmanager_config(
    http: Receiver,
    receivers: dict[str, dict[ChannelType, dict[str, Any]]],
    templates: list[Path],
    proxy_port: int,
    ca_file: Path,
) -> dict[str, Any]:
    def receiver(name: str, configs: dict[ChannelType, dict[str, Any]]) -> dict[str, Any]:
        opsgenie = dict(configs[ChannelType.OPSGENIE])
        opsgenie["api_url"] = opsgenie["api_url"].replace("/ours/", "/am/")
        victorops = dict(configs[ChannelType.VICTOROPS])
        victorops["api_url"] = victorops["api_url"].replace("/ours/", "/am/")
        pushover = {k: v for k, v in configs[ChannelType.PUSHOVER].items() if k != "api_url"}
        pushover["http_config"] = {
            "proxy_url": f"http://127.0.0.1:{proxy_port}",
            "tls_config": {"ca_file": str(ca_file)},
        }
        return {
            "name": name,
            "webhook_configs": [{"url": http.url(f"/am/{name}/webhook")}],
            "opsgenie_configs": [opsgenie],
            "victorops_configs": [victorops],
            "pushover_configs": [pushover],
        }

    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1h",
            "repeat_interval": "4h",
            "routes": [
                {"matchers": ['alertname="HighLatency"'], "receiver": RECEIVER},
                {"matchers": ['alertname="DiskFull"'], "receiver": DEFAULTS},
                {"matchers": ['alertname="Resolving"'], "receiver": RESOLVING, "group_interval": "1s"},
            ],
        },
        "receivers": [receiver(name, configs) for name, configs in receivers.items()],
        "templates": [str(p) for p in templates],
    }


def _requests(http: Receiver, prefix: str) -> list[tuple[str, str, str, str]]:
    """Method, path below `prefix`, Authorization and body of each request under it, in order."""
    return [
        (r.method, r.path.removeprefix(prefix), r.headers.get("authorization", ""), r.body.decode())
        for r in http.requests
        if r.path.startswith(prefix)
    ]


def _pushover_sent(http: Receiver, user: str) -> list[tuple[str, str, str]]:
    """Query, Content-Type and body of each Pushover request for `user`, in order."""
    return [
        (r.path.partition("?")[2], r.headers.get("content-type", ""), r.body.decode())
        for r in http.requests
        if f"&user={user}" in r.path
    ]


async def _wait_for(
    count: Callable[[], dict[str, int]], expected: dict[str, int], timeout_s: float = 30.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if all(count().get(k, 0) >= n for k, n in expected.items()):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not all notifications arrived: {count()} of {expected}")


async def test_opsgenie_victorops_and_pushover_send_what_alertmanager_sends(tmp_path: Path) -> None:
    alerts, default_alerts, resolving_firing, resolving_resolved = _alerts_now()
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(PUSHOVER_HOST).configure_cert(server_context)
    http = await Receiver().start()
    pushover_api = await Receiver().start(ssl_context=server_context)
    route = {f"{PUSHOVER_HOST}:443": ("127.0.0.1", pushover_api.port)}
    proxy = await ForwardProxy(routes=route, only_routes=True).start()
    user_file = tmp_path / "user.tmpl"
    user_file.write_text(USER_TEMPLATE)
    templates = [SHIPPED / "default.tmpl", SHIPPED / "email.tmpl", user_file]
    configs = _other_receivers(http)
    # Requests each receiver's integrations make: OpsGenie creates and (with update_alerts) updates,
    # then closes what is resolved; the resolving receiver is notified twice.
    expected = {
        RECEIVER: {"opsgenie": 3, "victorops": 1, "pushover": 1},
        DEFAULTS: {"opsgenie": 1, "victorops": 1, "pushover": 1},
        RESOLVING: {"opsgenie": 2, "victorops": 2, "pushover": 2},
    }

    def counts(side: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for name in configs:
            for kind in ("opsgenie", "victorops", "webhook"):
                found[f"{name}/{kind}"] = len(_requests(http, f"/{side}/{name}/{kind}"))
            where = pushover_api if side == "am" else http
            found[f"{name}/pushover"] = len(_pushover_sent(where, f"user-{name}"))
        return found

    port = free_port()
    config = _other_alertmanager_config(http, configs, templates, proxy.port, ca_file)
    am = _start_alertmanager(tmp_path, config, port)
    base = f"http://127.0.0.1:{port}"
    first = {f"{name}/{kind}": 1 for name in configs for kind in ("opsgenie", "victorops", "pushover")}
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(120):
                try:
                    if (await client.get(f"{base}/-/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert am.poll() is None, (tmp_path / "alertmanager.log").read_text()
                await asyncio.sleep(0.25)
            posted = [_posted(p) for p in [*alerts, *default_alerts, resolving_firing]]
            response = await client.post(f"{base}/api/v2/alerts", json=posted)
            assert response.status_code == 200, response.text
            await _wait_for(lambda: counts("am"), first)
            response = await client.post(f"{base}/api/v2/alerts", json=[_posted(resolving_resolved)])
            assert response.status_code == 200, response.text
            all_sent = {f"{name}/{kind}": n for name, kinds in expected.items() for kind, n in kinds.items()}
            try:
                await _wait_for(lambda: counts("am"), all_sent)
            except AssertionError as e:
                raise AssertionError(f"{e}\n{(tmp_path / 'alertmanager.log').read_text()[-4000:]}") from None

        # Ours: the same receivers' channels, through render() and the factory as the server sends them.
        files = TemplateSet([("user.tmpl", USER_TEMPLATE)])
        groups = {
            RECEIVER: [("HighLatency", alerts)],
            DEFAULTS: [("DiskFull", default_alerts)],
            RESOLVING: [("Resolving", [resolving_firing]), ("Resolving", [resolving_resolved])],
        }
        async with httpx.AsyncClient(timeout=5) as client:
            for name, channel_configs in configs.items():
                group_key = json.loads(_bodies(http, f"/am/{name}/webhook")[0])["groupKey"]
                for alertname, alerts in groups[name]:
                    payload = _payload(name, group_key, alertname, alerts)
                    for type, channel_config in channel_configs.items():
                        channel_config = {**channel_config, "style": "alertmanager"}
                        v = Violations()
                        check_channel_config(v, type, channel_config)
                        assert not v.items, v.items
                        channel = Channel(name=name, type=type, config=channel_config)
                        message = render(payload, external_url=base, send_resolved=sends_resolved(channel))
                        assert message is not None
                        notifier = notifier_for(channel, client, templates=files)
                        result = await notifier.notify(message, idempotency_key="k")
                        assert result.ok, (type, result)
        await _wait_for(lambda: counts("ours"), all_sent)
    finally:
        am.terminate()
        am.wait(10)
        await proxy.stop()
        await pushover_api.close()
        await http.close()

    assert proxy.asked
    assert {(a.method, a.target) for a in proxy.asked} == {("CONNECT", f"{PUSHOVER_HOST}:443")}
    assert {r.path.partition("?")[0] for r in pushover_api.requests} == {"/1/messages.json"}
    for name, kinds in expected.items():
        for kind in ("opsgenie", "victorops"):
            am_sent = _requests(http, f"/am/{name}/{kind}/")
            assert _requests(http, f"/ours/{name}/{kind}/") == am_sent, (name, kind)
            assert len(am_sent) == kinds[kind]
        am_pushover = _pushover_sent(pushover_api, f"user-{name}")
        assert _pushover_sent(http, f"user-{name}") == am_pushover, name
        assert len(am_pushover) == kinds["pushover"]
    # What the comparisons covered: OpsGenie's update and close requests, VictorOps' recovery,
    # Pushover's HTML message and its normal priority once resolved.
    methods = [
        (m, p.partition("?")[0].rsplit("/", 1)[-1])
        for m, p, _, _ in _requests(http, f"/am/{RECEIVER}/opsgenie/")
    ]
    assert methods == [("POST", "alerts"), ("PUT", "message"), ("PUT", "description")]
    created = json.loads(_requests(http, f"/am/{RECEIVER}/opsgenie/")[0][3])
    assert created["responders"][0] == {"name": "ops", "type": "team"}
    assert _requests(http, f"/am/{RECEIVER}/opsgenie/")[0][2] == "GenieKey og-key-HighLatency"
    closed = _requests(http, f"/am/{RESOLVING}/opsgenie/")[1]
    assert closed[1].endswith("/close?identifierType=alias")
    assert json.loads(_requests(http, f"/am/{RESOLVING}/victorops/")[1][3])["message_type"] == "RECOVERY"
    assert "&html=1&" in f"&{_pushover_sent(pushover_api, f'user-{RECEIVER}')[0][0]}&"
    assert "&priority=0&" in _pushover_sent(pushover_api, f"user-{RESOLVING}")[1][0]
