"""Users and schedules over REST: the gateway in front of the real servicers on a SQLite store, with an
injected clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from grpc import aio

from alerting.v1 import (
    channel_service_pb2_grpc,
    escalation_policy_service_pb2_grpc,
    schedule_service_pb2_grpc,
    user_service_pb2_grpc,
)
from alerting_server.api import servicers
from alerting_server.api.interceptors import ErrorInterceptor
from alerting_server.api.people import ScheduleServicer, UserServicer
from alerting_server.store import Store
from gateway import create_app

H = 3_600_000
DAY = 24 * H
JAN_1 = 1_767_225_600_000  # 2026-01-01T00:00Z, a Thursday
NOW = JAN_1 + 10 * DAY


class FixedClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


class Listener:
    def __init__(self) -> None:
        self.reloads = 0

    async def reload(self) -> None:
        self.reloads += 1


SMTP = {"from": "alerts@example.org", "smarthost": "smtp.example.org:25"}


def ana(**changes: Any) -> dict[str, Any]:
    return {
        "name": "ana",
        "email": "ana@example.org",
        "time_zone": "Europe/Berlin",
        "contact_methods": [
            {"type": "email", "address": "ana@example.org", "config": SMTP},
            {"type": "pagerduty", "address": "0123456789abcdef0123456789abcdef"},
        ],
        **changes,
    }


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    await store.migrate()
    clock = FixedClock(NOW)
    listener = Listener()
    server = aio.server(interceptors=[ErrorInterceptor()])
    user_service_pb2_grpc.add_UserServiceServicer_to_server(UserServicer(store, clock, listener), server)
    schedule_service_pb2_grpc.add_ScheduleServiceServicer_to_server(
        ScheduleServicer(store, clock, listener), server
    )
    channel_service_pb2_grpc.add_ChannelServiceServicer_to_server(
        servicers.ChannelServicer(store, clock, listener), server
    )
    escalation_policy_service_pb2_grpc.add_EscalationPolicyServiceServicer_to_server(
        servicers.EscalationPolicyServicer(store, clock, listener), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = aio.insecure_channel(f"127.0.0.1:{port}")
    app = create_app(f"127.0.0.1:{port}", channel=channel, sse_keepalive=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        yield client
    await channel.close(None)
    await server.stop(None)
    await store.close()


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    return [v["field"] for v in response.json()["error"]["details"]]


async def test_a_user_and_their_contact_methods_as_channels(http: httpx.AsyncClient) -> None:
    response = await http.post("/users", json=ana())
    assert response.status_code == 201, response.text
    user = response.json()
    assert (user["name"], user["email"], user["time_zone"], user["created_at"]) == (
        "ana",
        "ana@example.org",
        "Europe/Berlin",
        NOW,
    )
    email, pager = user["contact_methods"]
    assert (email["type"], email["address"], email["config"]) == ("email", "ana@example.org", SMTP)
    assert (pager["type"], pager["address"]) == ("pagerduty", "<secret>")
    channels = {c["name"]: c for c in (await http.get("/channels")).json()["channels"]}
    assert channels["ana-email"]["id"] == email["channel_id"]
    assert channels["ana-email"]["config"] == {**SMTP, "to": ["ana@example.org"]}
    assert channels["ana-pagerduty"]["config"] == {"routing_key": "<secret>"}
    assert (await http.get("/users/ana")).json() == user
    assert (await http.get("/users")).json()["users"] == [user]


async def test_an_update_keeps_the_channels_it_names_and_their_secrets(http: httpx.AsyncClient) -> None:
    user = (await http.post("/users", json=ana())).json()
    email, pager = user["contact_methods"]
    body = ana(contact_methods=[pager, {"type": "webhook", "address": "https://hooks.example.org/ana"}])
    response = await http.put(f"/users/{user['id']}", json=body)
    assert response.status_code == 200, response.text
    kept, hook = response.json()["contact_methods"]
    assert kept["channel_id"] == pager["channel_id"]
    assert hook["channel_id"] not in (email["channel_id"], pager["channel_id"])
    names = {c["name"] for c in (await http.get("/channels")).json()["channels"]}
    assert names == {"ana-pagerduty", "ana-webhook"}


async def test_bad_users_name_each_field(http: httpx.AsyncClient) -> None:
    body = ana(
        email="ana",
        time_zone="Mars/Olympus",
        contact_methods=[
            {"type": "email", "address": "not an address", "config": SMTP},
            {"type": "email", "address": "ana@example.org"},
            {"type": "webhook", "address": ""},
        ],
    )
    assert fields(await http.post("/users", json=body)) == [
        "email",
        "time_zone",
        "contact_methods[0].address",
        "contact_methods[1].config.from",
        "contact_methods[1].config.smarthost",
        "contact_methods[2].address",
    ]
    assert fields(await http.post("/users", json=ana(contact_methods=[{"address": "x@example.org"}]))) == [
        "contact_methods[0].type"
    ]
    # A channel type that reaches a team, not a person, is no contact method.
    opsgenie = {"type": "opsgenie", "address": "k", "config": {"api_key": "k"}}
    assert fields(await http.post("/users", json=ana(contact_methods=[opsgenie]))) == [
        "contact_methods[0].type"
    ]


async def test_a_users_channel_is_deleted_with_the_user_only(http: httpx.AsyncClient) -> None:
    user = (await http.post("/users", json=ana())).json()
    channel_id = user["contact_methods"][0]["channel_id"]
    refused = await http.delete(f"/channels/{channel_id}")
    assert refused.status_code == 412, refused.text
    assert "contact method of user 'ana'" in refused.json()["error"]["message"]
    assert (await http.delete("/users/ana")).status_code == 204
    assert (await http.get("/channels")).json()["channels"] == []
    assert (await http.get("/users/ana")).status_code == 404


WEEK = 7 * DAY


def primary(*user_ids: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": "primary",
        "time_zone": "UTC",
        "layers": [
            {
                "name": "weekly",
                "start": JAN_1,
                "end": None,
                "rotation_turn_length": "168h",
                "handoff_time": "09:00",
                "users": list(user_ids),
            }
        ],
        **changes,
    }


async def users(http: httpx.AsyncClient, *names: str) -> list[str]:
    ids = []
    for name in names:
        response = await http.post(
            "/users", json={"name": name, "email": f"{name}@example.org", "time_zone": "UTC"}
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_a_schedule_answers_who_is_on_call_and_its_shifts(http: httpx.AsyncClient) -> None:
    ana_id, bo_id = await users(http, "ana", "bo")
    response = await http.post("/schedules", json=primary(ana_id, "bo"))
    assert response.status_code == 201, response.text
    schedule = response.json()
    assert schedule["layers"][0]["users"] == [ana_id, bo_id]  # names stored as ids
    assert schedule["layers"][0]["rotation_turn_length"] == "1w"
    sid = schedule["id"]
    # The virtual start is 2025-12-31 09:00 (the handoff before the start): ana until 2026-01-07 09:00.
    now = (await http.get(f"/schedules/{sid}/oncall")).json()
    assert now == {"users": [{"id": bo_id, "name": "bo"}], "until": JAN_1 + 13 * DAY + 9 * H}
    at = (await http.get(f"/schedules/{sid}/oncall", params={"at": JAN_1})).json()
    assert at == {"users": [{"id": ana_id, "name": "ana"}], "until": JAN_1 + 6 * DAY + 9 * H}
    final = (
        await http.get(f"/schedules/{sid}/final", params={"start": JAN_1, "end": JAN_1 + 14 * DAY})
    ).json()
    assert [(s["user_name"], s["start"], s["end"]) for s in final["shifts"]] == [
        ("ana", JAN_1, JAN_1 + 6 * DAY + 9 * H),
        ("bo", JAN_1 + 6 * DAY + 9 * H, JAN_1 + 13 * DAY + 9 * H),
        ("ana", JAN_1 + 13 * DAY + 9 * H, JAN_1 + 14 * DAY),
    ]
    assert (await http.get("/schedules/primary")).json() == schedule
    assert (await http.get("/schedules")).json()["schedules"] == [schedule]


async def test_an_override_puts_its_user_on_call_over_the_layers(http: httpx.AsyncClient) -> None:
    ana_id, _, cy_id = await users(http, "ana", "bo", "cy")
    sid = (await http.post("/schedules", json=primary(ana_id))).json()["id"]
    body = {"user": "cy", "start": NOW - H, "end": NOW + 2 * H}
    response = await http.post(f"/schedules/{sid}/overrides", json=body)
    assert response.status_code == 201, response.text
    override = response.json()
    assert (override["user"], override["start"], override["end"]) == (cy_id, NOW - H, NOW + 2 * H)
    now = (await http.get(f"/schedules/{sid}/oncall")).json()
    assert now == {"users": [{"id": cy_id, "name": "cy"}], "until": NOW + 2 * H}
    listed = (await http.get(f"/schedules/{sid}/overrides", params={"start": NOW})).json()["overrides"]
    assert [o["id"] for o in listed] == [override["id"]]
    assert (await http.get(f"/schedules/{sid}/overrides", params={"start": NOW + 3 * H})).json()[
        "overrides"
    ] == []
    assert (await http.delete(f"/schedules/{sid}/overrides/{override['id']}")).status_code == 204
    assert (await http.get(f"/schedules/{sid}/oncall")).json()["users"] == [{"id": ana_id, "name": "ana"}]
    assert (await http.delete(f"/schedules/{sid}/overrides/{override['id']}")).status_code == 404


async def test_bad_schedules_and_overrides_name_each_field(http: httpx.AsyncClient) -> None:
    (ana_id,) = await users(http, "ana")
    body = primary(ana_id, "nobody", time_zone="Nowhere/Town")
    layer = body["layers"][0]
    layer.update(
        handoff_time="9am",
        rotation_turn_length="10m",
        end=JAN_1 - 1,
        restrictions=[
            {"type": "weekly", "start_day": "funday", "start_time": "25:00", "duration": "8h"},
            {"type": "daily", "start_time": "22:00", "duration": "25h"},
        ],
    )
    assert fields(await http.post("/schedules", json=body)) == [
        "layers[0].restrictions[0].start_day",
        "layers[0].restrictions[0].start_time",
        "layers[0].handoff_time",
    ]
    layer.update(handoff_time="09:00", restrictions=[layer["restrictions"][1]])
    assert fields(await http.post("/schedules", json=body)) == [
        "time_zone",
        "layers[0].end",
        "layers[0].rotation_turn_length",
        "layers[0].users[1]",
        "layers[0].restrictions[0].duration",
    ]
    sid = (await http.post("/schedules", json=primary(ana_id))).json()["id"]
    bad = {"user": "nobody", "start": NOW, "end": NOW}
    assert fields(await http.post(f"/schedules/{sid}/overrides", json=bad)) == ["user", "end"]
    assert fields(
        await http.get(f"/schedules/{sid}/final", params={"start": NOW, "end": NOW + 400 * DAY})
    ) == ["end"]


async def test_a_user_in_a_schedule_is_not_deleted(http: httpx.AsyncClient) -> None:
    (ana_id,) = await users(http, "ana")
    sid = (await http.post("/schedules", json=primary(ana_id))).json()["id"]
    refused = await http.delete("/users/ana")
    assert refused.status_code == 412, refused.text
    assert "layer 0 ('weekly') of schedule 'primary' rotates them" in refused.json()["error"]["message"]
    assert (await http.delete(f"/schedules/{sid}")).status_code == 204
    assert (await http.delete("/users/ana")).status_code == 204


async def test_the_calendar_feed_lists_the_shifts(http: httpx.AsyncClient) -> None:
    ana_id, _ = await users(http, "ana", "bo")
    sid = (await http.post("/schedules", json=primary(ana_id, "bo"))).json()["id"]
    response = await http.get("/schedules/primary.ics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["x-wr-calname"]) == "On call: primary"
    events = [
        (
            str(e["summary"]),
            int(e.decoded("dtstart").timestamp() * 1000),
            int(e.decoded("dtend").timestamp() * 1000),
        )
        for e in calendar.walk("VEVENT")
    ]
    # 30 days back to 180 ahead of today: weekly shifts, each inside a shift of the final schedule.
    assert 26 <= len(events) <= 32
    today = time.time_ns() // 1_000_000 // DAY * DAY
    wide = {"start": today - 31 * DAY, "end": today + 181 * DAY}
    final = (await http.get(f"/schedules/{sid}/final", params=wide)).json()["shifts"]
    for summary, start, end in events:
        assert any(
            summary == f"On call: {s['user_name']} (primary)" and s["start"] <= start < end <= s["end"]
            for s in final
        ), (summary, start, end)
    assert len({str(e["uid"]) for e in calendar.walk("VEVENT")}) == len(events)
    assert (await http.get("/schedules/nothing.ics")).status_code == 404
