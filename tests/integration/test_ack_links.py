"""Signed acknowledgement links over the wire: the confirmation page, acknowledging by form post,
and tampered or expired links refused with a page that says why, changing nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from alerting_server.ack.links import AckLinks
from tests.integration.server import ServerProcess

SECRET = "integration-test-secret"
ALERT = {"alertname": "DiskFull", "host": "db1"}
HTML = {"accept": "text/html"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    config = tmp_path / "config.yaml"
    config.write_text(f"ack_link_secret: {SECRET}\nack_link_ttl: 1h\n")
    proc = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--config", str(config)]
    )
    proc.start()
    yield proc
    proc.kill()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def fired(http: httpx.Client) -> str:
    r = http.post("/api/v2/alerts", json=[{"labels": ALERT, "annotations": {"summary": "disk <full>"}}])
    assert r.status_code == 200, r.text
    [alert] = http.get("/alerts").json()["alerts"]
    fingerprint: str = alert["fingerprint"]
    return fingerprint


def link_for(
    http: httpx.Client,
    fp: str,
    secret: str = SECRET,
    ttl_ms: int = 3_600_000,
    headers: dict[str, str] | None = None,
) -> str:
    """A link for the alert's current firing, signed as the server signs the ones it sends."""
    episode: int = http.get(f"/alerts/{fp}", headers=headers).json()["started_at"]
    return AckLinks(secret.encode(), "", ttl_ms).token(fp, episode, now_ms())


def acknowledged(http: httpx.Client, fp: str) -> bool:
    found: bool = http.get(f"/alerts/{fp}").json()["acknowledged"]
    return found


def test_a_signed_link_shows_a_confirmation_page_then_acknowledges(http: httpx.Client) -> None:
    fp = fired(http)
    token = link_for(http, fp)
    page = http.get(f"/ack/{token}", headers=HTML)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "Acknowledge this alert?" in page.text
    assert "disk &lt;full&gt;" in page.text  # escaped, never markup from an alert
    assert '<form method="post">' in page.text
    assert not acknowledged(http, fp)  # looking is not acknowledging

    done = http.post(f"/ack/{token}", data={"by": "alice", "comment": "from my phone"})
    assert done.status_code == 200, done.text
    assert "<h1>Acknowledged</h1>" in done.text
    alert = http.get(f"/alerts/{fp}").json()
    assert alert["ack"]["by"] == "alice"
    assert alert["ack"]["comment"] == "from my phone"
    # Following the link again keeps the first acknowledgement.
    again = http.post(f"/ack/{token}", data={"by": "bob"})
    assert again.status_code == 200
    assert http.get(f"/alerts/{fp}").json()["ack"]["by"] == "alice"


def test_json_callers_get_the_api_answer(http: httpx.Client) -> None:
    fp = fired(http)
    token = link_for(http, fp)
    looked = http.get(f"/ack/{token}")
    assert looked.status_code == 200, looked.text
    assert looked.json()["alert"]["fingerprint"] == fp
    done = http.post(f"/ack/{token}", json={})
    assert done.status_code == 200, done.text
    assert done.json()["ack"]["by"] == "link"  # the alert, as POST /alerts/{fingerprint}/ack answers


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda http, fp: link_for(http, fp, secret="not-the-secret"), "altered"),
        (lambda http, fp: link_for(http, fp).replace(fp, "0" * 16), "altered"),
        (lambda http, fp: link_for(http, fp, ttl_ms=-1000), "expired"),
        (lambda http, fp: "nonsense", "not an acknowledgement link"),
    ],
)
def test_a_tampered_or_expired_link_is_refused_and_changes_nothing(
    http: httpx.Client, make: object, words: str
) -> None:
    fp = fired(http)
    assert callable(make)
    token = make(http, fp)
    page = http.get(f"/ack/{token}", headers=HTML)
    assert page.status_code == 400
    assert "This acknowledgement link is not valid" in page.text
    assert words in page.text
    refused = http.post(f"/ack/{token}", data={"by": "mallory"})
    assert refused.status_code == 400
    assert "Nothing was acknowledged." in refused.text
    assert not acknowledged(http, fp)
    api = http.post(f"/ack/{token}", json={"by": "mallory"})
    assert api.status_code == 400
    assert api.json()["error"]["details"][0]["field"] == "token"
    assert not acknowledged(http, fp)


def test_a_link_needs_no_bearer_token_when_tokens_are_on(tmp_path: Path) -> None:
    admin = "admin-token-0123456789"
    config = tmp_path / "secured.yaml"
    config.write_text(
        f"ack_link_secret: {SECRET}\nauth: {{tokens: [{{name: ops, token: {admin}, scope: admin}}]}}\n"
    )
    proc = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", tmp_path, ["--config", str(config)])
    proc.start()
    try:
        with httpx.Client(base_url=proc.base_url, timeout=10) as http:
            bearer = {"Authorization": f"Bearer {admin}"}
            r = http.post("/api/v2/alerts", json=[{"labels": ALERT}], headers=bearer)
            assert r.status_code == 200, r.text
            fp = http.get("/alerts", headers=bearer).json()["alerts"][0]["fingerprint"]
            # The link alone is enough; the rest of the API still needs the token.
            token = link_for(http, fp, headers=bearer)
            assert http.get(f"/ack/{token}", headers=HTML).status_code == 200
            assert http.post(f"/ack/{token}", data={"by": "alice"}).status_code == 200
            assert http.get(f"/alerts/{fp}").status_code == 401
            assert http.get(f"/alerts/{fp}", headers=bearer).json()["ack"]["by"] == "alice"
    finally:
        proc.kill()
