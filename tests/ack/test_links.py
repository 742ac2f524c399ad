"""Signed acknowledgement links: genuine tokens verify until they expire; any change is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting_server.ack.links import AckLinks, Link
from alerting_server.ack.secret import ack_link_secret
from alerting_server.errors import InvalidArgument
from alerting_server.store import Store

T0 = 1_700_000_000_000
EPISODE = T0 - 300_000
LINKS = AckLinks(b"s3cret", "https://alerts.example/", ttl_ms=60_000)


def reason(links: AckLinks, token: str, now: int = T0) -> str:
    with pytest.raises(InvalidArgument) as refused:
        links.verify(token, now)
    [violation] = refused.value.violations
    assert violation.field == "token"
    return violation.description


def test_a_genuine_token_names_its_alert_episode_and_times() -> None:
    token = LINKS.token("5f3c1a0b2c3d4e5f", EPISODE, T0)
    assert LINKS.verify(token, T0 + 59_999) == Link("5f3c1a0b2c3d4e5f", EPISODE, T0, T0 + 60_000)
    assert LINKS.url("5f3c1a0b2c3d4e5f", EPISODE, T0) == f"https://alerts.example/ack/{token}"


def test_an_expired_token_is_refused() -> None:
    token = LINKS.token("5f3c1a0b2c3d4e5f", EPISODE, T0)
    assert reason(LINKS, token, T0 + 60_000) == "the link has expired"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace("5f3c1a0b2c3d4e5f", "0000000000000000"),  # another alert
        lambda t: t.replace(f".{T0 + 60_000}.", f".{T0 + 10**9}."),  # a later expiry
        lambda t: t.replace(f".{EPISODE}.", f".{T0 + 10**6}."),  # a later firing
        lambda t: t.replace(f".{T0}.", f".{T0 + 10**6}."),  # issued later
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # a forged signature
    ],
)
def test_a_changed_token_is_refused(tamper: object) -> None:
    token = LINKS.token("5f3c1a0b2c3d4e5f", EPISODE, T0)
    assert callable(tamper)
    assert "altered" in reason(LINKS, tamper(token))


def test_a_persons_token_names_them_and_cannot_be_passed_to_someone_else() -> None:
    token = LINKS.token("5f3c1a0b2c3d4e5f", EPISODE, T0, person="ana.b ü")
    assert LINKS.verify(token, T0) == Link("5f3c1a0b2c3d4e5f", EPISODE, T0, T0 + 60_000, "ana.b ü")
    payload, _, signature = token.rpartition(".")
    other = LINKS.token("5f3c1a0b2c3d4e5f", EPISODE, T0, person="bo").rpartition(".")[0].rsplit(".", 1)[1]
    assert "altered" in reason(LINKS, f"{payload.rsplit('.', 1)[0]}.{other}.{signature}")
    assert "altered" in reason(LINKS, f"{payload.rsplit('.', 1)[0]}.{signature}")


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = AckLinks(b"other", "").token("5f3c1a0b2c3d4e5f", EPISODE, T0)
    assert "altered" in reason(LINKS, token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "v1..123.sig",
        "v2.fp.123.sig",
        "v1.fp.123.456.sig",
        "v2.fp.1.2.soon.sig",
        "v2..1.2.3.sig",
        "v2.fp.1.2.3.",
    ],
)
def test_garbage_is_not_a_token(token: str) -> None:
    assert reason(LINKS, token) == "not an acknowledgement link token"


async def test_the_generated_secret_is_kept_in_the_store(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    await store.migrate()
    try:
        first = await ack_link_secret(store, "", T0)
        assert len(first) == 64
        assert await ack_link_secret(store, "", T0 + 1) == first
        assert await ack_link_secret(store, "configured", T0) == b"configured"
    finally:
        await store.close()
