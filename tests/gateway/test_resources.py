from __future__ import annotations

import httpx

from alerting.v1 import channel_service_pb2, metrics_service_pb2, routing_service_pb2, silence_service_pb2

from .fakes import NOW_MS, FakeServer


async def test_channel_struct_config_round_trips(client: httpx.AsyncClient, server: FakeServer) -> None:
    config = {
        "routing_key": "k",
        "url": "https://events.example",
        "retries": 3,
        "weights": [1, 2.5],
        "tls": None,
    }

    response = await client.post("/channels", json={"name": "pager", "type": "pagerduty", "config": config})

    assert response.status_code == 201
    assert response.json() == {
        "id": "c1",
        "name": "pager",
        "type": "pagerduty",
        "config": config,
        "created_at": NOW_MS,
        "updated_at": None,
        "source": "",
        "receiver": "",
    }
    sent = server.last("CreateChannel")
    assert isinstance(sent, channel_service_pb2.CreateChannelRequest)
    assert sent.channel.type == channel_service_pb2.CHANNEL_TYPE_PAGERDUTY
    assert sent.channel.config["routing_key"] == "k"


async def test_test_channel_returns_the_delivery(client: httpx.AsyncClient) -> None:
    response = await client.post("/channels/c1/test")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["channel_id"], body["status"]) == ("d1", "c1", "delivered")
    assert body["delivered_at"] == NOW_MS
    assert body["next_attempt_at"] is None


async def test_routing_tree_with_continue_round_trips(client: httpx.AsyncClient, server: FakeServer) -> None:
    tree = {
        "receiver": "ops",
        "group_by": ["alertname"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
        "routes": [{"matchers": ['severity="critical"'], "receiver": "pager", "continue": True}],
    }

    put = await client.put("/routing", json=tree)
    got = await client.get("/routing")

    assert put.status_code == 200
    child = got.json()["routes"][0]
    assert child["continue"] is True
    assert child["group_wait"] is None
    assert child["routes"] == []
    assert got.json()["repeat_interval"] == "4h"
    sent = server.last("UpdateRouting")
    assert isinstance(sent, routing_service_pb2.UpdateRoutingRequest)
    assert getattr(sent.route.routes[0], "continue") is True
    assert sent.route.repeat_interval.ToMilliseconds() == 4 * 3600 * 1000


async def test_silence_timestamps_are_epoch_milliseconds(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    body = {
        "matchers": ['host="server01"'],
        "starts_at": NOW_MS,
        "ends_at": "2023-10-08T19:20:34.567Z",
        "created_by": "alice",
        "comment": "maintenance",
    }

    response = await client.post("/silences", json=body)

    assert response.status_code == 201
    assert response.json()["starts_at"] == NOW_MS
    assert response.json()["ends_at"] == NOW_MS + 3600_000
    assert response.json()["state"] == "active"
    sent = server.last("CreateSilence")
    assert isinstance(sent, silence_service_pb2.CreateSilenceRequest)
    assert sent.silence.starts_at.ToMilliseconds() == NOW_MS


async def test_expire_silence_is_204(client: httpx.AsyncClient) -> None:
    response = await client.delete("/silences/s1")

    assert response.status_code == 204
    assert response.content == b""


async def test_write_samples_returns_the_response_object(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    samples = [{"name": "cpu_usage", "labels": {"host": "a"}, "value": 85.5, "timestamp": NOW_MS}]

    response = await client.post("/samples", json={"samples": samples})

    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "rejected": 0, "errors": []}
    sent = server.last("Write")
    assert isinstance(sent, metrics_service_pb2.WriteRequest)
    assert sent.samples[0].timestamp.ToMilliseconds() == NOW_MS
