from __future__ import annotations

from typing import Any

import httpx
import pytest

from alerting_server.notify.integrations.slack import SlackConfig
from alerting_server.notify.integrations.slack.notifier import BLUE, GREEN, ORANGE, RED, SlackNotifier, colour
from alerting_server.notify.message import build_message
from tests.notify.alerts import firing, high_cpu_message, resolved
from tests.notify.conftest import FixedClock
from tests.notify.receiver import Receiver, Reply

NOW = 1_700_000_000_000


def notifier(
    client: httpx.AsyncClient, url: str, channel: str = "", username: str = "", icon_emoji: str = ""
) -> SlackNotifier:
    config = SlackConfig(webhook_url=url, channel=channel, username=username, icon_emoji=icon_emoji)
    return SlackNotifier(client=client, config=config, clock=FixedClock(NOW))


def body(receiver: Receiver) -> dict[str, Any]:
    [req] = receiver.requests
    data = req.json()
    assert isinstance(data, dict)
    return data


async def test_block_kit_message_with_colour_labels_annotations_and_links(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.answer(Reply(200, b"ok", {"Content-Type": "text/plain"}))
    message = high_cpu_message(ack_url="http://alerting.example/ack?sig=abc")
    n = notifier(
        client, receiver.url("/services/T/B/X"), channel="#ops", username="alerts", icon_emoji=":fire:"
    )
    result = await n.notify(message, idempotency_key="k")
    assert result.ok
    data = body(receiver)
    assert (data["channel"], data["username"], data["icon_emoji"]) == ("#ops", "alerts", ":fire:")
    assert data["text"] == "[FIRING:2, RESOLVED:1] HighCPU"
    assert data["blocks"] == [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "[FIRING:2, RESOLVED:1] HighCPU", "emoji": True},
        }
    ]
    [attachment] = data["attachments"]
    assert attachment["color"] == RED
    sections = [b["text"]["text"] for b in attachment["blocks"] if b["type"] == "section"]
    assert len(sections) == 3
    assert sections[0].startswith(":red_circle: *CPU high*\n")
    assert "`alertname=HighCPU`, `instance=a`, `severity=critical`" in sections[0]
    assert "<http://prom.example/graph?g0.expr=HighCPU|Source>" in sections[0]
    assert sections[2].startswith(":large_green_circle: *HighCPU*")
    [actions] = [b for b in attachment["blocks"] if b["type"] == "actions"]
    assert [(e["text"]["text"], e["url"]) for e in actions["elements"]] == [
        ("View alerts", "http://alerting.example"),
        ("Acknowledge", "http://alerting.example/ack?sig=abc"),
    ]


async def test_resolved_group_is_green_without_ack_button(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.answer(Reply(200, b"ok"))
    message = build_message(
        receiver="ops",
        group_key="k",
        group_labels={"alertname": "A"},
        firing=[],
        resolved=[resolved("A", "x")],
        ack_url="http://ack",
    )
    await notifier(client, receiver.url()).notify(message, idempotency_key="k")
    data = body(receiver)
    assert data["text"] == "[RESOLVED:1] A"
    assert "channel" not in data
    [attachment] = data["attachments"]
    assert attachment["color"] == GREEN
    # No external URL to link, and nothing left to acknowledge: no buttons at all.
    assert all(b["type"] != "actions" for b in attachment["blocks"])


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        (["critical"], RED),
        (["error"], RED),
        (["warning", "info"], ORANGE),
        (["info"], BLUE),
        (["page"], BLUE),
        (["warning", "critical"], RED),
    ],
)
def test_colour_follows_the_most_urgent_severity(severities: list[str], expected: str) -> None:
    message = build_message(
        receiver="r",
        group_key="k",
        group_labels={},
        firing=[firing("A", str(i), severity=s) for i, s in enumerate(severities)],
    )
    assert colour(message) == expected


async def test_markup_in_alert_text_is_escaped(receiver: Receiver, client: httpx.AsyncClient) -> None:
    message = build_message(
        receiver="r", group_key="k", group_labels={}, firing=[firing("A", "x", summary="<!channel> & more")]
    )
    await notifier(client, receiver.url()).notify(message, idempotency_key="k")
    section = body(receiver)["attachments"][0]["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; &amp; more" in section
    assert "<!channel>" not in section


async def test_many_alerts_are_cut_with_a_count(receiver: Receiver, client: httpx.AsyncClient) -> None:
    message = build_message(
        receiver="r", group_key="k", group_labels={}, firing=[firing("A", f"{i:02}") for i in range(25)]
    )
    await notifier(client, receiver.url()).notify(message, idempotency_key="k")
    blocks = body(receiver)["attachments"][0]["blocks"]
    assert sum(b["type"] == "section" for b in blocks) == 20
    assert {"type": "context", "elements": [{"type": "mrkdwn", "text": "and 5 more alerts"}]} in blocks


@pytest.mark.parametrize(
    ("status", "text", "reason"),
    [
        (400, b"invalid_payload", "HTTP 400: invalid_payload"),
        (404, b"channel_not_found", "HTTP 404: channel_not_found"),
        (403, b"action_prohibited", "HTTP 403: action_prohibited"),
        (410, b"channel_is_archived", "HTTP 410: channel_is_archived"),
    ],
)
async def test_slack_error_bodies_are_permanent(
    receiver: Receiver, client: httpx.AsyncClient, status: int, text: bytes, reason: str
) -> None:
    receiver.answer(Reply(status, text))
    result = await notifier(client, receiver.url()).notify(high_cpu_message(), idempotency_key="k")
    assert (result.ok, result.retryable, result.status_code, result.reason) == (False, False, status, reason)


async def test_200_that_is_not_ok_is_a_permanent_failure(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.answer(Reply(200, b'{"ok":false,"error":"invalid_blocks"}'), Reply(200, b'{"ok":true}'))
    n = notifier(client, receiver.url())
    first = await n.notify(high_cpu_message(), idempotency_key="k")
    second = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (first.ok, first.retryable, first.reason) == (False, False, "invalid_blocks")
    assert second.ok


async def test_rate_limit_and_5xx_are_retried(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.answer(Reply(429, b"rate_limited", {"Retry-After": "30"}), Reply(500, b"rollup_error"))
    n = notifier(client, receiver.url())
    limited = await n.notify(high_cpu_message(), idempotency_key="k")
    broken = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (limited.retryable, limited.retry_after_ms, limited.reason) == (
        True,
        30_000,
        "HTTP 429: rate_limited",
    )
    assert (broken.retryable, broken.status_code) == (True, 500)


async def test_webhook_url_never_in_the_reason(client: httpx.AsyncClient, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/services/T000/B000/SECRETXYZ"
    result = await notifier(client, url).notify(high_cpu_message(), idempotency_key="k")
    assert result.retryable
    assert "SECRETXYZ" not in result.reason
