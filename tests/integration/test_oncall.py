"""Escalation through on-call schedules over the wire: the real server, real HTTP receivers and a real
SMTP server, real time (levels and a handoff seconds apart)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.server import ServerProcess
from tests.integration.test_delivery import eventually
from tests.notify.receiver import Receiver
from tests.notify.smtp import Handler, smtp_server

ALERT = {"alertname": "DiskFull", "host": "db1"}
HOUR_MS = 3_600_000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    config = tmp_path / "config.yaml"
    config.write_text("ack_link_secret: integration-test-secret\nack_link_ttl: 1h\n")
    proc = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--config", str(config)]
    )
    proc.start()
    yield proc
    proc.kill()


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, int]]:
    handler = Handler()
    with smtp_server(handler) as port:
        yield handler, port


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post(path, json=body)
    assert r.status_code == 201, r.text
    found: dict[str, Any] = r.json()
    return found


async def hook_user(api: httpx.AsyncClient, name: str, receiver: Receiver) -> None:
    methods = [{"type": "webhook", "address": receiver.url(f"/{name}")}]
    body = {"name": name, "email": f"{name}@example.org", "time_zone": "UTC", "contact_methods": methods}
    await created(api, "/users", body)


async def mail_user(api: httpx.AsyncClient, name: str, port: int) -> None:
    smtp = {"from": "alerts@example.org", "smarthost": f"127.0.0.1:{port}"}
    methods = [{"type": "email", "address": f"{name}@example.org", "config": smtp}]
    body = {"name": name, "email": f"{name}@example.org", "time_zone": "UTC", "contact_methods": methods}
    await created(api, "/users", body)


async def escalate(
    api: httpx.AsyncClient, receiver: Receiver, rotation: list[str], handoff_in_ms: int, levels: list[Any]
) -> str:
    """Schedule "primary" turns hourly, the first user's turn ending `handoff_in_ms` from now; a policy
    of `levels` on the root route (whose own notification waits an hour); then the alert fires."""
    layer = {
        "name": "hourly",
        "start": now_ms() + handoff_in_ms - HOUR_MS,
        "rotation_turn_length": "1h",
        "users": rotation,
    }
    await created(api, "/schedules", {"name": "primary", "time_zone": "UTC", "layers": [layer]})
    await created(
        api, "/channels", {"name": "group", "type": "webhook", "config": {"url": receiver.url("/group")}}
    )
    policy = await created(api, "/escalation-policies", {"name": "oncall", "levels": levels})
    r = await api.put(
        "/routing", json={"receiver": "group", "group_wait": "1h", "escalation_policy_id": policy["id"]}
    )
    assert r.status_code == 200, r.text
    r = await api.post("/api/v2/alerts", json=[{"labels": ALERT, "annotations": {}}])
    assert r.status_code == 200, r.text
    [alert] = (await api.get("/alerts")).json()["alerts"]
    fingerprint: str = alert["fingerprint"]
    return fingerprint


def paths(receiver: Receiver) -> list[str]:
    return [r.path for r in receiver.requests]


def ack_link(handler: Handler, to: str) -> str:
    [mail] = [m for m in handler.received if m.recipients == [to]]
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"Acknowledge: (\S+)", body.get_content())
    assert match is not None
    return match.group(1)


async def test_each_level_pages_whoever_is_on_call_then_and_a_handoff_pages_the_new_person(
    server: ServerProcess, api: httpx.AsyncClient, receiver: Receiver, smtp: tuple[Handler, int]
) -> None:
    handler, port = smtp
    await hook_user(api, "ana", receiver)
    await mail_user(api, "bo", port)
    await hook_user(api, "lead", receiver)
    levels = [
        {"after": "0s", "schedules": ["primary"]},
        {"after": "6s", "schedules": ["primary"]},
        {"after": "8s", "users": ["lead"]},
    ]
    # ana is on call when the alert fires; bo from 3s later, before level 1.
    fp = await escalate(api, receiver, ["ana", "bo"], 3000, levels)

    async def ana_paged() -> bool:
        return paths(receiver) == ["/ana"]

    await eventually(ana_paged, 5, "level 0 to page ana")

    async def bo_mailed() -> bool:
        return [m.recipients for m in handler.received] == [["bo@example.org"]]

    await eventually(bo_mailed, 12, "level 1 to mail bo, on call since the handoff")
    assert paths(receiver) == ["/ana"]
    assert "/ack/" in ack_link(handler, "bo@example.org")

    async def lead_paged() -> bool:
        return paths(receiver) == ["/ana", "/lead"]

    await eventually(lead_paged, 8, "level 2 to page the lead")
    body = receiver.requests[1].json()
    assert isinstance(body, dict)
    assert [a["labels"] for a in body["alerts"]] == [ALERT]
    events = (await api.get(f"/alerts/{fp}/history")).json()["events"]
    steps = [(e["level"] or 0, e["message"]) for e in events if e["type"] == "escalation"]
    assert steps == [
        (0, "level 0 of escalation policy 'oncall'; on call in schedule 'primary': ana"),
        (1, "level 1 of escalation policy 'oncall'; on call in schedule 'primary': bo"),
        (2, "level 2 of escalation policy 'oncall'"),
    ]


async def test_an_ack_through_the_on_call_persons_link_records_them_and_stops_the_climb(
    server: ServerProcess, api: httpx.AsyncClient, receiver: Receiver, smtp: tuple[Handler, int]
) -> None:
    handler, port = smtp
    await mail_user(api, "bo", port)
    await hook_user(api, "lead", receiver)
    levels = [{"after": "0s", "schedules": ["primary"]}, {"after": "4s", "users": ["lead"]}]
    fp = await escalate(api, receiver, ["bo"], HOUR_MS // 2, levels)

    async def bo_mailed() -> bool:
        return len(handler.received) == 1

    await eventually(bo_mailed, 5, "level 0 to mail bo")
    token = ack_link(handler, "bo@example.org").rsplit("/", 1)[1]
    assert (await api.get(f"/ack/{token}")).json()["person"] == "bo"
    page = await api.get(f"/ack/{token}", headers={"accept": "text/html"})
    assert "You acknowledge as <strong>bo</strong>" in page.text
    assert 'name="by"' not in page.text
    r = await api.post(f"/ack/{token}", json={"by": "someone else", "comment": "on it"})
    assert r.status_code == 200, r.text
    assert (r.json()["ack"]["by"], r.json()["ack"]["comment"]) == ("bo", "on it")
    await asyncio.sleep(5)
    assert paths(receiver) == []
    alert = (await api.get(f"/alerts/{fp}")).json()
    assert (alert["acknowledged"], alert["escalation_level"]) == (True, 0)


async def test_a_gap_falls_through_to_the_next_level(
    server: ServerProcess, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await hook_user(api, "ana", receiver)
    await hook_user(api, "lead", receiver)
    levels = [{"after": "0s", "schedules": ["primary"]}, {"after": "1h", "users": ["lead"]}]
    # The layer starts in an hour and a half: nobody is on call now.
    fp = await escalate(api, receiver, ["ana"], HOUR_MS // 2 + 2 * HOUR_MS, levels)

    async def lead_paged() -> bool:
        return paths(receiver) == ["/lead"]

    await eventually(lead_paged, 5, "the gap to fall through to the lead")
    events = (await api.get(f"/alerts/{fp}/history")).json()["events"]
    messages = [e["message"] for e in events if e["type"] == "escalation"]
    assert messages[0] == (
        "level 0 of escalation policy 'oncall'; nobody is on call in schedule 'primary'; "
        "nobody was paged: falls through to level 1"
    )
    out = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "alerting.cli",
            "--server",
            server.grpc_target,
            "oncall",
            "primary",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    now, following = json.loads(out.stdout)
    assert (now["when"], now["users"]) == ("now", [])
    assert (following["when"], following["users"]) == ("next", ["ana"])
    assert now["until"] == following["from"] > now_ms()
