"""What channels of style "alertmanager" write, piece by piece: Go's JSON and MIME encodings,
Alertmanager's order of alerts, its truncations, and what a failed template does."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import httpx

from alerting_server.errors import Violations
from alerting_server.model import Alert, Channel, ChannelType
from alerting_server.notify import notifier_for
from alerting_server.notify.alertmanager import gojson
from alerting_server.notify.alertmanager.data import alertmanager_message
from alerting_server.notify.alertmanager.email import email_headers, q_encode, quoted_printable
from alerting_server.notify.alertmanager.pagerduty import AlertmanagerPagerDutyNotifier
from alerting_server.notify.alertmanager.slack import AlertmanagerSlackNotifier
from alerting_server.notify.alertmanager.webhook import webhook_message
from alerting_server.notify.message import build_message
from alerting_server.notify.sender import AcknowledgingNotifier
from alerting_server.validation.channels import check_channel_config
from tests.notify.alerts import T0, firing, high_cpu_message, resolved
from tests.notify.conftest import FixedClock
from tests.notify.receiver import Receiver


def test_json_is_what_gos_encoder_writes() -> None:
    value = {"b": '<&>\u2028\u2029\x01\x08"\\\n\t\r é', "a": [True, None, 3], "c": {}}
    assert gojson.encode(value) == (
        b'{"b":"\\u003c\\u0026\\u003e\\u2028\\u2029\\u0001\\u0008\\"\\\\\\n\\t\\r \xc3\xa9",'
        b'"a":[true,null,3],"c":{}}\n'
    )


def test_quoted_printable_is_what_gos_writer_writes() -> None:
    assert quoted_printable("h\u00e9llo = \t\nx") == "h=C3=A9llo =3D =09\r\nx"
    assert quoted_printable("a" * 80) == "a" * 75 + "=\r\n" + "a" * 5
    # An escape never straddles a soft line break.
    assert quoted_printable("a" * 74 + "=") == "a" * 74 + "=\r\n=3D"
    assert quoted_printable("x\r\ny\rz ") == "x\r\ny\r\nz=20"


def test_headers_are_q_encoded_only_when_they_must_be() -> None:
    assert q_encode("[FIRING:1] Disk (a b)") == "[FIRING:1] Disk (a b)"
    assert q_encode("Équipe a_b?=") == "=?utf-8?q?=C3=89quipe_a=5Fb=3F=3D?="
    long = q_encode("é" * 40)
    words = long.split(" ")
    # 63 bytes of encoded text a word at most: 10 "é" (6 each), a character never split.
    assert [len(w) for w in words] == [72, 72, 72, 72]


def test_email_headers_are_filled_and_normalized_as_alertmanagers_loader_does() -> None:
    headers = email_headers(
        {"headers": {"x-team": "ops", "subject": "S"}}, "am@x.org", ["a@x.org", "b@x.org"]
    )
    assert headers == {"X-Team": "ops", "Subject": "S", "To": "a@x.org, b@x.org", "From": "am@x.org"}
    assert email_headers({}, "am@x.org", ["a@x.org"])["Subject"] == '{{ template "email.default.subject" . }}'


def test_alerts_come_in_alertmanagers_order() -> None:
    def alert(**labels: str) -> Alert:
        a = firing("A", labels.pop("instance", "i"))
        return dataclasses.replace(a, labels={**a.labels, **labels})

    message = build_message(
        receiver="r",
        group_key="k",
        group_labels={},
        firing=[
            alert(instance="z"),  # no job: after those with one
            alert(job="b", instance="a"),
            alert(job="a", instance="b"),
            alert(job="a", instance="a"),
        ],
    )
    ordered = [(a.labels.get("job"), a.labels["instance"]) for a in alertmanager_message(message).alerts]
    assert ordered == [("a", "a"), ("a", "b"), ("b", "a"), (None, "z")]


def test_webhook_truncation_computes_the_data_over_the_alerts_kept() -> None:
    message = build_message(
        receiver="a|b",
        group_key="k",
        group_labels={"alertname": "HighCPU"},
        firing=[firing("HighCPU", "b")],
        resolved=[resolved("HighCPU", "a", severity="warning")],
    )
    body = webhook_message(message, max_alerts=1)
    # Resolved "a" sorts first: what is kept is resolved, and so is the status.
    assert body["status"] == "resolved"
    assert body["truncatedAlerts"] == 1
    assert body["commonLabels"] == {"alertname": "HighCPU", "instance": "a", "severity": "warning"}
    assert body["receiver"] == "a\\|b"


def test_slack_title_is_cut_to_1024_runes() -> None:
    notifier = AlertmanagerSlackNotifier(
        client=httpx.AsyncClient(),
        webhook_url="http://x",
        config={"title": "{{ range $i := list 1 2 }}é{{ end }}" + "x" * 2000},
    )
    body = json.loads(notifier.render(high_cpu_message()))
    title = body["attachments"][0]["title"]
    assert len(title) == 1024
    assert title.startswith("ééx")
    assert title.endswith("x…")


def test_pagerduty_resolves_with_its_payload() -> None:
    message = build_message(
        receiver="ops", group_key="g", group_labels={}, firing=[], resolved=[resolved("A", "a")]
    )
    notifier = AlertmanagerPagerDutyNotifier(
        client=httpx.AsyncClient(), routing_key="r" * 32, url="http://x", config={}, clock=FixedClock(T0)
    )
    event = json.loads(notifier.render(message))
    assert event["event_action"] == "resolve"
    assert event["payload"]["summary"] == "[RESOLVED]  (A a critical)"  # no group labels
    assert event["payload"]["severity"] == "error"
    assert event["payload"]["source"] == "Alertmanager"
    assert event["payload"]["custom_details"]["num_resolved"] == "1"


async def test_a_failed_template_sends_nothing_and_is_not_retried(client: httpx.AsyncClient) -> None:
    receiver = await Receiver().start()
    try:
        channel = Channel(
            name="c",
            type=ChannelType.SLACK,
            config={
                "webhook_url": receiver.url("/slack"),
                "style": "alertmanager",
                "text": '{{ template "nope" . }}',
            },
        )
        result = await notifier_for(channel, client).notify(high_cpu_message(), idempotency_key="k")
        assert not result.ok
        assert not result.retryable
        assert result.reason.startswith(
            'template text: template: :1:12: executing "" at <{{template "nope" .}}>'
        )
        assert receiver.requests == []
    finally:
        await receiver.close()


async def test_channels_without_style_keep_our_own_messages(client: httpx.AsyncClient) -> None:
    receiver = await Receiver().start()
    try:
        channel = Channel(name="c", type=ChannelType.SLACK, config={"webhook_url": receiver.url("/slack")})
        result = await notifier_for(channel, client).notify(high_cpu_message(), idempotency_key="k")
        assert result.ok
        body = receiver.requests[0].json()
        assert isinstance(body, dict)
        assert "blocks" in body
    finally:
        await receiver.close()


async def test_our_acknowledgement_reaches_the_incident_alertmanager_opened(
    client: httpx.AsyncClient,
) -> None:
    receiver = await Receiver().start()
    try:
        channel = Channel(
            name="pd",
            type=ChannelType.PAGERDUTY,
            config={"routing_key": "r" * 32, "url": receiver.url("/pd"), "style": "alertmanager"},
        )
        notifier = notifier_for(channel, client)
        assert isinstance(notifier, AcknowledgingNotifier)
        assert (await notifier.notify(high_cpu_message(), idempotency_key="k")).ok
        assert (await notifier.acknowledge(high_cpu_message().group_key)).ok
        trigger, ack = (r.json() for r in receiver.requests)
        assert isinstance(trigger, dict)
        assert ack == {
            "routing_key": "r" * 32,
            "dedup_key": trigger["dedup_key"],
            "event_action": "acknowledge",
        }
    finally:
        await receiver.close()


def test_our_reply_to_becomes_a_header_unless_the_headers_have_one() -> None:
    config: dict[str, object] = {"reply_to": "noc@x.org"}
    assert email_headers(config, "am@x.org", ["a@x.org"])["Reply-To"] == "noc@x.org"
    config = {"reply_to": "noc@x.org", "headers": {"reply-to": "{{ .Receiver }}@x.org"}}
    assert email_headers(config, "am@x.org", ["a@x.org"])["Reply-To"] == "{{ .Receiver }}@x.org"


async def test_a_service_key_sends_events_api_v1_as_alertmanager_does(client: httpx.AsyncClient) -> None:
    receiver = await Receiver().start()
    try:
        channel = Channel(
            name="pd",
            type=ChannelType.PAGERDUTY,
            config={
                "service_key": "s" * 32,
                "url": receiver.url("/v1"),
                "style": "alertmanager",
                "headers": {"Authorization": "Bearer t0ken"},
            },
        )
        notifier = notifier_for(channel, client)
        firing_message = high_cpu_message()
        resolved_message = build_message(
            receiver="ops",
            group_key=firing_message.group_key,
            group_labels={},
            firing=[],
            resolved=[resolved("A", "a")],
        )
        assert (await notifier.notify(firing_message, idempotency_key="k")).ok
        assert (await notifier.notify(resolved_message, idempotency_key="k2")).ok
        trigger_request, resolve_request = receiver.requests
        trigger, resolve = trigger_request.json(), resolve_request.json()
        assert isinstance(trigger, dict)
        assert isinstance(resolve, dict)
        assert trigger_request.headers["authorization"] == "Bearer t0ken"
        # Go's field order, event_action and payload kept though empty, as its encoder writes them.
        assert list(trigger) == [
            "service_key",
            "incident_key",
            "event_type",
            "description",
            "event_action",
            "payload",
            "client",
            "client_url",
            "details",
        ]
        assert (trigger["event_type"], trigger["event_action"], trigger["payload"]) == ("trigger", "", None)
        assert trigger["incident_key"] == hashlib.sha256(firing_message.group_key.encode()).hexdigest()
        assert trigger["service_key"] == "s" * 32
        assert trigger["client"] == "Alertmanager"
        assert trigger["details"]["num_firing"] == str(len(firing_message.firing))
        # A resolve carries neither client nor client_url.
        assert resolve["event_type"] == "resolve"
        assert resolve["incident_key"] == trigger["incident_key"]
        assert "client" not in resolve
    finally:
        await receiver.close()


def test_a_service_key_needs_style_alertmanager_and_excludes_a_routing_key() -> None:
    v = Violations()
    check_channel_config(v, ChannelType.PAGERDUTY, {"service_key": "s"})
    check_channel_config(
        v, ChannelType.PAGERDUTY, {"service_key": "s", "routing_key": "r", "style": "alertmanager"}
    )
    check_channel_config(v, ChannelType.PAGERDUTY, {"style": "alertmanager"})
    assert [(i.field, i.description.split(":")[0]) for i in v.items] == [
        ("config.service_key", 'the Events API v1 is sent by channels of style "alertmanager" only'),
        ("config.service_key", "one of routing_key and service_key, not both"),
        ("config.routing_key", "is required"),
    ]
