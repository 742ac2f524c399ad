"""A channel's HTTP proxy on real connections: requests go through the proxy (CONNECT for HTTPS), with
its credentials, except to the hosts no_proxy names; proxy_from_environment reads HTTP(S)_PROXY."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trustme

from alerting_server.errors import Violations
from alerting_server.notify import proxy
from alerting_server.notify.http import HTTPClients, post
from alerting_server.notify.notifier import DeliveryResult
from alerting_server.outbound import DestinationDenied, OutboundPolicy
from tests.notify.proxyserver import ForwardProxy
from tests.notify.receiver import Receiver

POLICY = OutboundPolicy(deny_private=False)


@pytest.fixture
async def clients() -> AsyncIterator[tuple[HTTPClients, httpx.AsyncClient]]:
    made = HTTPClients(POLICY)
    default = httpx.AsyncClient()
    yield made, default
    await made.aclose()
    await default.aclose()


@pytest.fixture
async def forward() -> AsyncIterator[ForwardProxy]:
    server = await ForwardProxy(credentials=("ops", "s3cret")).start()
    yield server
    await server.stop()


@pytest.fixture
async def https_receiver(tmp_path: Path) -> AsyncIterator[tuple[Receiver, str]]:
    """A receiver serving HTTPS with a certificate of its own CA, and that CA's file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = str(tmp_path / "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    receiver = await Receiver().start(ssl_context=context)
    yield receiver, ca_file
    await receiver.close()


async def _status(client: httpx.AsyncClient, url: str) -> int | DeliveryResult:
    result = await post(client, url, b'{"a": 1}', {"X-Test": "1"})
    return result if isinstance(result, DeliveryResult) else result[0].status_code


async def test_requests_go_through_the_proxy_with_its_credentials(
    clients: tuple[HTTPClients, httpx.AsyncClient], forward: ForwardProxy
) -> None:
    made, default = clients
    receiver = await Receiver().start()
    try:
        client = made.client_for({"proxy_url": forward.url}, default)
        assert client is not default
        assert made.client_for({"proxy_url": forward.url}, default) is client
        assert await _status(client, receiver.url("/hook")) == 200
        assert [(a.method, a.target) for a in forward.asked] == [("POST", receiver.url("/hook"))]
        assert forward.asked[0].proxy_authorization == "Basic b3BzOnMzY3JldA=="
        assert receiver.requests[0].path == "/hook"
        assert receiver.requests[0].json() == {"a": 1}
        # A proxy that refuses the credentials: the send fails, it does not go around the proxy.
        wrong = made.client_for({"proxy_url": forward.url.replace("s3cret", "nope")}, default)
        assert await _status(wrong, receiver.url("/hook")) == 407
        assert len(receiver.requests) == 1
    finally:
        await receiver.close()


async def test_https_is_tunnelled_and_no_proxy_hosts_are_reached_directly(
    clients: tuple[HTTPClients, httpx.AsyncClient],
    forward: ForwardProxy,
    https_receiver: tuple[Receiver, str],
) -> None:
    made, default = clients
    receiver, ca_file = https_receiver
    config = {"proxy_url": forward.url, "tls_config": {"ca_file": ca_file}}
    url = f"https://127.0.0.1:{receiver.port}/hook"
    assert await _status(made.client_for(config, default), url) == 200
    assert [(a.method, a.target) for a in forward.asked] == [("CONNECT", f"127.0.0.1:{receiver.port}")]
    direct = made.client_for({**config, "no_proxy": "example.org, 127.0.0.0/8"}, default)
    assert await _status(direct, url) == 200
    assert len(forward.asked) == 1
    assert len(receiver.requests) == 2


async def test_connect_headers_go_to_the_proxy_with_each_tunnel_only(
    clients: tuple[HTTPClients, httpx.AsyncClient],
    forward: ForwardProxy,
    https_receiver: tuple[Receiver, str],
) -> None:
    made, default = clients
    tls, ca_file = https_receiver
    plain = await Receiver().start()
    try:
        config = {
            "proxy_url": forward.url,
            "proxy_connect_header": {"X-Proxy-Tenant": "ops"},
            "tls_config": {"ca_file": ca_file},
        }
        client = made.client_for(config, default)
        assert await _status(client, f"https://127.0.0.1:{tls.port}/hook") == 200
        [connect] = forward.asked
        assert (connect.method, connect.headers.get("X-Proxy-Tenant")) == ("CONNECT", "ops")
        # Not on the tunnelled request, which the receiver gets.
        assert "x-proxy-tenant" not in {k.lower() for k in tls.requests[0].headers}
        # A plain request goes through the proxy without them (as Go's ProxyConnectHeader).
        assert await _status(client, plain.url("/hook")) == 200
        assert forward.asked[1].method == "POST"
        assert "X-Proxy-Tenant" not in forward.asked[1].headers
        # Other headers, another client.
        other = made.client_for({**config, "proxy_connect_header": {"X-Proxy-Tenant": "db"}}, default)
        assert other is not client
    finally:
        await plain.close()


async def test_a_proxy_that_is_down_is_a_retryable_failure(
    clients: tuple[HTTPClients, httpx.AsyncClient],
) -> None:
    made, default = clients
    result = await _status(made.client_for({"proxy_url": "http://127.0.0.1:9"}, default), "http://a.test/x")
    assert isinstance(result, DeliveryResult)
    assert result.retryable


async def test_the_outbound_policy_checks_the_proxys_address(
    clients: tuple[HTTPClients, httpx.AsyncClient], forward: ForwardProxy
) -> None:
    _, default = clients
    strict = HTTPClients(OutboundPolicy(deny_private=True))
    try:
        client = strict.client_for({"proxy_url": forward.url}, default)
        result = await _status(client, "http://hooks.example.org/x")
        assert isinstance(result, DeliveryResult)
        assert not result.retryable
        assert "denied" in result.reason
        assert forward.asked == []
    finally:
        await strict.aclose()
    assert DestinationDenied is not None


async def test_proxy_from_environment(
    clients: tuple[HTTPClients, httpx.AsyncClient], forward: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    made, default = clients
    monkeypatch.setenv("HTTP_PROXY", forward.url)
    monkeypatch.setenv("NO_PROXY", "localhost")
    receiver = await Receiver().start()
    try:
        client = made.client_for({"proxy_from_environment": True}, default)
        assert await _status(client, receiver.url("/env")) == 200
        assert [a.target for a in forward.asked] == [receiver.url("/env")]
    finally:
        await receiver.close()
    monkeypatch.delenv("HTTP_PROXY")
    assert proxy.proxies_of({"proxy_from_environment": True}) is None


@pytest.mark.parametrize(
    ("host", "no_proxy", "direct"),
    [
        ("hooks.example.org", "example.org", True),
        ("hooks.example.org", ".example.org", True),
        ("example.org", ".example.org", True),
        ("badexample.org", "example.org", False),
        ("hooks.example.org", "example.org:443", True),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "10.1.2.3", True),
        ("11.1.2.3", "10.0.0.0/8", False),
        ("::1", "::1/128", True),
        ("anything.test", "*", True),
        ("anything.test", "", False),
    ],
)
def test_no_proxy(host: str, no_proxy: str, direct: bool) -> None:
    proxies = proxy.proxies_of({"proxy_url": "http://proxy:3128", "no_proxy": no_proxy})
    assert proxies is not None
    assert (proxies.for_url("https", host) is None) == direct


@pytest.mark.parametrize(
    ("config", "field", "reason"),
    [
        (
            {"proxy_url": "http://p:1", "proxy_from_environment": True},
            "config.proxy_from_environment",
            "must not",
        ),
        ({"no_proxy": "a.test", "proxy_from_environment": True}, "config.proxy_from_environment", "must not"),
        ({"no_proxy": "a.test"}, "config.no_proxy", "needs proxy_url"),
        ({"proxy_connect_header": {"X": "y"}}, "config.proxy_connect_header", "needs proxy_url"),
    ],
)
def test_proxy_settings_that_do_not_go_together(config: dict[str, object], field: str, reason: str) -> None:
    v = Violations()
    proxy.check(v, config, "config")
    assert [(x.field, reason in x.description) for x in v.items] == [(field, True)]
