from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from alerting_server.model import Channel, ChannelType
from alerting_server.notify import notifier_for
from alerting_server.notify.integrations.opsgenie import OpsGenieConfig, OpsGenieNotifier
from alerting_server.notify.message import build_message
from tests.notify.alerts import firing, high_cpu_message, resolved
from tests.notify.conftest import FixedClock
from tests.notify.receiver import Receiver, Reply

NOW = 1_700_000_000_000
KEY = "0a1b2c3d-genie-key"
ALIAS = hashlib.sha256(b'{}:{alertname="HighCPU"}').hexdigest()


def notifier(client: httpx.AsyncClient, receiver: Receiver, **config: Any) -> OpsGenieNotifier:
    parsed = OpsGenieConfig.parse({"api_key": KEY, "api_url": receiver.url("/og/"), **config})
    return OpsGenieNotifier(client=client, config=parsed, clock=FixedClock(NOW))


def body(receiver: Receiver, i: int = 0) -> dict[str, Any]:
    found = json.loads(receiver.requests[i].body)
    assert isinstance(found, dict)
    return found


async def test_a_firing_group_creates_an_alert_aliased_by_the_group_key_hash(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    result = await notifier(client, receiver).notify(high_cpu_message(), idempotency_key="k")
    assert result.ok
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/og/v2/alerts")
    assert request.headers["authorization"] == f"GenieKey {KEY}"
    assert request.headers["content-type"] == "application/json"
    created = body(receiver)
    # opsGenieCreateMessage's fields in Go's order, the empty ones left out.
    assert list(created) == ["alias", "message", "description", "details", "source"]
    assert created["alias"] == ALIAS
    assert created["message"] == "[FIRING:2] HighCPU (critical)"
    assert created["description"].startswith("\nAlerts Firing:\nLabels:\n - alertname = HighCPU\n")
    # The common labels, then the configured details.
    assert created["details"] == {"alertname": "HighCPU", "severity": "critical"}
    assert created["source"] == "http://alerting.example/#/alerts?receiver=ops"
    assert request.body.endswith(b"}\n")


async def test_responders_tags_actions_and_details_as_alertmanager_makes_them(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    n = notifier(
        client,
        receiver,
        responders=[
            {"name": "ops, db,", "type": "teams"},
            # Filled from a label the alerts lack: all empty, left out.
            {"username": "{{ .CommonLabels.owner }}", "type": "{{ if .CommonLabels.owner }}user{{ end }}"},
            {"id": "4513b7ea", "type": "Schedule"},
        ],
        tags=" prod,,{{ .CommonLabels.alertname }} ",
        actions="restart,page",
        details={"severity": "{{ .Status }}", "runbook": "https://rb/{{ .GroupLabels.alertname }}"},
        note="n",
        priority="P1",
        entity="{{ .CommonLabels.alertname }}",
        description="",
    )
    assert (await n.notify(high_cpu_message(), idempotency_key="k")).ok
    created = body(receiver)
    assert list(created) == [
        "alias",
        "message",
        "details",
        "source",
        "responders",
        "tags",
        "note",
        "priority",
        "entity",
        "actions",
    ]
    # "teams" becomes one team per name (kept as written between commas, empty ones dropped).
    assert created["responders"] == [
        {"name": "ops", "type": "team"},
        {"name": " db", "type": "team"},
        # As written: Alertmanager sends the type it was given.
        {"id": "4513b7ea", "type": "Schedule"},
    ]
    assert created["tags"] == ["prod", "HighCPU"]
    assert created["actions"] == ["restart", "page"]
    assert created["details"] == {
        "alertname": "HighCPU",
        "runbook": "https://rb/HighCPU",
        "severity": "firing",
    }
    assert (created["note"], created["priority"], created["entity"]) == ("n", "P1", "HighCPU")


async def test_update_alerts_sets_the_message_and_description_after_creating(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    result = await notifier(client, receiver, update_alerts=True).notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert result.ok
    assert [(r.method, r.path) for r in receiver.requests] == [
        ("POST", "/og/v2/alerts"),
        ("PUT", f"/og/v2/alerts/{ALIAS}/message?identifierType=alias"),
        ("PUT", f"/og/v2/alerts/{ALIAS}/description?identifierType=alias"),
    ]
    created = body(receiver)
    assert body(receiver, 1) == {"message": created["message"]}
    assert body(receiver, 2) == {"description": created["description"]}
    assert all(r.headers["authorization"] == f"GenieKey {KEY}" for r in receiver.requests)


async def test_a_resolved_group_closes_its_alert(receiver: Receiver, client: httpx.AsyncClient) -> None:
    message = build_message(
        receiver="ops",
        group_key='{}:{alertname="HighCPU"}',
        group_labels={"alertname": "HighCPU"},
        firing=[],
        resolved=[resolved("HighCPU", "a")],
        external_url="http://alerting.example",
    )
    result = await notifier(client, receiver, update_alerts=True).notify(message, idempotency_key="k")
    assert result.ok
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", f"/og/v2/alerts/{ALIAS}/close?identifierType=alias")
    assert request.body == b'{"source":"http://alerting.example/#/alerts?receiver=ops"}\n'


async def test_the_api_url_gets_its_trailing_slash_and_keeps_its_query(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    config = OpsGenieConfig.parse({"api_key": KEY, "api_url": receiver.url("/eu?region=x")})
    message = build_message(
        receiver="ops",
        group_key='{}:{alertname="HighCPU"}',
        group_labels={"alertname": "HighCPU"},
        firing=[],
        resolved=[resolved("HighCPU", "a")],
    )
    assert (await OpsGenieNotifier(client, config).notify(message, idempotency_key="k")).ok
    assert receiver.requests[0].path == f"/eu/v2/alerts/{ALIAS}/close?identifierType=alias&region=x"


async def test_the_message_is_cut_to_130_runes(receiver: Receiver, client: httpx.AsyncClient) -> None:
    n = notifier(client, receiver, message="é" * 200)
    assert (await n.notify(high_cpu_message(), idempotency_key="k")).ok
    assert body(receiver)["message"] == "é" * 129 + "…"


async def test_429_and_5xx_are_retried_other_failures_are_not(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    n = notifier(client, receiver, update_alerts=True)
    receiver.answer(
        Reply(429, b'{"message":"rate limited"}', {"Retry-After": "3"}),
        Reply(503, b"down"),
        Reply(202),
        Reply(408, b"slow"),
        Reply(422, f"bad key {KEY}".encode()),
    )
    limited = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (limited.ok, limited.retryable, limited.status_code, limited.retry_after_ms) == (
        False,
        True,
        429,
        3000,
    )
    down = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (down.retryable, down.status_code) == (True, 503)
    # The create went through, the first update did not: Alertmanager does not retry a 408.
    timed_out = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (timed_out.retryable, timed_out.status_code) == (False, 408)
    assert [r.method for r in receiver.requests] == ["POST", "POST", "POST", "PUT"]
    refused = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (refused.retryable, refused.status_code) == (False, 422)
    assert KEY not in refused.reason
    assert "<secret>" in refused.reason


async def test_a_failing_template_sends_nothing_and_is_not_retried(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    result = await notifier(client, receiver, note="{{ .Nope.Nope }}").notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert (result.ok, result.retryable) == (False, False)
    assert "template note" in result.reason
    assert receiver.requests == []


async def test_a_channel_made_through_the_factory_sends_with_the_default_url_replaced(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    channel = Channel(
        name="og",
        type=ChannelType.OPSGENIE,
        config={"api_key": KEY, "api_url": receiver.url("/api"), "style": "alertmanager"},
    )
    message = build_message(
        receiver="ops", group_key="g", group_labels={"alertname": "A"}, firing=[firing("A", "x")], resolved=[]
    )
    assert (await notifier_for(channel, client).notify(message, idempotency_key="k")).ok
    assert receiver.requests[0].path == "/api/v2/alerts"


async def test_our_acknowledgement_reaches_the_alert_by_its_alias(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    result = await notifier(client, receiver).acknowledge('{}:{alertname="HighCPU"}')
    assert result.ok, result.reason
    [request] = receiver.requests
    assert (request.method, request.path) == (
        "POST",
        f"/og/v2/alerts/{ALIAS}/acknowledge?identifierType=alias",
    )
    assert request.headers["authorization"] == f"GenieKey {KEY}"
    assert body(receiver) == {"source": "alerting", "note": "Acknowledged"}
    # A key rendered from a group's data cannot be: nothing is sent.
    templated = await notifier(client, receiver, api_key="{{ .CommonLabels.team }}").acknowledge("g")
    assert (templated.ok, templated.retryable) == (False, False)
    assert len(receiver.requests) == 1
