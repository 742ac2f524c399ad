"""A schedule's calendar feed for calendar apps, which cannot send a bearer token: with tokens on, the
feed at /schedules/{id}.ics needs one, and the secret address GetCalendarLink gives is its own
credential, for that schedule alone; an altered address reads nothing, and the token passes for no
acknowledgement link."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import icalendar
import pytest

from tests.integration.server import ServerProcess, started_server

ADMIN = "admin-token-0123456789"
READER = "reader-token-0123456789"
AUTH = (
    f"auth: {{tokens: [{{name: a, token: {ADMIN}, scope: admin}}, "
    f"{{name: r, token: {READER}, scope: read}}]}}\n"
)
LAYER = {"name": "weekly", "start": "2026-01-05T09:00:00Z", "rotation_turn_length": "168h"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = started_server(tmp_path_factory.mktemp("calendar"), AUTH)
    yield proc
    proc.kill()


def _schedule(admin: httpx.Client, name: str) -> str:
    user = admin.post("/users", json={"name": f"{name}-ana", "email": "ana@example.org", "time_zone": "UTC"})
    assert user.status_code == 201, user.text
    body = {"name": name, "time_zone": "UTC", "layers": [{**LAYER, "users": [user.json()["id"]]}]}
    created = admin.post("/schedules", json=body)
    assert created.status_code == 201, created.text
    schedule_id: str = created.json()["id"]
    return schedule_id


def _undated(feed: bytes) -> list[bytes]:
    lines = [line for line in feed.split(b"\r\n") if not line.startswith(b"DTSTAMP:")]
    assert len(lines) < len(feed.split(b"\r\n")), "a feed without DTSTAMP"
    return lines


@pytest.fixture
def clients(server: ServerProcess) -> Iterator[tuple[httpx.Client, httpx.Client, httpx.Client]]:
    with (
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10
        ) as admin,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {READER}"}, timeout=10
        ) as reader,
        httpx.Client(base_url=server.base_url, timeout=10) as anonymous,
    ):
        yield admin, reader, anonymous


def test_the_calendar_link_reads_its_schedule_without_a_token(
    clients: tuple[httpx.Client, httpx.Client, httpx.Client],
) -> None:
    admin, reader, anonymous = clients
    primary = _schedule(admin, "primary")
    secondary = _schedule(admin, "secondary")

    assert anonymous.get(f"/schedules/{primary}.ics").status_code == 401
    assert anonymous.get(f"/schedules/{primary}/calendar-link").status_code == 401
    link = reader.get(f"/schedules/{primary}/calendar-link")
    assert link.status_code == 200, link.text
    url, token = link.json()["url"], link.json()["token"]
    assert url.endswith(f"/calendar/{token}.ics")

    feed = anonymous.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(feed.content)
    assert str(calendar["x-wr-calname"]) == "On call: primary"
    assert {str(e["summary"]) for e in calendar.walk("VEVENT")} == {"On call: primary-ana (primary)"}
    # The same feed as the token-authenticated one (but for DTSTAMP, the second each was made).
    assert _undated(feed.content) == _undated(reader.get(f"/schedules/{primary}.ics").content)

    # Altered to name the other schedule, or re-signed by a guess, it reads nothing.
    other = token.replace(primary, secondary)
    for forged in (other, token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
        refused = anonymous.get(f"/calendar/{forged}.ics")
        assert refused.status_code == 400
        assert "signature does not match" in refused.text
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 400
    # It is no acknowledgement link.
    assert anonymous.post(f"/ack/{token}", json={}).status_code == 400


def test_resetting_a_link_revokes_it_and_only_it(
    clients: tuple[httpx.Client, httpx.Client, httpx.Client],
) -> None:
    admin, reader, anonymous = clients
    first = _schedule(admin, "first")
    second = _schedule(admin, "second")
    old = reader.get(f"/schedules/{first}/calendar-link").json()["token"]
    other = reader.get(f"/schedules/{second}/calendar-link").json()["token"]
    assert anonymous.get(f"/calendar/{old}.ics").status_code == 200

    # Resetting is a write: a read token may read a link, not replace it.
    assert reader.post(f"/schedules/{first}/calendar-link:reset", json={}).status_code == 403
    reset = admin.post(f"/schedules/{first}/calendar-link:reset", json={})
    assert reset.status_code == 200, reset.text
    new = reset.json()["token"]
    assert new != old
    assert reader.get(f"/schedules/{first}/calendar-link").json()["token"] == new
    gone = anonymous.get(f"/calendar/{old}.ics")
    assert gone.status_code == 404
    assert "was reset" in gone.text
    assert anonymous.get(f"/calendar/{new}.ics").status_code == 200
    assert anonymous.get(f"/calendar/{other}.ics").status_code == 200

    # Again: the second link goes too, and a link of another epoch cannot be forged from it.
    newer = admin.post(f"/schedules/{first}/calendar-link:reset", json={}).json()["token"]
    assert anonymous.get(f"/calendar/{new}.ics").status_code == 404
    assert anonymous.get(f"/calendar/{newer}.ics").status_code == 200
    forged = newer.replace("cal2.2.", "cal2.3.", 1)
    assert forged != newer
    assert anonymous.get(f"/calendar/{forged}.ics").status_code == 400
    assert admin.post("/schedules/nope/calendar-link:reset", json={}).status_code == 404
