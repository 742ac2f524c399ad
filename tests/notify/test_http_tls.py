"""A channel's tls_config on real HTTPS connections: the CA it trusts, the name it verifies, the
client certificate it presents, and verification turned off."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trustme

from alerting_server.errors import Violations
from alerting_server.notify.http import HTTPClients, check_tls_config, post
from alerting_server.notify.notifier import DeliveryResult
from alerting_server.outbound import OutboundPolicy
from tests.notify.receiver import Receiver

POLICY = OutboundPolicy(deny_private=False)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def files(ca: trustme.CA, tmp_path: Path) -> dict[str, str]:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client = ca.issue_cert("client.test")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    client.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    return {
        k: str(tmp_path / v) for k, v in (("ca", "ca.pem"), ("cert", "client.pem"), ("key", "client.key"))
    }


async def _receiver(ca: trustme.CA, *, require_client_cert: bool = False) -> Receiver:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.test").configure_cert(context)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return await Receiver().start(ssl_context=context)


@pytest.fixture
async def clients() -> AsyncIterator[tuple[HTTPClients, httpx.AsyncClient]]:
    tls = HTTPClients(POLICY)
    default = httpx.AsyncClient()
    yield tls, default
    await tls.aclose()
    await default.aclose()


async def _send(client: httpx.AsyncClient, receiver: Receiver) -> int | DeliveryResult:
    result = await post(client, f"https://127.0.0.1:{receiver.port}/hook", b"{}", {})
    return result if isinstance(result, DeliveryResult) else result[0].status_code


async def test_trusted_ca_and_server_name(
    ca: trustme.CA, files: dict[str, str], clients: tuple[HTTPClients, httpx.AsyncClient]
) -> None:
    tls, default = clients
    receiver = await _receiver(ca)
    try:
        # The system's trust does not know the CA.
        refused = await _send(default, receiver)
        assert isinstance(refused, DeliveryResult)
        assert not refused.ok
        # The CA alone: the certificate is for hooks.test, not for 127.0.0.1.
        wrong_name = await _send(tls.client_for({"tls_config": {"ca_file": files["ca"]}}, default), receiver)
        assert isinstance(wrong_name, DeliveryResult)
        assert not wrong_name.ok
        client = tls.client_for(
            {"tls_config": {"ca_file": files["ca"], "server_name": "hooks.test"}}, default
        )
        assert await _send(client, receiver) == 200
        assert (
            tls.client_for({"tls_config": {"server_name": "hooks.test", "ca_file": files["ca"]}}, default)
            is client
        )
        assert (
            await _send(tls.client_for({"tls_config": {"insecure_skip_verify": True}}, default), receiver)
            == 200
        )
        assert len(receiver.requests) == 2
    finally:
        await receiver.close()


async def test_client_certificate(
    ca: trustme.CA, files: dict[str, str], clients: tuple[HTTPClients, httpx.AsyncClient]
) -> None:
    tls, default = clients
    receiver = await _receiver(ca, require_client_cert=True)
    try:
        trusted = {"ca_file": files["ca"], "server_name": "hooks.test"}
        without = await _send(tls.client_for({"tls_config": trusted}, default), receiver)
        assert isinstance(without, DeliveryResult)
        assert not without.ok
        with_cert = tls.client_for(
            {"tls_config": {**trusted, "cert_file": files["cert"], "key_file": files["key"]}}, default
        )
        assert await _send(with_cert, receiver) == 200
    finally:
        await receiver.close()


def test_unusable_files_fall_back_to_the_default_client(
    clients: tuple[HTTPClients, httpx.AsyncClient],
) -> None:
    tls, default = clients
    assert tls.client_for({"tls_config": {"ca_file": "/nonexistent/ca.pem"}}, default) is default
    assert tls.client_for({}, default) is default


def test_check(files: dict[str, str]) -> None:
    v = Violations()
    check_tls_config(v, "config.tls_config", {"ca_file": files["ca"], "server_name": "x"})
    assert v.items == []
    check_tls_config(
        v,
        "config.tls_config",
        {"ca_file": "/nope", "cert_file": files["cert"], "insecure_skip_verify": "yes", "x": 1},
    )
    assert [(i.field, i.description) for i in v.items] == [
        ("config.tls_config.ca_file", "no such file '/nope'"),
        ("config.tls_config.insecure_skip_verify", "must be a boolean, got string"),
        (
            "config.tls_config.x",
            "unknown field (known: ca_file, cert_file, key_file, server_name, insecure_skip_verify)",
        ),
        ("config.tls_config", "cert_file and key_file go together: both are needed for a client certificate"),
    ]
