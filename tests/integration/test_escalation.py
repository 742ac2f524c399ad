"""Escalation and acknowledgement over the wire: the real server, real webhook receivers, real time
(levels seconds apart), and SIGKILL between levels."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from alerting.client import AlertingClient, NotFoundError
from tests.integration.server import ServerProcess
from tests.integration.test_delivery import deliveries, eventually
from tests.notify.receiver import Receiver

ALERT = {"alertname": "DiskFull", "host": "db1"}


async def setup(api: httpx.AsyncClient, receiver: Receiver, afters: tuple[str, str, str]) -> str:
    """Channels l0, l1, l2 (one receiver path each) as the levels of a policy on the root route, whose
    own group notification waits an hour: what the receiver sees comes from the escalation."""
    for name in ("group", "l0", "l1", "l2"):
        r = await api.post(
            "/channels", json={"name": name, "type": "webhook", "config": {"url": receiver.url(f"/{name}")}}
        )
        assert r.status_code == 201, r.text
    levels = [{"after": after, "channels": [f"l{i}"]} for i, after in enumerate(afters)]
    r = await api.post("/escalation-policies", json={"name": "db", "levels": levels})
    assert r.status_code == 201, r.text
    routing = {"receiver": "group", "group_wait": "1h", "escalation_policy_id": r.json()["id"]}
    r = await api.put("/routing", json=routing)
    assert r.status_code == 200, r.text
    r = await api.post("/api/v2/alerts", json=[{"labels": ALERT, "annotations": {}}])
    assert r.status_code == 200, r.text
    [alert] = (await api.get("/alerts")).json()["alerts"]
    fingerprint: str = alert["fingerprint"]
    return fingerprint


def paths(receiver: Receiver) -> list[str]:
    return [r.path for r in receiver.requests]


async def alert(api: httpx.AsyncClient, fp: str) -> dict[str, Any]:
    r = await api.get(f"/alerts/{fp}")
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


async def test_an_unacknowledged_alert_reaches_level_2(
    server: ServerProcess, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    fp = await setup(api, receiver, ("0s", "1s", "2s"))

    async def all_levels() -> bool:
        return len(receiver.requests) >= 3

    await eventually(all_levels, 15, "three escalation levels")
    assert paths(receiver) == ["/l0", "/l1", "/l2"]
    body = receiver.requests[2].json()
    assert isinstance(body, dict)
    assert [a["labels"] for a in body["alerts"]] == [ALERT]
    assert (await alert(api, fp))["escalation_level"] == 2
    events = (await api.get(f"/alerts/{fp}/history")).json()["events"]
    steps = [e for e in events if e["type"] == "escalation"]
    assert [e.get("level", 0) for e in steps] == [0, 1, 2]

    async def notifications_delivered() -> bool:
        events = (await api.get(f"/alerts/{fp}/history")).json()["events"]
        notes = [e for e in events if e["type"] == "notification"]
        return len(notes) == 3 and all(e["outcome"] == "delivered" and e["attempts"] == 1 for e in notes)

    await eventually(notifications_delivered, 10, "the history to show the deliveries' outcomes")


async def test_an_acknowledgement_at_level_1_stops_the_climb(
    server: ServerProcess, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    fp = await setup(api, receiver, ("0s", "1s", "4s"))

    async def level_1() -> bool:
        return "/l1" in paths(receiver)

    await eventually(level_1, 10, "level 1")
    r = await api.post(f"/alerts/{fp}/ack", json={"by": "alice", "comment": "on it"})
    assert r.status_code == 200, r.text
    acked = r.json()
    assert acked["acknowledged"] is True
    assert acked["ack"]["by"] == "alice"
    assert acked["ack"]["comment"] == "on it"
    await asyncio.sleep(4.5)
    assert paths(receiver) == ["/l0", "/l1"]
    listed = (await api.get("/alerts", params={"acknowledged": "true"})).json()["alerts"]
    assert [a["fingerprint"] for a in listed] == [fp]
    types = [e["type"] for e in (await api.get(f"/alerts/{fp}/history")).json()["events"]]
    assert "acknowledged" in types


async def test_acknowledgement_errors(
    server: ServerProcess, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    fp = await setup(api, receiver, ("0s", "1m", "2m"))
    r = await api.post("/alerts/0123456789abcdef/ack", json={"by": "alice"})
    assert r.status_code == 404, r.text
    r = await api.post(f"/alerts/{fp}/ack", json={"comment": "who?"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == "by"
    out = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "alerting.cli",
            "--server",
            server.grpc_target,
            "alerts",
            "ack",
            fp,
            "--by",
            "carol",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert "carol" in out.stdout
    assert (await alert(api, fp))["ack"]["by"] == "carol"
    r = await api.post(f"/alerts/{fp}/unack", json={})
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged"] is False
    ended = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    resolved = [{"labels": ALERT, "annotations": {}, "endsAt": ended}]
    assert (await api.post("/api/v2/alerts", json=resolved)).status_code == 200
    r = await api.post(f"/alerts/{fp}/ack", json={"by": "alice"})
    assert r.status_code == 412, r.text


async def test_sigkill_between_levels_neither_skips_nor_repeats_a_level(
    server: ServerProcess, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        await setup(api, receiver, ("0s", "3s", "6s"))

        async def level_0_delivered() -> bool:
            found = await deliveries(api)
            return [d["status"] for d in found] == ["delivered"]

        await eventually(level_0_delivered, 10, "level 0 to be delivered")
    server.kill()
    await asyncio.sleep(3.5)  # level 1 falls due while the server is down
    server.start()

    async def all_levels() -> bool:
        return len(receiver.requests) >= 3

    await eventually(all_levels, 15, "levels 1 and 2 after the restart")
    await asyncio.sleep(1)
    assert Counter(paths(receiver)) == {"/l0": 1, "/l1": 1, "/l2": 1}


async def test_an_acknowledgement_timeout_restarts_the_escalation_from_level_0(
    server: ServerProcess, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    for name in ("group", "l0", "l1"):
        r = await api.post(
            "/channels", json={"name": name, "type": "webhook", "config": {"url": receiver.url(f"/{name}")}}
        )
        assert r.status_code == 201, r.text
    levels = [{"after": "0s", "channels": ["l0"]}, {"after": "1m", "channels": ["l1"]}]
    r = await api.post("/escalation-policies", json={"name": "db", "levels": levels, "ack_timeout": "2s"})
    assert r.status_code == 201, r.text
    routing = {"receiver": "group", "group_wait": "1h", "escalation_policy_id": r.json()["id"]}
    assert (await api.put("/routing", json=routing)).status_code == 200
    assert (await api.post("/api/v2/alerts", json=[{"labels": ALERT, "annotations": {}}])).status_code == 200
    [listed] = (await api.get("/alerts")).json()["alerts"]
    fp = listed["fingerprint"]

    async def level_0() -> bool:
        return paths(receiver) == ["/l0"]

    await eventually(level_0, 10, "level 0")
    assert (await api.post(f"/alerts/{fp}/ack", json={"by": "alice"})).status_code == 200

    async def again() -> bool:
        return paths(receiver) == ["/l0", "/l0"]

    await eventually(again, 10, "level 0 again after the acknowledgement timed out")
    assert (await alert(api, fp))["acknowledged"] is False
    events = (await api.get(f"/alerts/{fp}/history")).json()["events"]
    assert [e["type"] for e in events if e["type"] in ("acknowledged", "unacknowledged")] == [
        "acknowledged",
        "unacknowledged",
    ]


async def test_history_has_only_the_fields_of_each_event_and_an_unknown_alert_has_none(
    server: ServerProcess, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    fp = await setup(api, receiver, ("1h", "2h", "3h"))
    r = await api.post(f"/alerts/{fp}/ack", json={"by": "alice", "comment": "on it"})
    assert r.status_code == 200, r.text

    async def both_written() -> bool:
        events = (await api.get(f"/alerts/{fp}/history")).json()["events"]
        return {"state_change", "acknowledged"} <= {e["type"] for e in events}

    await eventually(both_written, 10, "the state change and the ack in the history")
    r = await api.get(f"/alerts/{fp}/history")
    assert r.status_code == 200, r.text
    events = {e["type"]: e for e in r.json()["events"]}
    fired, acked = events["state_change"], events["acknowledged"]
    assert fired["state"] == "firing"
    assert acked["by"] == "alice"
    assert acked["comment"] == "on it"
    for field in ("channel", "outcome", "attempts", "level", "by", "comment", "message"):
        assert fired[field] is None, field
    for field in ("state", "value", "channel", "outcome", "attempts", "level", "message"):
        assert acked[field] is None, field

    unknown = "0123456789abcdef"
    r = await api.get(f"/alerts/{unknown}/history")
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "NOT_FOUND"
    with AlertingClient.connect(server.grpc_target) as client:
        with pytest.raises(NotFoundError):
            client.list_alert_history(unknown)
        [event, *_] = client.list_alert_history(fp).events
        assert event.HasField("state")
        assert not event.HasField("level")
