"""TLSConfig: server verification against a private CA, mutual TLS, and the server-name override."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from alerting.client import AlertingClient, AlertingError, AsyncAlertingClient, TLSConfig
from alerting.v1 import rule_service_pb2 as rule_pb

from .fakes import FakeAlertingServer, start

CERTS = Path(__file__).parent / "certs"


def pem(name: str) -> bytes:
    return (CERTS / name).read_bytes()


@pytest.fixture
async def mtls_fake() -> AsyncIterator[FakeAlertingServer]:
    fake = FakeAlertingServer()
    credentials = grpc.ssl_server_credentials(
        [(pem("server.key"), pem("server.pem"))], root_certificates=pem("ca.pem"), require_client_auth=True
    )
    server = await start(fake, credentials)
    yield fake
    await server.stop(None)


async def test_mutual_tls_with_a_private_ca(mtls_fake: FakeAlertingServer) -> None:
    mtls_fake.respond("GetRule", rule_pb.GetRuleResponse(rule=rule_pb.Rule(id="r1")))
    tls = TLSConfig(
        server_root_ca_cert=pem("ca.pem"),
        client_cert=pem("client.pem"),
        client_private_key=pem("client.key"),
        domain="alerting.test",
    )
    async with AsyncAlertingClient(mtls_fake.target, tls=tls, token="t") as client:
        assert (await client.get_rule("r1")).id == "r1"
    assert mtls_fake.calls[0].metadata["authorization"] == "Bearer t"


async def test_sync_client_over_mutual_tls(mtls_fake: FakeAlertingServer) -> None:
    tls = TLSConfig(pem("ca.pem"), pem("client.pem"), pem("client.key"), domain="alerting.test")
    with AlertingClient.connect(mtls_fake.target, tls=tls) as client:
        await asyncio.to_thread(client.get_rule, "r1")
    assert [call.method for call in mtls_fake.calls] == ["GetRule"]


@pytest.mark.parametrize(
    "tls",
    [
        pytest.param(
            TLSConfig(server_root_ca_cert=pem("ca.pem"), domain="alerting.test"), id="no-client-cert"
        ),
        pytest.param(
            TLSConfig(
                server_root_ca_cert=pem("ca.pem"),
                client_cert=pem("client.pem"),
                client_private_key=pem("client.key"),
                domain="elsewhere.test",
            ),
            id="wrong-server-name",
        ),
        pytest.param(False, id="plaintext"),
    ],
)
async def test_the_handshake_fails_without_what_mtls_needs(
    mtls_fake: FakeAlertingServer, tls: bool | TLSConfig
) -> None:
    async with AsyncAlertingClient(mtls_fake.target, tls=tls, retry=None, timeout=5) as client:
        with pytest.raises(AlertingError):
            await client.get_rule("r1")
    assert mtls_fake.calls == []


def test_client_cert_and_key_go_together() -> None:
    with pytest.raises(ValueError, match="together"):
        TLSConfig(client_cert=pem("client.pem"))
