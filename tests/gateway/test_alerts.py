from __future__ import annotations

import httpx
import pytest

from alerting.v1 import alert_service_pb2, channel_service_pb2

from .fakes import NOW_MS, FakeServer


async def test_query_parameters_fill_the_request(client: httpx.AsyncClient, server: FakeServer) -> None:
    params = {
        "state": "firing",
        "rule": "high_cpu_alert",
        "filter": '{host="server01"}',
        "acknowledged": "false",
        "page_size": "10",
        "page_token": "abc",
    }

    response = await client.get("/alerts", params=params)

    assert response.status_code == 200
    sent = server.last("ListAlerts")
    assert isinstance(sent, alert_service_pb2.ListAlertsRequest)
    assert sent.state == alert_service_pb2.ALERT_STATE_FIRING
    assert sent.rule == "high_cpu_alert"
    assert sent.filter == '{host="server01"}'
    assert sent.HasField("acknowledged")
    assert sent.acknowledged is False
    assert (sent.page_size, sent.page_token) == (10, "abc")


async def test_unset_optional_parameter_stays_unset(client: httpx.AsyncClient, server: FakeServer) -> None:
    await client.get("/alerts")

    sent = server.last("ListAlerts")
    assert isinstance(sent, alert_service_pb2.ListAlertsRequest)
    assert not sent.HasField("acknowledged")


async def test_alert_output_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/alerts")

    assert response.json() == {
        "alerts": [
            {
                "fingerprint": "5f3c1a",
                "rule": "high_cpu_alert",
                "state": "firing",
                "value": 85.5,
                "labels": {"alertname": "high_cpu_alert", "host": "server01", "severity": "warning"},
                "annotations": {"summary": "High CPU"},
                "started_at": NOW_MS,
                "fired_at": NOW_MS + 300_000,
                "resolved_at": None,
                "acknowledged": False,
                "ack": None,
                "silenced_by": [],
                "inhibited_by": [],
                "escalation_level": 0,
                "rule_id": "",
                "generator_url": "",
                "updated_at": None,
                "ends_at": None,
                "receivers": [],
                "muted_by": [],
            }
        ],
        "next_page_token": "next",
    }


@pytest.mark.parametrize(
    ("params", "field", "description"),
    [
        ({"page_size": "ten"}, "page_size", "expected an integer"),
        ({"page_size": "99999999999"}, "page_size", "expected an integer between"),
        ({"acknowledged": "maybe"}, "acknowledged", "expected a boolean"),
        ({"state": "burning"}, "state", "unknown value 'burning'"),
        ({"colour": "red"}, "colour", "unknown query parameter"),
        ({"rule": ["a", "b"]}, "rule", "expected a single value"),
    ],
)
async def test_bad_query_parameters_are_400_naming_them(
    client: httpx.AsyncClient, server: FakeServer, params: dict[str, str], field: str, description: str
) -> None:
    response = await client.get("/alerts", params=params)

    assert response.status_code == 400
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == field
    assert detail["description"].startswith(description)
    assert server.calls == []


async def test_enum_query_parameter_of_deliveries(client: httpx.AsyncClient, server: FakeServer) -> None:
    response = await client.get("/deliveries", params={"channel_id": "c1", "status": "failed"})

    assert response.json() == {"deliveries": [], "next_page_token": ""}
    sent = server.last("ListDeliveries")
    assert isinstance(sent, channel_service_pb2.ListDeliveriesRequest)
    assert (sent.channel_id, sent.status) == ("c1", channel_service_pb2.DELIVERY_STATUS_FAILED)


async def test_path_parameter_fills_the_request(client: httpx.AsyncClient) -> None:
    response = await client.get("/alerts/abc123")

    assert response.status_code == 200
    assert response.json()["fingerprint"] == "abc123"


async def test_acknowledge_returns_the_alert_with_its_ack(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    response = await client.post("/alerts/abc123/ack", json={"by": "alice", "comment": "looking"})

    assert response.status_code == 200
    body = response.json()
    assert body["acknowledged"] is True
    assert body["ack"] == {"by": "alice", "comment": "looking", "at": NOW_MS + 5000}
    assert body["fingerprint"] == "abc123"


async def test_path_wins_over_the_body(client: httpx.AsyncClient, server: FakeServer) -> None:
    await client.post("/alerts/abc123/ack", json={"fingerprint": "other", "by": "bob"})

    sent = server.last("Acknowledge")
    assert sent.fingerprint == "abc123"  # type: ignore[attr-defined]


async def test_empty_query_parameters_mean_unset(client: httpx.AsyncClient, server: FakeServer) -> None:
    response = await client.get("/alerts?state=&acknowledged=&page_size=")

    assert response.status_code == 200
    sent = server.last("ListAlerts")
    assert isinstance(sent, alert_service_pb2.ListAlertsRequest)
    assert sent.state == alert_service_pb2.ALERT_STATE_UNSPECIFIED
    assert not sent.HasField("acknowledged")
