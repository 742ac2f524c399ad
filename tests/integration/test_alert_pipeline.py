"""The alert pipeline over the wire: posting, grouping into the outbox, inhibition, WatchAlerts, SSE."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncGenerator

import httpx
import pytest

from alerting.client import AsyncAlertingClient, FailedPreconditionError
from alerting.v1 import alert_service_pb2 as alert_pb
from tests.integration.peers import wait_for
from tests.integration.server import ServerProcess

HOOK = {"name": "hook", "type": "webhook", "config": {"url": "http://127.0.0.1:9/hook"}}


def post(http: httpx.Client, *labels: dict[str, str]) -> None:
    r = http.post("/api/v2/alerts", json=[{"labels": lab, "annotations": {"summary": "s"}} for lab in labels])
    assert r.status_code == 200, r.text


def test_posted_alerts_reach_the_outbox_as_one_group(http: httpx.Client) -> None:
    channel = http.post("/channels", json=HOOK).json()
    routing = {"receiver": "hook", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "1m"}
    assert http.put("/routing", json=routing).status_code == 200
    post(http, {"alertname": "HighCPU", "host": "a"}, {"alertname": "HighCPU", "host": "b"})
    wait_for(lambda: bool(http.get("/deliveries").json()["deliveries"]), 20, "the group to be queued")
    [delivery] = http.get("/deliveries").json()["deliveries"]
    assert delivery["channel_id"] == channel["id"]
    assert delivery["status"] in ("pending", "retrying", "failed", "delivered")
    assert len(delivery["fingerprints"]) == 2
    assert delivery["group_key"] == '{}:{alertname="HighCPU"}'
    [group] = http.get("/alert-groups").json()["groups"]
    assert group["labels"] == {"alertname": "HighCPU"}
    assert group["receiver"] == "hook"
    assert sorted(a["labels"]["host"] for a in group["alerts"]) == ["a", "b"]
    [alert] = http.get("/alerts", params={"filter": '{host="a"}'}).json()["alerts"]
    assert alert["receivers"] == ["hook"]
    # The delivery itself may have been attempted meanwhile (the receiver is not listening).
    by_alert = http.get("/deliveries", params={"fingerprint": alert["fingerprint"]}).json()["deliveries"]
    assert [d["id"] for d in by_alert] == [delivery["id"]]


def test_inhibited_alerts_say_by_what(http: httpx.Client) -> None:
    rule = {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["host"],
    }
    assert http.post("/inhibit-rules", json=rule).status_code == 201
    post(
        http,
        {"alertname": "Down", "host": "a", "severity": "critical"},
        {"alertname": "Slow", "host": "a", "severity": "warning"},
    )
    post(http, {"alertname": "Slow", "host": "b", "severity": "warning"})
    critical = http.get("/alerts", params={"filter": '{alertname="Down"}'}).json()["alerts"][0]

    def inhibited() -> list[str]:
        found = http.get("/alerts", params={"filter": '{alertname="Slow",host="a"}'}).json()["alerts"]
        return list(found[0]["inhibited_by"])

    wait_for(lambda: inhibited() == [critical["fingerprint"]], 15, "the inhibition to apply")
    other = http.get("/alerts", params={"filter": '{host="b"}'}).json()["alerts"][0]
    assert other["inhibited_by"] == []
    am = http.get("/api/v2/alerts", params={"inhibited": "false"}).json()
    assert sorted(a["labels"]["alertname"] + a["labels"]["host"] for a in am) == ["Downa", "Slowb"]


def test_bad_posted_alerts_are_400_and_store_nothing(http: httpx.Client) -> None:
    r = http.post("/api/v2/alerts", json=[{"labels": {"ok": "x"}}, {"labels": {"0bad": "x"}}])
    assert r.status_code == 400
    assert http.get("/alerts").json()["alerts"] == []


async def test_watch_snapshot_live_resume_and_many_subscribers(
    server: ServerProcess, http: httpx.Client
) -> None:
    post(http, {"alertname": "First"})
    async with AsyncAlertingClient(server.grpc_target) as client:
        stream = client.watch_alerts()
        first = await anext(stream)
        assert first.type == alert_pb.ALERT_EVENT_TYPE_SNAPSHOT
        assert first.alert.labels["alertname"] == "First"
        others = [client.watch_alerts(filter='{alertname="Second"}') for _ in range(20)]

        async def second(s: AsyncGenerator[alert_pb.WatchAlertsResponse]) -> alert_pb.WatchAlertsResponse:
            async for event in s:
                if event.alert.labels.get("alertname") == "Second":
                    return event
            raise AssertionError("stream ended")

        waiting = [asyncio.create_task(second(s)) for s in others]
        await asyncio.sleep(0.5)
        await asyncio.to_thread(post, http, {"alertname": "Second"})
        live = await asyncio.wait_for(anext(stream), 10)
        assert live.type == alert_pb.ALERT_EVENT_TYPE_CREATED
        assert live.revision > first.revision
        got = await asyncio.wait_for(asyncio.gather(*waiting), 10)
        assert {e.revision for e in got} == {live.revision}
        await stream.aclose()
        for s in others:
            await s.aclose()

        # A reconnecting watcher resumes after the last revision it saw, missing nothing.
        await asyncio.to_thread(post, http, {"alertname": "Third"})
        resumed = client.watch_alerts(since_revision=live.revision)
        missed = await asyncio.wait_for(anext(resumed), 10)
        assert missed.alert.labels["alertname"] == "Third"
        await resumed.aclose()
        with pytest.raises(FailedPreconditionError):
            await anext(client.watch_alerts(since_revision=10**9))


def test_watch_over_server_sent_events(server: ServerProcess, http: httpx.Client) -> None:
    post(http, {"alertname": "Sse"})
    events: list[dict[str, str]] = []
    with httpx.Client(base_url=server.base_url, timeout=10) as sse, sse.stream("GET", "/alerts/watch") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        current: dict[str, str] = {}
        deadline = time.monotonic() + 10
        for line in r.iter_lines():
            if line.startswith(":"):
                continue
            if not line:
                if current:
                    events.append(current)
                    current = {}
                if events:
                    break
                continue
            key, _, value = line.partition(": ")
            current[key] = value
            assert time.monotonic() < deadline
    [event] = events
    assert event["event"] == "snapshot"
    assert json.loads(event["data"])["alert"]["labels"] == {"alertname": "Sse"}
    assert int(event["id"]) >= 1


def test_routes_test_over_rest_and_alertctl(server: ServerProcess, http: httpx.Client) -> None:
    http.post("/channels", json=HOOK)
    http.post("/channels", json={**HOOK, "name": "pager"})
    tree = {
        "receiver": "hook",
        "routes": [
            {"matchers": ['severity="critical"'], "receiver": "pager", "continue": True},
            {"matchers": ['team="db"'], "receiver": "hook", "group_by": ["..."]},
        ],
    }
    assert http.put("/routing", json=tree).status_code == 200
    r = http.post("/routing:test", json={"labels": {"severity": "critical", "team": "db"}})
    assert r.status_code == 200, r.text
    assert [(m["receiver"], m["route_key"]) for m in r.json()["matches"]] == [
        ("pager", '{}/{severity="critical"}'),
        ("hook", '{}/{team="db"}'),
    ]
    assert r.json()["matches"][1]["group_by"] == ["..."]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "alerting.cli",
            "--server",
            server.grpc_target,
            "routes",
            "test",
            "severity=warning",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (out.returncode, out.stdout.strip()) == (0, "hook"), out.stderr
