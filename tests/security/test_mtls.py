"""Mutual TLS on both listeners of a real server: with `tls.client_ca_file`, the REST gateway, like
the gRPC API, serves only clients with a certificate that CA signed."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from alerting.client import AlertingClient, AlertingError, TLSConfig
from tests.integration.server import ServerProcess, started_server
from tests.security.helpers import SILENCE


class Pki:
    def __init__(self, workdir: Path) -> None:
        self.ca = trustme.CA()
        self.ca_file = workdir / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.server_cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.client_cert = self.ca.issue_cert("client.test")
        # Signed by another CA: as good as none.
        self.stranger_cert = trustme.CA().issue_cert("client.test")

    def context(self, cert: trustme.LeafCert | None) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        if cert is not None:
            cert.configure_cert(context)
        return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("mtls")
    pki.server_cert.cert_chain_pems[0].write_to_path(str(workdir / "server.pem"))
    pki.server_cert.private_key_pem.write_to_path(str(workdir / "server.key"))
    proc = started_server(
        workdir, f"tls: {{cert_file: server.pem, key_file: server.key, client_ca_file: {pki.ca_file}}}\n"
    )
    yield proc
    proc.kill()


def https(server: ServerProcess) -> str:
    return server.base_url.replace("http://", "https://", 1)


def test_rest_serves_a_client_with_a_certificate_of_the_ca(server: ServerProcess, pki: Pki) -> None:
    with httpx.Client(base_url=https(server), verify=pki.context(pki.client_cert), timeout=10) as http:
        assert http.get("/healthz").status_code == 200
        created = http.post("/silences", json=SILENCE)
        assert created.status_code == 201, created.text


@pytest.mark.parametrize("who", ["no certificate", "another CA's certificate"])
def test_rest_refuses_a_client_without_a_certificate_of_the_ca(
    server: ServerProcess, pki: Pki, who: str
) -> None:
    cert = None if who == "no certificate" else pki.stranger_cert
    with httpx.Client(base_url=https(server), verify=pki.context(cert), timeout=10) as http:
        for method, path in (("GET", "/silences"), ("POST", "/silences")):
            with pytest.raises(httpx.TransportError):
                http.request(method, path, json={**SILENCE, "created_by": "intruder"})
    with httpx.Client(base_url=https(server), verify=pki.context(pki.client_cert), timeout=10) as http:
        silences = http.get("/silences").json()["silences"]
    assert "intruder" not in [s["created_by"] for s in silences]


def test_grpc_keeps_refusing_a_client_without_a_certificate(server: ServerProcess, pki: Pki) -> None:
    tls = TLSConfig(server_root_ca_cert=pki.ca.cert_pem.bytes())
    with (
        AlertingClient.connect(server.grpc_target, tls=tls, retry=None, timeout=5) as client,
        pytest.raises(AlertingError),
    ):
        client.list_rules()
    with_cert = TLSConfig(
        server_root_ca_cert=pki.ca.cert_pem.bytes(),
        client_cert=pki.client_cert.cert_chain_pems[0].bytes(),
        client_private_key=pki.client_cert.private_key_pem.bytes(),
    )
    with AlertingClient.connect(server.grpc_target, tls=with_cert, timeout=5) as client:
        client.list_rules()
