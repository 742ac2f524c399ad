from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from alerting_server.notify.integrations.victorops import VictorOpsConfig, VictorOpsNotifier
from alerting_server.notify.message import Message, build_message
from tests.notify.alerts import high_cpu_message, resolved
from tests.notify.conftest import FixedClock
from tests.notify.receiver import Receiver, Reply

NOW = 1_700_000_000_000
API_KEY = "vo-api-key-123"
ENTITY = hashlib.sha256(b'{}:{alertname="HighCPU"}').hexdigest()


def notifier(client: httpx.AsyncClient, receiver: Receiver, **config: Any) -> VictorOpsNotifier:
    parsed = VictorOpsConfig.parse(
        {"api_key": API_KEY, "api_url": receiver.url("/alert/"), "routing_key": "ops", **config}
    )
    return VictorOpsNotifier(client=client, config=parsed, clock=FixedClock(NOW))


def resolved_message() -> Message:
    return build_message(
        receiver="ops",
        group_key='{}:{alertname="HighCPU"}',
        group_labels={"alertname": "HighCPU"},
        firing=[],
        resolved=[resolved("HighCPU", "a")],
    )


async def test_a_firing_group_posts_a_critical_incident_to_the_key_and_routing_key(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    assert (await notifier(client, receiver).notify(high_cpu_message(), idempotency_key="k")).ok
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", f"/alert/{API_KEY}/ops")
    assert request.headers["content-type"] == "application/json"
    # A map of strings: Go writes its keys sorted.
    assert request.body.startswith(b'{"entity_display_name":"[FIRING:2] HighCPU (critical)","entity_id":"')
    sent = json.loads(request.body)
    assert list(sent) == sorted(sent)
    assert sent["entity_id"] == ENTITY
    assert sent["message_type"] == "CRITICAL"
    assert sent["monitoring_tool"] == "Alertmanager"
    assert sent["state_message"].startswith("\nAlerts Firing:\n")


async def test_the_routing_key_is_a_template_and_is_escaped_in_the_path(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    n = notifier(client, receiver, routing_key="team {{ .CommonLabels.alertname }}/ü!")
    assert (await n.notify(high_cpu_message(), idempotency_key="k")).ok
    assert receiver.requests[0].path == f"/alert/{API_KEY}/team%20HighCPU/%C3%BC%21"


async def test_an_escaped_api_url_path_is_escaped_once(receiver: Receiver, client: httpx.AsyncClient) -> None:
    config = VictorOpsConfig.parse({"api_key": "k", "api_url": receiver.url("/a%20b"), "routing_key": "r"})
    assert (await VictorOpsNotifier(client, config).notify(high_cpu_message(), idempotency_key="k")).ok
    assert receiver.requests[0].path == "/a%20b/k/r"


@pytest.mark.parametrize(
    ("message_type", "expected"),
    [
        ("INFO", "INFO"),
        ("WARNING", "WARNING"),
        ("ACKNOWLEDGEMENT", "CRITICAL"),
        ("{{ .Status }}", "CRITICAL"),
    ],
)
async def test_a_firing_group_sends_an_allowed_message_type_or_critical(
    receiver: Receiver, client: httpx.AsyncClient, message_type: str, expected: str
) -> None:
    n = notifier(client, receiver, message_type=message_type)
    assert (await n.notify(high_cpu_message(), idempotency_key="k")).ok
    assert json.loads(receiver.requests[0].body)["message_type"] == expected


async def test_a_resolved_group_recovers_the_same_entity_with_custom_fields(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    n = notifier(
        client,
        receiver,
        message_type="INFO",
        custom_fields={"zeta": "{{ .Status }}", "alpha": "{{ .CommonLabels.instance }}"},
        entity_display_name="{{ .GroupLabels.alertname }} is over",
    )
    assert (await n.notify(resolved_message(), idempotency_key="k")).ok
    sent = json.loads(receiver.requests[0].body)
    assert list(sent) == [
        "alpha",
        "entity_display_name",
        "entity_id",
        "message_type",
        "monitoring_tool",
        "state_message",
        "zeta",
    ]
    assert sent["message_type"] == "RECOVERY"
    assert sent["entity_id"] == ENTITY
    assert (sent["alpha"], sent["zeta"], sent["entity_display_name"]) == ("a", "resolved", "HighCPU is over")


async def test_the_state_message_is_cut_to_20480_runes(receiver: Receiver, client: httpx.AsyncClient) -> None:
    n = notifier(client, receiver, state_message="x" * 30000)
    assert (await n.notify(high_cpu_message(), idempotency_key="k")).ok
    assert json.loads(receiver.requests[0].body)["state_message"] == "x" * 20479 + "…"


async def test_only_5xx_are_retried_and_the_key_is_never_told(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    n = notifier(client, receiver)
    receiver.answer(Reply(502, b"bad gateway"), Reply(429), Reply(404, f"no such key {API_KEY}".encode()))
    bad_gateway = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (bad_gateway.ok, bad_gateway.retryable, bad_gateway.status_code) == (False, True, 502)
    limited = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (limited.retryable, limited.status_code) == (False, 429)
    missing = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (missing.retryable, missing.status_code) == (False, 404)
    assert API_KEY not in missing.reason
    assert "<secret>" in missing.reason


async def test_a_failing_routing_key_template_sends_nothing(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    result = await notifier(client, receiver, routing_key='{{ template "nope" . }}').notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert (result.ok, result.retryable) == (False, False)
    assert "template routing_key" in result.reason
    assert receiver.requests == []
