"""A rule file applied again over the wire: the rules and their firing alerts go on as they were."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.test_delivery import eventually
from tests.notify.receiver import Receiver

# A resolve or a new firing would be sent within a second; an unchanged group only after hours.
ROUTING = {
    "receiver": "hook",
    "group_by": ["alertname"],
    "group_wait": "0s",
    "group_interval": "1s",
    "repeat_interval": "4h",
}
RULES = """
groups:
  - name: app
    interval: 1h
    rules:
      - alert: HighErrors
        expr: errors > 5
        labels: {{severity: page}}
        annotations: {{summary: "{summary}"}}
      - alert: HighErrors
        expr: errors > 100
        labels: {{severity: critical}}
"""


async def apply(
    api: httpx.AsyncClient, actions: list[str], summary: str = "too many errors", threshold: str = "5"
) -> Any:
    content = RULES.format(summary=summary).replace("errors > 5", f"errors > {threshold}")
    r = await api.post("/rules:import", content=content, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 200, r.text
    assert r.json()["actions"] == actions
    return r.json()["rules"]


def identities(rules: list[Any]) -> list[tuple[str, int, int]]:
    return [(r["id"], r["created_at"], r["updated_at"]) for r in rules]


async def write_errors(api: httpx.AsyncClient) -> None:
    sample = {"name": "errors", "labels": {"job": "api"}, "value": 10}
    (await api.post("/samples", json={"samples": [sample]})).raise_for_status()


async def the_alert(api: httpx.AsyncClient) -> Any:
    [alert] = (await api.get("/alerts", params={"filter": '{alertname="HighErrors"}'})).json()["alerts"]
    return alert


async def history(api: httpx.AsyncClient, fingerprint: str) -> list[Any]:
    events: list[Any] = (await api.get(f"/alerts/{fingerprint}/history")).json()["events"]
    return events


async def evaluated_since(api: httpx.AsyncClient, rule_id: str, since: int) -> None:
    """Waits for an evaluation of the rule after `since` (epoch ms), which a flap would have shown in."""

    async def done() -> bool:
        rule = (await api.get(f"/rules/{rule_id}")).json()
        return int(rule.get("last_evaluation") or 0) > since

    await eventually(done, 10, "an evaluation of the rule")


async def test_applying_the_same_file_again_changes_nothing(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    r = await api.post(
        "/channels", json={"name": "hook", "type": "webhook", "config": {"url": receiver.url()}}
    )
    assert r.status_code == 201, r.text
    assert (await api.put("/routing", json=ROUTING)).status_code == 200
    first = await apply(api, ["created", "created"])
    await write_errors(api)

    async def notified() -> bool:
        deliveries = (await api.get("/deliveries")).json()["deliveries"]
        return [d["status"] for d in deliveries] == ["delivered"]

    await eventually(notified, 15, "the firing notification")
    alert = await the_alert(api)
    assert alert["state"] == "firing"

    async def recorded() -> bool:
        events = await history(api, alert["fingerprint"])
        return [(e["type"], e.get("outcome")) for e in events] == [
            ("state_change", None),
            ("notification", "delivered"),
        ]

    await eventually(recorded, 10, "the history of the notification")
    events = await history(api, alert["fingerprint"])

    # Applied again, as CI would: not a rule, not an alert, not a notification changes.
    again = await apply(api, ["unchanged", "unchanged"])
    assert identities(again) == identities(first)
    await write_errors(api)
    await evaluated_since(api, first[0]["id"], alert["updated_at"])
    await asyncio.sleep(2.5)  # two group intervals: time enough for a resolve and a re-fire to be sent
    assert identities((await api.get("/rules")).json()["rules"]) == identities(first)
    assert await the_alert(api) == alert
    assert await history(api, alert["fingerprint"]) == events
    assert len(receiver.requests) == 1
    body = receiver.requests[0].json()
    assert isinstance(body, dict)
    assert body["status"] == "firing"

    # The same definition through PUT changes nothing either.
    stored = (await api.get(f"/rules/{first[0]['id']}")).json()
    put = await api.put(f"/rules/{first[0]['id']}", json=stored)
    assert put.status_code == 200, put.text
    assert identities([put.json()]) == identities(first[:1])
    assert await the_alert(api) == alert

    # Only the annotation changed: the rule and its alert stay, the alert with the new text.
    changed = await apply(api, ["updated", "unchanged"], summary="errors are high")
    assert [r["id"] for r in changed] == [r["id"] for r in first]
    assert changed[0]["created_at"] == first[0]["created_at"]
    assert changed[0]["updated_at"] > first[0]["updated_at"]
    assert identities(changed[1:]) == identities(first[1:])

    async def annotated() -> bool:
        return bool((await the_alert(api))["annotations"] == {"summary": "errors are high"})

    await eventually(annotated, 10, "the new annotation")
    now = await the_alert(api)
    assert (now["state"], now["started_at"], now["fired_at"]) == (
        "firing",
        alert["started_at"],
        alert["fired_at"],
    )
    assert "resolved" not in [e.get("state") for e in await history(api, alert["fingerprint"])]

    # The query changed: the rule stays, its alert is another one, as before.
    requeried = await apply(api, ["updated", "unchanged"], summary="errors are high", threshold="6")
    assert [r["id"] for r in requeried] == [r["id"] for r in first]

    async def refired() -> bool:
        current = await the_alert(api)
        return bool(current["state"] == "firing" and current["started_at"] > alert["started_at"])

    await write_errors(api)
    await eventually(refired, 10, "the alert of the new query")

    async def resolved_then_fired() -> bool:
        events = await history(api, alert["fingerprint"])
        return [e["state"] for e in events if e["type"] == "state_change"][-2:] == ["resolved", "firing"]

    await eventually(resolved_then_fired, 10, "the history of the resolve and the new alert")
