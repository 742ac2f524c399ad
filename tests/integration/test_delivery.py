"""The delivery pipeline over the wire: the real server delivers posted alerts to real local receivers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from tests.notify.receiver import Receiver, Reply

ROUTING = {"receiver": "hook", "group_by": ["alertname"], "group_wait": "0s", "group_interval": "1m"}


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


async def hook_channel(api: httpx.AsyncClient, url: str) -> dict[str, Any]:
    r = await api.post("/channels", json={"name": "hook", "type": "webhook", "config": {"url": url}})
    assert r.status_code == 201, r.text
    assert (await api.put("/routing", json=ROUTING)).status_code == 200
    channel: dict[str, Any] = r.json()
    return channel


async def post_alerts(api: httpx.AsyncClient, *labels: dict[str, str]) -> None:
    body = [{"labels": lab, "annotations": {"summary": "s"}} for lab in labels]
    r = await api.post("/api/v2/alerts", json=body)
    assert r.status_code == 200, r.text


async def deliveries(api: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await api.get("/deliveries", params=params)).json()["deliveries"]
    return found


async def test_posted_alerts_reach_the_webhook_as_alertmanager_json(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await hook_channel(api, receiver.url("/hook"))
    await post_alerts(api, {"alertname": "HighCPU", "host": "a"}, {"alertname": "HighCPU", "host": "b"})

    async def received() -> bool:
        return bool(receiver.requests)

    await eventually(received, 15, "the webhook to be called")
    [request] = receiver.requests
    body = request.json()
    assert isinstance(body, dict)
    assert body["version"] == "4"
    assert body["receiver"] == "hook"
    assert body["status"] == "firing"
    assert body["groupLabels"] == {"alertname": "HighCPU"}
    assert sorted(a["labels"]["host"] for a in body["alerts"]) == ["a", "b"]
    assert body["externalURL"].startswith("http://")

    async def delivered() -> bool:
        return [d["status"] for d in await deliveries(api)] == ["delivered"]

    await eventually(delivered, 10, "the delivery to be marked delivered")
    [delivery] = await deliveries(api)
    assert request.headers["idempotency-key"] == delivery["idempotency_key"]
    assert delivery["attempts"] == 1


async def test_a_receiver_down_then_up_gets_it_after_retries(api: httpx.AsyncClient, tmp_path: Path) -> None:
    receiver = await Receiver().start()
    port = receiver.port
    await receiver.close()  # Down: connections are refused.
    await hook_channel(api, f"http://127.0.0.1:{port}/hook")
    await post_alerts(api, {"alertname": "Down"})

    async def retrying() -> bool:
        found = await deliveries(api)
        return bool(found) and found[0]["status"] == "retrying"

    await eventually(retrying, 15, "a failed attempt")
    [failing] = await deliveries(api)
    assert "connection failed" in failing["last_error"]
    up = await Receiver().start(port)
    try:

        async def delivered() -> bool:
            return [d["status"] for d in await deliveries(api)] == ["delivered"]

        await eventually(delivered, 15, "the delivery after the receiver came back")
        assert len(up.requests) == 1
        assert up.requests[0].headers["idempotency-key"] == failing["idempotency_key"]
    finally:
        await up.close()


async def test_5xx_then_200_is_delivered_with_one_key(api: httpx.AsyncClient, receiver: Receiver) -> None:
    receiver.answer(Reply(500, b"oops"), Reply(503, b"busy", {"Retry-After": "1"}))
    await hook_channel(api, receiver.url("/hook"))
    await post_alerts(api, {"alertname": "Flaky"})

    async def delivered() -> bool:
        return [d["status"] for d in await deliveries(api)] == ["delivered"]

    await eventually(delivered, 15, "the delivery after two 5xx")
    [delivery] = await deliveries(api)
    assert delivery["attempts"] == 3
    assert {r.headers["idempotency-key"] for r in receiver.requests} == {delivery["idempotency_key"]}


async def test_a_400_fails_at_once_with_the_receivers_reason(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.default = Reply(400, b"unknown field 'alerts'")
    await hook_channel(api, receiver.url("/hook"))
    await post_alerts(api, {"alertname": "Rejected"})

    async def failed() -> bool:
        return [d["status"] for d in await deliveries(api, status="failed")] != []

    await eventually(failed, 15, "the delivery to fail")
    [delivery] = await deliveries(api)
    assert delivery["attempts"] == 1
    assert delivery["last_error"] == "HTTP 400: unknown field 'alerts'"
    assert len(receiver.requests) == 1


async def test_test_channel_sends_now_and_returns_the_delivery(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    channel = await hook_channel(api, receiver.url("/hook"))
    r = await api.post(f"/channels/{channel['id']}/test", json={})
    assert r.status_code == 200, r.text
    delivery = r.json()  # The REST gateway answers the resource unwrapped.
    assert delivery["status"] == "delivered"
    assert delivery["channel_id"] == channel["id"]
    [request] = receiver.requests
    body = request.json()
    assert isinstance(body, dict)
    assert body["alerts"][0]["labels"]["alertname"] == "TestNotification"
    receiver.default = Reply(404, b"no such hook")
    failed = (await api.post(f"/channels/{channel['id']}/test", json={})).json()
    assert (failed["status"], failed["last_error"]) == ("failed", "HTTP 404: no such hook")
    assert (await api.post("/channels/nope/test", json={})).status_code == 404
    # The latest first, over REST as over gRPC.
    newest = await deliveries(api, channel_id=channel["id"], newest_first="true")
    assert [d["id"] for d in newest] == [failed["id"], delivery["id"]]
    assert [d["id"] for d in await deliveries(api, channel_id=channel["id"])] == [
        delivery["id"],
        failed["id"],
    ]
