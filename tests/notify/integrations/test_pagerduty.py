from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from alerting_server.notify.integrations.pagerduty import PagerDutyConfig
from alerting_server.notify.integrations.pagerduty.notifier import PagerDutyNotifier, dedup_key, event_payload
from alerting_server.notify.message import build_message
from tests.notify.alerts import firing, high_cpu_message, resolved
from tests.notify.conftest import FixedClock
from tests.notify.receiver import Receiver, Reply

NOW = 1_700_000_000_000
KEY = "R0UT1NGKEY0123456789abcdefabcdef"
ACCEPTED = Reply(202, b'{"status":"success","message":"Event processed","dedup_key":"x"}')


def notifier(client: httpx.AsyncClient, url: str, severity: str = "error") -> PagerDutyNotifier:
    config = PagerDutyConfig(routing_key=KEY, url=url, severity=severity)
    return PagerDutyNotifier(client=client, config=config, clock=FixedClock(NOW))


def events(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


def test_dedup_key_is_alertmanagers_group_key_hash() -> None:
    group_key = '{}:{alertname="HighCPU"}'
    assert dedup_key(group_key) == hashlib.sha256(group_key.encode()).hexdigest()
    assert len(dedup_key(group_key)) == 64


async def test_firing_group_triggers(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.answer(ACCEPTED)
    message = high_cpu_message(ack_url="http://alerting.example/ack/1")
    result = await notifier(client, receiver.url("/v2/enqueue")).notify(message, idempotency_key="k")
    assert result.ok
    [req] = receiver.requests
    assert req.path == "/v2/enqueue"
    assert req.headers["content-type"] == "application/json"
    [event] = events(receiver)
    assert event["routing_key"] == KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == dedup_key('{}:{alertname="HighCPU"}')
    payload = event["payload"]
    assert payload["summary"] == "[FIRING:2] HighCPU (critical)"
    assert payload["severity"] == "critical"
    assert payload["source"] == "Alerting"
    details = payload["custom_details"]
    assert (details["num_firing"], details["num_resolved"]) == (2, 1)
    assert details["firing"][0] == {
        "labels": {"alertname": "HighCPU", "instance": "a", "severity": "critical"},
        "annotations": {"summary": "CPU high"},
    }
    assert details["resolved"][0]["labels"]["instance"] == "c"
    assert event["client"] == "Alerting"
    assert event["client_url"] == "http://alerting.example/#/alerts?receiver=ops"
    assert event["links"] == [
        {"href": "http://alerting.example", "text": "Alerts"},
        {"href": "http://alerting.example/ack/1", "text": "Acknowledge"},
        {"href": "http://prom.example/graph?g0.expr=HighCPU", "text": "Source"},
    ]


async def test_all_resolved_group_resolves_the_same_incident(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.answer(ACCEPTED)
    message = build_message(
        receiver="ops",
        group_key="g1",
        group_labels={"alertname": "A"},
        firing=[],
        resolved=[resolved("A", "x")],
    )
    result = await notifier(client, receiver.url()).notify(message, idempotency_key="k")
    assert result.ok
    assert events(receiver) == [{"routing_key": KEY, "event_action": "resolve", "dedup_key": dedup_key("g1")}]


async def test_acknowledge_is_its_own_event(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.answer(ACCEPTED)
    result = await notifier(client, receiver.url()).acknowledge("g1")
    assert result.ok
    assert events(receiver) == [
        {"routing_key": KEY, "event_action": "acknowledge", "dedup_key": dedup_key("g1")}
    ]


@pytest.mark.parametrize(
    ("labels", "configured", "expected"),
    [
        (["warning"], "error", "warning"),
        (["info", "warning"], "error", "warning"),
        (["page"], "error", "error"),
        (["page"], "info", "info"),
        ([""], "critical", "critical"),
    ],
)
def test_severity_from_labels_else_configured_default(
    labels: list[str], configured: str, expected: str
) -> None:
    message = build_message(
        receiver="r",
        group_key="k",
        group_labels={},
        firing=[firing("A", str(i), s) for i, s in enumerate(labels)],
    )
    assert (
        event_payload(message, routing_key=KEY, default_severity=configured)["payload"]["severity"]
        == expected
    )


async def test_configured_severity_is_the_default(receiver: Receiver, client: httpx.AsyncClient) -> None:
    message = build_message(receiver="r", group_key="k", group_labels={}, firing=[firing("A", "x", "page")])
    await notifier(client, receiver.url(), severity="info").notify(message, idempotency_key="k")
    await notifier(client, receiver.url(), severity="{{ .CommonLabels.sev }}").notify(
        message, idempotency_key="k"
    )
    assert [e["payload"]["severity"] for e in events(receiver)] == ["info", "error"]


def test_summary_is_truncated_to_1024_characters() -> None:
    long_name = "x" * 2000
    message = build_message(
        receiver="r", group_key="k", group_labels={"alertname": long_name}, firing=[firing(long_name, "i")]
    )
    summary = event_payload(message, routing_key=KEY)["payload"]["summary"]
    assert len(summary) == 1024
    assert summary.endswith("…")


async def test_oversized_event_drops_custom_details(receiver: Receiver, client: httpx.AsyncClient) -> None:
    big = "y" * 1000
    message = build_message(
        receiver="r",
        group_key="k",
        group_labels={},
        firing=[firing("A", str(i), description=big) for i in range(600)],
    )
    await notifier(client, receiver.url()).notify(message, idempotency_key="k")
    [event] = events(receiver)
    assert list(event["payload"]["custom_details"]) == ["error"]
    assert len(receiver.requests[0].body) < 512_000


async def test_400_is_permanent_with_pagerdutys_message_and_no_routing_key(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.answer(
        Reply(
            400,
            json.dumps(
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": [f"Length of 'routing_key' {KEY} is incorrect (should be 32 characters)"],
                }
            ).encode(),
        )
    )
    result = await notifier(client, receiver.url()).notify(high_cpu_message(), idempotency_key="k")
    assert (result.ok, result.retryable, result.status_code) == (False, False, 400)
    assert result.reason == (
        "HTTP 400: Event object is invalid: "
        "Length of 'routing_key' <secret> is incorrect (should be 32 characters)"
    )


async def test_429_and_5xx_are_retried(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.answer(
        Reply(
            429,
            b'{"status":"throttle event","message":"Requests for this service are arriving too quickly."}',
        ),
        Reply(500),
        Reply(503, headers={"Retry-After": "2"}),
    )
    n = notifier(client, receiver.url())
    results = [await n.notify(high_cpu_message(), idempotency_key="k") for _ in range(3)]
    assert [(r.retryable, r.status_code, r.retry_after_ms) for r in results] == [
        (True, 429, None),
        (True, 500, None),
        (True, 503, 2_000),
    ]
    assert results[0].reason == "HTTP 429: Requests for this service are arriving too quickly."
