"""Time intervals over REST against the real server: a route they mute sends nothing to a real HTTP
receiver and its alerts say why; once the interval no longer holds, the next flush sends."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.test_delivery import eventually, post_alerts
from tests.notify.receiver import Receiver

# Holds at any time of any day of these years: the run's "now".
ALWAYS = [{"years": ["2000:2999"]}]
NEVER = [{"years": ["2000"]}]


async def setup(api: httpx.AsyncClient, receiver: Receiver) -> dict[str, Any]:
    r = await api.post(
        "/channels", json={"name": "hook", "type": "webhook", "config": {"url": receiver.url("/hook")}}
    )
    assert r.status_code == 201, r.text
    r = await api.post("/time-intervals", json={"name": "maintenance", "time_intervals": ALWAYS})
    assert r.status_code == 201, r.text
    interval: dict[str, Any] = r.json()
    assert interval["time_intervals"] == ALWAYS
    assert interval["source"] == ""
    return interval


async def test_a_muted_route_sends_nothing_and_its_alerts_say_why_until_the_interval_ends(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    interval = await setup(api, receiver)
    tree = {
        "receiver": "hook",
        "group_by": ["alertname"],
        "group_wait": "0s",
        "group_interval": "1s",
        "routes": [{"matchers": ['team="db"'], "mute_time_intervals": ["maintenance"]}],
    }
    r = await api.put("/routing", json=tree)
    assert r.status_code == 200, r.text
    assert r.json()["routes"][0]["mute_time_intervals"] == ["maintenance"]
    assert r.json()["routes"][0]["active_time_intervals"] == []

    await post_alerts(api, {"alertname": "DiskFull", "team": "db"})

    async def muted() -> bool:
        alerts = (await api.get("/alerts")).json()["alerts"]
        return bool(alerts) and alerts[0]["muted_by"] == ["maintenance"]

    await eventually(muted, 15, "the alert muted by the time interval")
    assert (await api.get("/alerts", params={"muted": "false"})).json()["alerts"] == []
    assert len((await api.get("/alerts", params={"muted": "true"})).json()["alerts"]) == 1
    [group] = (await api.get("/api/v2/alerts/groups")).json()
    [am_alert] = group["alerts"]
    assert am_alert["status"]["mutedBy"] == ["maintenance"]
    assert am_alert["status"]["state"] == "suppressed"
    assert (await api.get("/api/v2/alerts/groups", params={"muted": "false"})).json() == []
    # Several flushes (1s apart) and nothing sent.
    await asyncio.sleep(2.5)
    assert receiver.requests == []
    assert (await api.get("/deliveries")).json()["deliveries"] == []

    r = await api.put(
        f"/time-intervals/{interval['id']}", json={"name": "maintenance", "time_intervals": NEVER}
    )
    assert r.status_code == 200, r.text

    async def sent() -> bool:
        return len(receiver.requests) == 1

    await eventually(sent, 15, "the notification once the interval no longer holds")
    body = receiver.requests[0].json()
    assert isinstance(body, dict)
    assert body["groupLabels"] == {"alertname": "DiskFull"}

    async def unmuted() -> bool:
        alerts: list[dict[str, Any]] = (await api.get("/alerts")).json()["alerts"]
        return bool(alerts[0]["muted_by"] == [])

    await eventually(unmuted, 15, "the alert no longer muted")
    fp = (await api.get("/alerts")).json()["alerts"][0]["fingerprint"]
    events = (await api.get(f"/alerts/{fp}/history")).json()["events"]
    muting = [(e["type"], e["message"]) for e in events if e["type"] in ("muted", "unmuted")]
    assert muting == [("muted", "maintenance"), ("unmuted", "maintenance")]


async def test_references_are_checked_and_a_time_interval_in_use_stays(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    interval = await setup(api, receiver)
    bad = {
        "receiver": "hook",
        "routes": [{"matchers": ['team="db"'], "active_time_intervals": ["office-hours"]}],
    }
    r = await api.put("/routing", json=bad)
    assert r.status_code == 400
    assert r.json()["error"]["details"] == [
        {
            "field": "routes[0].active_time_intervals[0]",
            "description": "undefined time interval 'office-hours' used in route",
        }
    ]
    r = await api.put("/routing", json={"receiver": "hook", "mute_time_intervals": ["maintenance"]})
    assert r.status_code == 400
    assert [d["field"] for d in r.json()["error"]["details"]] == ["mute_time_intervals"]

    good = {
        "receiver": "hook",
        "routes": [{"matchers": ['team="db"'], "active_time_intervals": ["maintenance"]}],
    }
    assert (await api.put("/routing", json=good)).status_code == 200
    r = await api.delete("/time-intervals/maintenance")
    assert r.status_code == 412
    error = r.json()["error"]
    assert error["code"] == "FAILED_PRECONDITION"
    assert error["details"] == [
        {
            "field": "routing.routes[0].active_time_intervals[0]",
            "description": 'route {team="db"} (routes[0]) is active in it',
        }
    ]
    assert (await api.get(f"/time-intervals/{interval['id']}")).json() == interval

    assert (await api.put("/routing", json={"receiver": "hook"})).status_code == 200
    assert (await api.delete("/time-intervals/maintenance")).status_code == 204
    assert (await api.get("/time-intervals")).json() == {"time_intervals": [], "next_page_token": ""}
