"""Every replica SIGKILLed at once and started again: firing alerts, an acknowledgement, an escalation
level and a delivery still being retried are all still there, and nothing delivered is sent again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.ha.cluster import PIPELINE_LEASES, ReplicaSet, eventually
from tests.integration.ha.receiver import WebhookReceiver
from tests.integration.ha.workload import ROUTING, firing_rule, import_rules, post_alerts, rule_file

PLAIN = [{"alertname": "HaPosted", "ha_key": f"f{i}", "ha_kind": "plain"} for i in range(4)]
ESCALATING = {"alertname": "HaEscalating", "ha_key": "e", "ha_kind": "escalate"}
RETRYING = {"alertname": "HaRetrying", "ha_key": "r", "ha_kind": "retry"}
RULE_GROUPS = ["ha-g0", "ha-g1"]


async def setup(api: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    for name, path in (("hook", "/hook"), ("broken", "/broken"), ("escalation", "/escalation")):
        r = await api.post(
            "/channels", json={"name": name, "type": "webhook", "config": {"url": receiver.url(path)}}
        )
        assert r.status_code == 201, r.text
    levels = [{"after": "0s", "channels": ["escalation"]}, {"after": "1s", "channels": ["escalation"]}]
    r = await api.post("/escalation-policies", json={"name": "climb", "levels": levels})
    assert r.status_code == 201, r.text
    routing = {
        **ROUTING,
        "routes": [
            {"matchers": ['ha_kind="retry"'], "receiver": "broken"},
            {"matchers": ['ha_kind="escalate"'], "receiver": "hook", "escalation_policy_id": r.json()["id"]},
        ],
    }
    r = await api.put("/routing", json=routing)
    assert r.status_code == 200, r.text


async def alerts(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    r = await api.get("/alerts", params={"page_size": "100"})
    assert r.status_code == 200, r.text
    return {a["labels"]["ha_key"]: a for a in r.json()["alerts"]}


async def deliveries(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    r = await api.get("/deliveries", params={"page_size": "100"})
    assert r.status_code == 200, r.text
    return {d["id"]: d for d in r.json()["deliveries"]}


def essentials(alert: dict[str, Any]) -> tuple[Any, ...]:
    ack = alert.get("ack") or {}
    return (
        alert["fingerprint"],
        alert["state"],
        alert["acknowledged"],
        ack.get("by"),
        alert["escalation_level"],
    )


async def test_restarting_every_replica_keeps_state_and_sends_nothing_again(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver:
        receiver.status_of = lambda path: 500 if path == "/broken" else 200
        async with ReplicaSet(tmp_path, 3) as replicas:
            receiver.processes = replicas.pids
            api = replicas[0].api
            await setup(api, receiver)
            await import_rules(api, rule_file({g: [firing_rule(g)] for g in RULE_GROUPS}))
            r = await post_alerts(replicas[1].api, *PLAIN, ESCALATING, RETRYING)
            assert r.status_code == 200, r.text
            keys = {a["ha_key"] for a in (*PLAIN, ESCALATING, RETRYING)} | set(RULE_GROUPS)

            seen: dict[str, object] = {}

            async def settled() -> bool:
                found = await alerts(replicas[2].api)
                seen["alerts"] = {k: (a["state"], a["escalation_level"]) for k, a in found.items()}
                made = (await deliveries(api)).values()
                seen["deliveries"] = sorted((d["group_key"], d["status"], d["attempts"]) for d in made)
                if set(found) != keys or found["e"]["escalation_level"] < 1:
                    return False
                states = [d["status"] for d in made]
                # Every group notified once and both escalation levels: all delivered but the one retrying.
                return (
                    states.count("delivered") == len(PLAIN) + len(RULE_GROUPS) + 1 + 2
                    and "retrying" in states
                )

            await eventually(
                settled, 20, "every alert notified, escalation at level 1, the broken one retrying", seen
            )
            fingerprint = (await alerts(api))["f0"]["fingerprint"]
            r = await replicas[2].api.post(
                f"/alerts/{fingerprint}/ack", json={"by": "alice", "comment": "ha"}
            )
            assert r.status_code == 200, r.text
            assert r.json()["acknowledged"] is True, r.text

            async def acknowledged_elsewhere() -> bool:
                return bool((await alerts(replicas[1].api))["f0"]["acknowledged"])

            await eventually(acknowledged_elsewhere, 5, "the acknowledgement to be seen on another replica")
            before_alerts = await alerts(replicas[1].api)
            before_deliveries = await deliveries(api)
            delivered_keys = {
                d["idempotency_key"] for d in before_deliveries.values() if d["status"] == "delivered"
            }
            assert before_alerts["f0"]["acknowledged"], before_alerts["f0"]
            assert before_alerts["e"]["escalation_level"] == 1, before_alerts["e"]

            await replicas.kill_all()
            killed = time.time()
            await replicas.start_all()

            async def pipeline_owned() -> bool:
                return set(PIPELINE_LEASES) <= set(await replicas.holders(0))

            await eventually(pipeline_owned, 10, "every pipeline partition owned after the restart")
            await asyncio.sleep(4)  # group intervals, escalation steps and retries would have run by now
            after_alerts = {r.name: await alerts(r.api) for r in replicas}
            after_deliveries = await deliveries(replicas[2].api)

        for name, found in after_alerts.items():
            assert {k: essentials(a) for k, a in found.items()} == {
                k: essentials(a) for k, a in before_alerts.items()
            }, f"alerts on {name} after the restart differ from before it"
        for id_, before in before_deliveries.items():
            after = after_deliveries.get(id_)
            assert after is not None, f"delivery {before} is gone after the restart"
            assert after["idempotency_key"] == before["idempotency_key"], (before, after)
            if before["status"] == "delivered":
                assert after["status"] == "delivered", (before, after)
            else:
                assert after["status"] in ("pending", "retrying"), (before, after)
                assert after["attempts"] >= before["attempts"], (before, after)
        new_rows = [d for id_, d in after_deliveries.items() if id_ not in before_deliveries]
        assert not new_rows, f"deliveries made after the restart (nothing was due): {new_rows}"
        again = [
            (r.path, r.key, r.alert_labels(), r.sender)
            for r in receiver.requests
            if r.at > killed and (r.key in delivered_keys or r.path != "/broken")
        ]
        assert not again, f"sent again after the restart: {again}"
        retried = {r.key for r in receiver.requests if r.path == "/broken"}
        assert len(retried) == 1, f"the failing delivery was sent under several keys: {retried}"
