from __future__ import annotations

import dataclasses

import pytest

from alerting_server.model import Ack
from alerting_server.model.codec import alert_to_data
from alerting_server.notify.integrations.email.notifier import render_email
from alerting_server.notify.integrations.webhook.notifier import webhook_payload
from alerting_server.notify.render import BadPayload, decode, render, synthetic_payload
from tests.notify.alerts import T0, firing, resolved


def payload(firing_alerts: list[object], resolved_alerts: list[object]) -> dict[str, object]:
    return {
        "receiver": "ops",
        "group_key": '{}:{alertname="HighCPU"}',
        "group_labels": {"alertname": "HighCPU"},
        "firing": firing_alerts,
        "resolved": resolved_alerts,
    }


def test_renders_the_group_as_the_pipeline_wrote_it() -> None:
    data = payload([alert_to_data(firing("HighCPU", "a"))], [alert_to_data(resolved("HighCPU", "c"))])
    message = render(decode(data), external_url="http://x", send_resolved=True)
    assert message is not None
    assert (message.receiver, message.status, message.external_url) == ("ops", "firing", "http://x")
    assert [a.status for a in message.alerts] == ["firing", "resolved"]
    assert message.group_labels == {"alertname": "HighCPU"}


def test_resolved_alerts_are_left_out_for_channels_that_do_not_send_them() -> None:
    data = payload([alert_to_data(firing("HighCPU", "a"))], [alert_to_data(resolved("HighCPU", "c"))])
    message = render(decode(data), external_url="", send_resolved=False)
    assert message is not None
    assert [a.status for a in message.alerts] == ["firing"]
    only_resolved = payload([], [alert_to_data(resolved("HighCPU", "c"))])
    assert render(decode(only_resolved), external_url="", send_resolved=False) is None


def test_an_unreadable_payload_is_a_bad_payload() -> None:
    with pytest.raises(BadPayload):
        decode({"firing": [{"labels": {}}]})
    with pytest.raises(BadPayload):
        decode({"firing": []})


def test_the_synthetic_test_notification_is_one_firing_alert() -> None:
    message = render(synthetic_payload("ops", T0), external_url="", send_resolved=True)
    assert message is not None
    [alert] = message.alerts
    assert alert.labels["alertname"] == "TestNotification"
    assert (alert.status, alert.starts_at) == ("firing", T0)


def test_the_signed_acknowledgement_link_reaches_the_message() -> None:
    data = {**payload([alert_to_data(firing("HighCPU", "a"))], []), "ack_url": "http://x/ack/v1.abc"}
    message = render(decode(data), external_url="http://x", send_resolved=True)
    assert message is not None
    assert message.ack_url == "http://x/ack/v1.abc"
    plain = render(
        decode(payload([alert_to_data(firing("HighCPU", "a"))], [])), external_url="", send_resolved=True
    )
    assert plain is not None
    assert plain.ack_url == ""


def test_each_firing_alert_carries_its_own_link_and_acked_alerts_say_who() -> None:
    a, b = firing("HighCPU", "a"), firing("HighCPU", "b")
    acked = dataclasses.replace(b, ack=Ack(by="alice", comment="on it", at=T0))
    data = {
        **payload([alert_to_data(a), alert_to_data(acked)], []),
        "ack_urls": {a.fingerprint: "http://x/ack/a", b.fingerprint: "http://x/ack/b"},
    }
    message = render(decode(data), external_url="http://x", send_resolved=True)
    assert message is not None
    assert message.ack_url == ""  # two alerts: no one link for the group
    assert {m.fingerprint: m.ack_url for m in message.alerts} == {
        a.fingerprint: "http://x/ack/a",
        b.fingerprint: "http://x/ack/b",
    }
    [first, second] = message.alerts
    assert "acknowledged_by" not in first.annotations
    assert second.annotations["acknowledged_by"] == "alice"
    assert second.annotations["acknowledgement_comment"] == "on it"
    assert second.annotations["acknowledged_at"] == "2023-11-14T22:13:20Z"
    assert webhook_payload(message)["alerts"][1]["annotations"]["acknowledged_by"] == "alice"
    mail = render_email(message, sender="a@x.org", to=["b@x.org"], idempotency_key="k", now_ms=T0)
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None
    assert "Acknowledge: http://x/ack/a" in plain.get_content()
