"""An acknowledgement link acknowledges the firing it was sent for, once: not a later firing of the
same alert, and not the alert again after someone unacknowledged it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.integration.server import ServerProcess
from tests.integration.test_ack_links import ALERT, HTML, SECRET, acknowledged, fired, link_for, now_ms


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    workdir = tmp_path_factory.mktemp("ack-links")
    config = workdir / "config.yaml"
    config.write_text(f"ack_link_secret: {SECRET}\nack_link_ttl: 1h\n")
    proc = ServerProcess(f"sqlite+aiosqlite:///{workdir / 'alerting.db'}", workdir, ["--config", str(config)])
    proc.start()
    try:
        with httpx.Client(base_url=proc.base_url, timeout=10) as client:
            yield client
    finally:
        proc.kill()


def refused(http: httpx.Client, token: str, words: str) -> None:
    """Refused on the page, on the form post and to API callers, with `words`; nothing acknowledged."""
    page = http.get(f"/ack/{token}", headers=HTML)
    assert page.status_code == 412, page.text
    assert "Cannot acknowledge" in page.text
    assert words in page.text
    posted = http.post(f"/ack/{token}", data={"by": "mallory"})
    assert posted.status_code == 412
    assert "Nothing was acknowledged." in posted.text
    api = http.post(f"/ack/{token}", json={"by": "mallory"})
    assert api.status_code == 412
    assert words in api.json()["error"]["message"]


def post(http: httpx.Client, starts_at: int, ends_at: int | None = None) -> None:
    """As Prometheus posts to Alertmanager's API, with RFC 3339 times."""
    alert = {"labels": ALERT, "startsAt": rfc3339(starts_at)}
    if ends_at is not None:
        alert["endsAt"] = rfc3339(ends_at)
    r = http.post("/api/v2/alerts", json=[alert])
    assert r.status_code == 200, r.text


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def test_a_link_does_not_acknowledge_a_later_firing(http: httpx.Client) -> None:
    fp = fired(http)
    old = link_for(http, fp)
    first = http.get(f"/alerts/{fp}").json()["started_at"]
    post(http, starts_at=first, ends_at=now_ms() - 1)  # resolved
    assert http.get(f"/alerts/{fp}").json()["state"] == "resolved"
    post(http, starts_at=now_ms())  # and firing again: another episode
    assert http.get(f"/alerts/{fp}").json()["started_at"] != first
    refused(http, old, "earlier firing")
    assert not acknowledged(http, fp)
    # A link sent for this firing works.
    assert http.post(f"/ack/{link_for(http, fp)}", data={"by": "alice"}).status_code == 200
    assert acknowledged(http, fp)


def test_a_link_is_spent_once_the_alert_is_unacknowledged(http: httpx.Client) -> None:
    fp = fired(http)
    http.post(f"/alerts/{fp}/unack", json={})  # the other test's alert of the same labels is acknowledged
    link = link_for(http, fp)
    assert http.post(f"/ack/{link}", data={"by": "alice"}).status_code == 200
    r = http.post(f"/alerts/{fp}/unack", json={"by": "bob"})
    assert r.status_code == 200, r.text
    assert not acknowledged(http, fp)
    refused(http, link, "unacknowledged after this link was sent")
    assert not acknowledged(http, fp)
    # The links sent since (escalation resumes and notifies again) acknowledge it.
    assert http.post(f"/ack/{link_for(http, fp)}", data={"by": "carol"}).status_code == 200
    assert http.get(f"/alerts/{fp}").json()["ack"]["by"] == "carol"
