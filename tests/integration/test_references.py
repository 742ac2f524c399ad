"""Channels and escalation policies in use, over REST against the real server: a delete is refused
naming every user, or cascades; what cannot deliver is reported and goes to the fallback receiver."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from alerting_server.store import Store
from tests.integration.server import ServerProcess
from tests.integration.test_delivery import eventually, post_alerts
from tests.notify.receiver import Receiver


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--fallback-receiver", "fallback"]
    )
    proc.start()
    yield proc
    proc.kill()


async def webhook(api: httpx.AsyncClient, name: str, url: str) -> dict[str, Any]:
    r = await api.post("/channels", json={"name": name, "type": "webhook", "config": {"url": url}})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_deleting_what_is_in_use_is_refused_naming_every_user_or_cascades(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await webhook(api, "fallback", receiver.url("/fallback"))
    slack = await webhook(api, "ops-slack", receiver.url("/slack"))
    r = await api.post(
        "/escalation-policies",
        json={
            "name": "infra",
            "levels": [
                {"after": "0s", "channels": ["ops-slack", "fallback"]},
                {"after": "10m", "channels": ["ops-slack"]},
            ],
        },
    )
    assert r.status_code == 201, r.text
    policy = r.json()
    tree = {
        "receiver": "fallback",
        "routes": [
            {"matchers": ['team="db"'], "receiver": "ops-slack", "escalation_policy_id": policy["id"]}
        ],
    }
    assert (await api.put("/routing", json=tree)).status_code == 200
    routing = (await api.get("/routing")).json()

    r = await api.delete(f"/channels/{slack['id']}")

    assert r.status_code == 412
    error = r.json()["error"]
    assert error["code"] == "FAILED_PRECONDITION"
    assert error["message"].startswith(
        "channel 'ops-slack' is in use: route {team=\"db\"} (routes[0]) sends to it;"
    )
    assert error["details"] == [
        {"field": "routing.routes[0].receiver", "description": 'route {team="db"} (routes[0]) sends to it'},
        {
            "field": f"escalation_policies/{policy['id']}.levels[0].channels",
            "description": "level 0 of escalation policy 'infra' notifies it",
        },
        {
            "field": f"escalation_policies/{policy['id']}.levels[1].channels",
            "description": "level 1 of escalation policy 'infra' notifies it",
        },
    ]
    r = await api.delete(f"/escalation-policies/{policy['id']}")
    assert r.status_code == 412
    assert [d["field"] for d in r.json()["error"]["details"]] == ["routing.routes[0].escalation_policy_id"]
    # Nothing changed.
    assert (await api.get(f"/channels/{slack['id']}")).json() == slack
    assert (await api.get(f"/escalation-policies/{policy['id']}")).json() == policy
    assert (await api.get("/routing")).json() == routing

    assert (await api.delete(f"/channels/{slack['id']}", params={"cascade": "true"})).status_code == 204

    assert (await api.get(f"/channels/{slack['id']}")).status_code == 404
    after = (await api.get("/routing")).json()
    assert (after["routes"][0]["receiver"], after["problems"]) == ("", [])
    levels = (await api.get(f"/escalation-policies/{policy['id']}")).json()["levels"]
    assert [level["channels"] for level in levels] == [["fallback"]]

    r = await api.delete(f"/escalation-policies/{policy['id']}", params={"cascade": "true"})
    assert r.status_code == 204
    assert (await api.get("/routing")).json()["routes"][0]["escalation_policy_id"] == ""


async def test_a_route_that_cannot_deliver_is_reported_and_falls_back(
    receiver: Receiver, server: ServerProcess
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        await webhook(api, "fallback", receiver.url("/fallback"))
        await webhook(api, "default", receiver.url("/default"))
        db = await webhook(api, "db-slack", receiver.url("/db"))
        tree = {
            "receiver": "default",
            "group_by": ["alertname"],
            "group_wait": "0s",
            "routes": [{"matchers": ['team="db"'], "receiver": "db-slack"}],
        }
        assert (await api.put("/routing", json=tree)).status_code == 200
        # Renamed through the API, the channel is still the route's receiver.
        renamed = {"name": "database-slack", "type": "webhook", "config": {"url": receiver.url("/db")}}
        assert (await api.put(f"/channels/{db['id']}", json=renamed)).status_code == 200
        assert (await api.get("/routing")).json()["routes"][0]["receiver"] == "database-slack"
    # A database where the route names what no channel is called (renamed by an older version).
    assert server.terminate() == 0
    store = await Store.open(server.database_url)
    try:
        async with store.transaction() as connection:
            await connection.execute(
                sa.text("UPDATE channels SET name = 'db-slack-2' WHERE name = 'database-slack'")
            )
        stored = await store.routing.get()
        assert stored is not None
        stale = dataclasses.replace(stored.routes[0], receiver="db-slack")
        await store.routing.put(dataclasses.replace(stored, routes=(stale,)), 0)
    finally:
        await store.close()
    server.start()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        await _reported_and_fallen_back(api, receiver, server)


async def _reported_and_fallen_back(
    api: httpx.AsyncClient, receiver: Receiver, server: ServerProcess
) -> None:
    problem = {"field": "routes[0].receiver", "description": "no channel with id or name 'db-slack'"}
    assert (await api.get("/routing")).json()["problems"] == [problem]
    r = await api.get("/readyz")
    assert (r.status_code, r.json()) == (
        200,
        {"status": "serving", "problems": [{**problem, "field": "routing.routes[0].receiver"}]},
    )

    await post_alerts(
        api, {"alertname": "DiskFull", "team": "db"}, {"alertname": "SlowQueries", "team": "db"}
    )
    await post_alerts(api, {"alertname": "Replication", "team": "db"})

    async def fallen_back() -> bool:
        return len([q for q in receiver.requests if q.path == "/fallback"]) == 3

    await eventually(fallen_back, 15, "three notifications at the fallback receiver")
    bodies = [b for b in (q.json() for q in receiver.requests) if isinstance(b, dict)]
    assert len(bodies) == len(receiver.requests)
    assert sorted(b["groupLabels"]["alertname"] for b in bodies) == ["DiskFull", "Replication", "SlowQueries"]
    assert {b["receiver"] for b in bodies} == {"fallback"}
    metrics = (await api.get("/metrics")).text
    assert 'alerting_notifications_unroutable_total{outcome="fallback",receiver="db-slack"} 3.0' in metrics
    said = [line for line in server.output if "receiver 'db-slack'" in line]
    assert len(said) == 1
    assert "WARNING" in said[0]
    assert "its notifications go to the fallback receiver 'fallback'" in said[0]
