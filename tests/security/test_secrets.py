"""Confidentiality of stored secrets: redacted on read, never carried to a new destination by the
"<secret>" placeholder, encrypted at rest when a key is configured, and a database file only its
owner can read."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from alerting_server.ack.secret import ACK_LINKS, ack_link_secret
from alerting_server.model import Channel, ChannelType
from alerting_server.store import Store
from alerting_server.store.crypto import SecretsKeyError
from alerting_server.store.tables import channels, server_secrets
from tests.integration.server import ServerProcess
from tests.store.conftest import _empty, backend, pg_url, sqlite_url, url

__all__ = ["backend", "pg_url", "sqlite_url", "url"]  # fixtures of the store tests, on both backends

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


KEY = Fernet.generate_key().decode()
NOW = 1_700_000_000_000
HOOK = Channel(name="hook", type=ChannelType.WEBHOOK, config={**WEBHOOK, "max_alerts": 5})


async def opened(url: str, key: str) -> Store:
    store = await Store.open(url, key)
    await store.migrate()
    return store


@pytest.fixture
async def plain(url: str) -> AsyncIterator[Store]:
    """A store without a key, emptied; the tests open the same database with keys beside it."""
    store = await opened(url, "")
    await _empty(store)
    try:
        yield store
    finally:
        await store.close()


async def raw_config(store: Store, channel_id: str) -> dict[str, Any]:
    async with store.transaction() as connection:
        config = (
            await connection.execute(sa.select(channels.c.config).where(channels.c.id == channel_id))
        ).scalar_one()
    return dict(config)


async def test_channel_secrets_are_encrypted_at_rest_under_a_key(plain: Store, url: str) -> None:
    store = await opened(url, KEY)
    try:
        await store.server_secrets.check_key(NOW)
        created = await store.channels.create(HOOK, NOW)
        raw = await raw_config(store, created.id)
        text = json.dumps(raw)
        for secret in ("hmac-s3cret", "Bearer tok", "key-123", "hooks.example.org"):
            assert secret not in text
        assert raw["hmac_secret"].startswith("enc:v1:")
        assert all(v.startswith("enc:v1:") for v in raw["headers"].values())
        assert raw["max_alerts"] == 5  # what is no secret stays readable
        assert (await store.channels.get(created.id)).config == HOOK.config
        assert [c.config for c in await store.channels.all()] == [HOOK.config]
    finally:
        await store.close()


async def test_plain_values_are_read_and_encrypted_on_their_next_write(plain: Store, url: str) -> None:
    created = await plain.channels.create(HOOK, NOW)
    assert (await raw_config(plain, created.id))["hmac_secret"] == "hmac-s3cret"
    store = await opened(url, KEY)
    try:
        assert (await store.channels.get(created.id)).config == HOOK.config
        await store.channels.update(created.id, HOOK, NOW + 1)
        assert (await raw_config(store, created.id))["hmac_secret"].startswith("enc:v1:")
        assert (await store.channels.get(created.id)).config == HOOK.config
    finally:
        await store.close()


async def test_the_ack_link_key_is_encrypted_and_an_old_plain_one_kept(plain: Store, url: str) -> None:
    before = await ack_link_secret(plain, "", NOW)
    store = await opened(url, KEY)
    try:
        assert await ack_link_secret(store, "", NOW + 1) == before  # links already sent keep working
        async with store.transaction() as connection:
            value = (
                await connection.execute(
                    sa.select(server_secrets.c.value).where(server_secrets.c.name == ACK_LINKS)
                )
            ).scalar_one()
        assert value.startswith("enc:v1:")
        assert before.decode() not in value
        assert await ack_link_secret(store, "", NOW + 2) == before
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("key", "words"), [(Fernet.generate_key().decode(), "not the key"), ("", "encrypted")]
)
async def test_another_key_or_none_is_refused_naming_the_setting(
    plain: Store, url: str, key: str, words: str
) -> None:
    first = await opened(url, KEY)
    try:
        await first.server_secrets.check_key(NOW)
        await first.channels.create(HOOK, NOW)
    finally:
        await first.close()
    other = await opened(url, key)
    try:
        with pytest.raises(SecretsKeyError, match=r"secrets_key \(ALERTING_SECRETS_KEY\)") as raised:
            await other.server_secrets.check_key(NOW)
        assert words in str(raised.value)
    finally:
        await other.close()


def test_the_server_warns_without_a_key_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}"
    keyed = tmp_path / "keyed.yaml"
    keyed.write_text(f"secrets_key: {KEY}\n")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(f"secrets_key: {Fernet.generate_key().decode()}\n")
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("secrets_key: short\n")

    unkeyed = ServerProcess(database, tmp_path)
    unkeyed.start()
    unkeyed.kill()
    assert "stored unencrypted" in "".join(unkeyed.output)
    server = ServerProcess(database, tmp_path, ["--config", str(keyed)])
    server.start()
    server.kill()
    assert "stored unencrypted" not in "".join(server.output)
    for config, words in [(wrong, "not the key"), (malformed, "32 url-safe base64-encoded bytes")]:
        refused = subprocess.run(
            [
                sys.executable,
                "-m",
                "alerting_server.cli",
                "serve",
                "--database-url",
                database,
                "--config",
                str(config),
            ],
            cwd=tmp_path,
            env={k: v for k, v in os.environ.items() if not k.startswith("ALERTING_")},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert refused.returncode != 0
        assert "secrets_key" in refused.stderr
        assert words in refused.stderr


async def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "alerting.db"
    old = os.umask(0o022)
    try:
        store = await opened(f"sqlite:///{path}", "")
        try:
            await store.channels.create(HOOK, NOW)
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert all(f.exists() for f in files)
            assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
        finally:
            await store.close()
    finally:
        os.umask(old)
