"""A write on one replica is read on another within a second: a silence, a posted alert, a rule (which
some replica then evaluates, and every replica reports)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tests.integration.ha.cluster import ReplicaSet, eventually
from tests.integration.ha.workload import post_alerts
from tests.integration.peers import peer_binary

VISIBLE_WITHIN_S = 1.0


async def test_a_write_on_one_replica_is_read_on_another_within_a_second(tmp_path: Path) -> None:
    async with ReplicaSet(tmp_path, 3) as replicas:
        a, b, c = replicas
        now_ms = int(time.time() * 1000)
        silence = {
            "matchers": ['ha_key="quiet"'],
            "starts_at": now_ms,
            "ends_at": now_ms + 3_600_000,
            "created_by": "alice",
            "comment": "maintenance",
        }
        r = await a.api.post("/silences", json=silence)
        assert r.status_code == 201, r.text
        silence_id = r.json()["id"]

        async def silence_on_b() -> bool:
            return (await b.api.get(f"/silences/{silence_id}")).status_code == 200

        took = await eventually(silence_on_b, VISIBLE_WITHIN_S, f"the silence made on {a.name} on {b.name}")
        print(f"silence visible on {b.name} after {took:.2f}s")

        r = await post_alerts(a.api, {"alertname": "HaPosted", "ha_key": "quiet"})
        assert r.status_code == 200, r.text

        async def alert_on_c() -> bool:
            found = (await c.api.get("/alerts", params={"filter": '{ha_key="quiet"}'})).json()["alerts"]
            return [x["silenced_by"] for x in found] == [[silence_id]]

        took = await eventually(
            alert_on_c, VISIBLE_WITHIN_S, f"the alert posted on {a.name}, silenced, on {c.name}"
        )
        print(f"posted alert visible (silenced) on {c.name} after {took:.2f}s")

        rule = {
            "name": "HaVisible",
            "query": "vector(1)",
            "duration": "0s",
            "group": "ha-visible",
            "interval": "1s",
        }
        r = await a.api.post("/rules", json=rule)
        assert r.status_code == 201, r.text
        rule_id = r.json()["id"]

        async def rule_on_b() -> bool:
            rules = (await b.api.get("/rules")).json()["rules"]
            return rule_id in {x["id"] for x in rules}

        took = await eventually(
            rule_on_b, VISIBLE_WITHIN_S, f"the rule made on {a.name} in {b.name}'s GET /rules"
        )
        print(f"rule visible on {b.name} after {took:.2f}s")

        async def firing_on_b() -> bool:
            found = (await b.api.get("/alerts", params={"rule": "HaVisible", "state": "firing"})).json()[
                "alerts"
            ]
            return len(found) == 1

        await eventually(firing_on_b, 5, f"the new rule's alert to fire, seen on {b.name}")

        async def evaluated_on_every_replica() -> bool:
            for replica in replicas:
                found = (await replica.api.get(f"/rules/{rule_id}")).json()
                if found.get("last_evaluation") is None or found.get("health") != "ok":
                    return False
            return True

        await eventually(evaluated_on_every_replica, 5, "every replica to report the rule's evaluation")


async def test_amtool_shows_the_replicas_as_the_alertmanager_cluster(tmp_path: Path) -> None:
    async with ReplicaSet(tmp_path, 2) as replicas:
        a, b = replicas
        amtool = await asyncio.create_subprocess_exec(
            str(peer_binary("amtool")),
            f"--alertmanager.url={b.base_url}",
            "cluster",
            "show",
            "-o",
            "json",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(amtool.communicate(), 30)
        assert amtool.returncode == 0
        status = json.loads(out)
        assert status["status"] == "ready"
        assert status["name"] == b.name
        assert sorted(p["name"] for p in status["peers"]) == [a.name, b.name]
