"""Confidentiality of stored secrets: redacted on read, never carried to a new destination by the
"<secret>" placeholder, encrypted at rest when a key is configured, and a database file only its
owner can read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.server import ServerProcess

SECRET = "<secret>"


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    workdir = tmp_path_factory.mktemp("secrets")
    proc = ServerProcess(f"sqlite+aiosqlite:///{workdir / 'alerting.db'}", workdir)
    proc.start()
    try:
        with httpx.Client(base_url=proc.base_url, timeout=10) as client:
            yield client
    finally:
        proc.kill()


def create(http: httpx.Client, name: str, type: str, config: dict[str, Any]) -> dict[str, Any]:
    r = http.post("/channels", json={"name": name, "type": type, "config": config})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


WEBHOOK = {
    "url": "https://hooks.example.org/alerts",
    "hmac_secret": "hmac-s3cret",
    "headers": {"Authorization": "Bearer tok", "X-Api-Key": "key-123"},
}
PAGERDUTY = {
    "routing_key": "0123456789abcdef0123456789abcdef",
    "url": "https://events.example.org/v2/enqueue",
}
EMAIL = {
    "to": ["ops@example.org"],
    "from": "alerts@example.org",
    "smarthost": "smtp.example.org:587",
    "username": "alerts",
    "password": "smtp-pass",
}

MOVED = [
    # (type, stored config, fields changed, secret fields that must be given again)
    (
        "webhook",
        WEBHOOK,
        {"url": "https://evil.example.net/alerts"},
        ["hmac_secret", "headers.Authorization", "headers.X-Api-Key"],
    ),
    (
        "webhook",
        WEBHOOK,
        {"url": "http://hooks.example.org/alerts"},
        ["hmac_secret", "headers.Authorization", "headers.X-Api-Key"],
    ),
    (
        "webhook",
        WEBHOOK,
        {"url": "https://hooks.example.org:8443/alerts"},
        ["hmac_secret", "headers.Authorization", "headers.X-Api-Key"],
    ),
    ("pagerduty", PAGERDUTY, {"url": "https://evil.example.net/v2/enqueue"}, ["routing_key"]),
    # An unset url means PagerDuty's own: clearing a custom one moves the routing key too.
    ("pagerduty", PAGERDUTY, {"url": ""}, ["routing_key"]),
    ("email", EMAIL, {"smarthost": "smtp.evil.example.net:587"}, ["password"]),
    ("email", EMAIL, {"smarthost": "smtp.example.org:25"}, ["password"]),
]


@pytest.mark.parametrize(("type", "stored", "change", "fields"), MOVED)
def test_a_changed_destination_needs_its_secrets_again(
    http: httpx.Client, type: str, stored: dict[str, Any], change: dict[str, Any], fields: list[str]
) -> None:
    name = f"moved-{uuid.uuid4().hex[:8]}"
    created = create(http, name, type, stored)
    shown = created["config"]
    r = http.put(
        f"/channels/{created['id']}", json={"name": name, "type": type, "config": {**shown, **change}}
    )
    assert r.status_code == 400, r.text
    details = {d["field"]: d["description"] for d in r.json()["error"]["details"]}
    assert set(details) == {f"config.{f}" for f in fields}
    assert all("re-enter: the destination changed" in d for d in details.values())
    assert http.get(f"/channels/{created['id']}").json() == created  # nothing stored


def test_the_same_destination_keeps_its_secrets_and_new_ones_are_taken(http: httpx.Client) -> None:
    created = create(http, "same-host", "webhook", WEBHOOK)
    shown = created["config"]
    # Another path on the same scheme, host and port (any case of the host) is the same destination.
    same = {**shown, "url": "https://HOOKS.example.org/other", "max_alerts": 3}
    r = http.put(f"/channels/{created['id']}", json={"name": "same-host", "type": "webhook", "config": same})
    assert r.status_code == 200, r.text
    # Moving with every secret given again is an ordinary update.
    moved = {**WEBHOOK, "url": "https://elsewhere.example.org/x", "hmac_secret": "new-secret"}
    r = http.put(f"/channels/{created['id']}", json={"name": "same-host", "type": "webhook", "config": moved})
    assert r.status_code == 200, r.text


def test_every_header_value_is_redacted(http: httpx.Client) -> None:
    created = create(http, "api-key", "webhook", WEBHOOK)
    assert created["config"]["headers"] == {"Authorization": SECRET, "X-Api-Key": SECRET}
    listed = http.get("/channels").text
    assert "key-123" not in listed
    assert "key-123" not in http.get(f"/channels/{created['id']}").text
    # The placeholder stands for the stored value only: on create it is refused.
    r = http.post(
        "/channels",
        json={
            "name": "new",
            "type": "webhook",
            "config": {"url": "https://x.example.org", "headers": {"X-Api-Key": SECRET}},
        },
    )
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "config.headers.X-Api-Key"
