"""Channel message templates over the wire: rejected at create time when they do not parse, and
rendered by the real server into what a real SMTP server receives."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.notify.smtp import Handler, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, int]]:
    handler = Handler()
    with smtp_server(handler) as port:
        yield handler, port


def email_config(port: int, **templates: str) -> dict[str, object]:
    return {
        "to": ["oncall@example.org"],
        "from": "alerts@example.org",
        "smarthost": f"127.0.0.1:{port}",
        **templates,
    }


async def test_a_template_that_does_not_parse_is_rejected_naming_the_field(api: httpx.AsyncClient) -> None:
    config = email_config(25, subject="{{ .Status ", text="{{ humanize 3 }}")
    r = await api.post("/channels", json={"name": "mail", "type": "email", "config": config})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    details = {d["field"]: d["description"] for d in error["details"]}
    assert details == {
        "config.subject": "template: subject:1: unclosed action",
        "config.text": 'template: text:1: function "humanize" not defined',
    }
    assert (await api.get("/channels")).json()["channels"] == []


async def test_overridden_subject_and_text_reach_the_smtp_server(
    api: httpx.AsyncClient, smtp: tuple[Handler, int]
) -> None:
    handler, port = smtp
    config = email_config(
        port,
        subject="{{ .Status | toUpper }}: {{ .CommonLabels.alertname }} ({{ len .Alerts.Firing }})",
        text="{{ range .Alerts }}{{ .Labels.alertname }} {{ .Annotations.summary }}{{ end }}",
    )
    r = await api.post("/channels", json={"name": "mail", "type": "email", "config": config})
    assert r.status_code == 201, r.text
    delivery = (await api.post(f"/channels/{r.json()['id']}/test", json={})).json()
    assert (delivery["status"], delivery["last_error"]) == ("delivered", "")
    # TestChannel answers after the SMTP server accepted the message.
    [got] = handler.received
    assert got.message["Subject"] == "FIRING: TestNotification (1)"
    body = got.message.get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == "TestNotification A test notification from the alerting server"
