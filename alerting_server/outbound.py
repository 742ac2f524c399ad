"""Where the server may connect on a caller's behalf (server-side request forgery).

Webhook, Slack and PagerDuty URLs, SMTP smarthosts and remote datasources all name hosts that
someone other than the operator may choose, so they could aim the server at a cloud metadata
service or at hosts behind the firewall. The check is on the address actually connected to, after
DNS resolution, so a name that resolves (or re-resolves, DNS rebinding) to a denied address is
refused too. Link-local and metadata addresses are always denied unless explicitly allowed;
loopback and private ranges only when the operator asks, since many installations deliver to
internal hosts.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import TypeAlias

import httpcore
import httpx

IPAddress: TypeAlias = IPv4Address | IPv6Address
IPNetwork: TypeAlias = IPv4Network | IPv6Network

# Credentials live there: link-local (where most clouds serve instance metadata) and the metadata
# addresses outside it (AWS over IPv6, Alibaba Cloud).
ALWAYS_DENIED: tuple[IPNetwork, ...] = tuple(
    ip_network(n) for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32")
)
# Loopback, RFC 1918, CGNAT, unique local IPv6; "this network" and "::" reach loopback on connect.
PRIVATE: tuple[IPNetwork, ...] = tuple(
    ip_network(n)
    for n in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
        "0.0.0.0/8",
        "::/128",
    )
)
# IPv6 prefixes that embed an IPv4 address in their last 32 bits (RFC 6052 NAT64, RFC 4291 §2.5.5.1).
_EMBEDDING_IPV4 = (ip_network("64:ff9b::/96"), ip_network("::/96"))


class DestinationDenied(Exception):
    """The outbound policy forbids connecting to this address; permanent until the config changes."""

    def __init__(self, address: IPAddress, host: str = "") -> None:
        where = f"{host} ({address})" if host and host != str(address) else str(address)
        super().__init__(f"destination {where} is denied by the outbound policy")
        self.address = address


def normalise(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (::ffff:169.254.169.254 is 169.254.169.254)."""
    if isinstance(address, IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    plain = IPv6Address(int(address))  # without a zone index
    if int(plain) > 1 and any(plain in net for net in _EMBEDDING_IPV4):
        return IPv4Address(int(plain) & 0xFFFFFFFF)
    return plain


def literal_address(host: str) -> IPAddress | None:
    """`host` as an address when it is one, in any spelling a resolver accepts (`[::1]`,
    `fe80::1%eth0`, `2852039166`, `0xa9.0376.43518`); None for a name."""
    host = host.removeprefix("[").removesuffix("]")
    try:
        return normalise(ip_address(host.partition("%")[0]))
    except ValueError:
        pass
    if not host or not all(c.isalnum() or c == "." for c in host):
        return None
    try:
        return IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


@dataclass(frozen=True)
class OutboundPolicy:
    """`allow` wins over everything else; then `deny`, link-local and metadata addresses, and
    (with `deny_private`) loopback and private ranges are refused."""

    deny_private: bool = False
    deny: tuple[IPNetwork, ...] = ()
    allow: tuple[IPNetwork, ...] = ()

    def denies(self, address: IPAddress) -> bool:
        address = normalise(address)
        if _within(address, self.allow):
            return False
        return (
            _within(address, ALWAYS_DENIED)
            or _within(address, self.deny)
            or (self.deny_private and _within(address, PRIVATE))
        )

    def check(self, address: IPAddress, host: str = "") -> None:
        if self.denies(address):
            raise DestinationDenied(normalise(address), host)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address of `host`, each allowed, else DestinationDenied: a name with one denied
        address among allowed ones would let the resolver's order decide."""
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(ip_address(str(info[4][0]).partition("%")[0]) for info in infos))
        for address in addresses:
            self.check(address, host)
        return addresses

    async def connect(self, host: str, port: int) -> socket.socket:
        """A connected socket to the first allowed address of `host` that answers."""
        error = OSError(f"{host} has no address")
        for address in await self.resolve(host, port):
            sock = socket.socket(socket.AF_INET6 if address.version == 6 else socket.AF_INET)
            sock.setblocking(False)
            try:
                await asyncio.get_running_loop().sock_connect(sock, (str(address), port))
            except OSError as exc:
                sock.close()
                error = exc
                continue
            except BaseException:
                sock.close()
                raise
            return sock
        raise error


def _within(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address in net for net in networks)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer, connecting only to the addresses the policy allows. The
    connection is to the checked address; TLS still verifies the URL's host name, which httpcore
    passes to start_tls from the request, and the Host header is the URL's."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._policy.resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout}s") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from None
        error: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on the guarded network layer; DestinationDenied comes out of requests
    as it is, not as a ConnectError, so that callers can tell a refusal from an outage."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
        proxy_headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        """`ssl_context` is what HTTPS connections trust; None means the system's CAs. `proxy`: every
        request goes through this HTTP proxy (CONNECT for HTTPS), whose address the policy checks;
        `proxy_headers` are sent to it with each request (the CONNECT of an HTTPS one)."""
        super().__init__(limits=limits)
        # httpx takes no network backend; its pool does, so the pool is built again with one.
        context = ssl_context or httpx.create_ssl_context()
        backend = _GuardedBackend(policy)
        if proxy is None:
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=backend,
            )
            return
        url = httpx.URL(proxy)
        credentials = (url.username, url.password) if url.username else None
        self._pool = httpcore.AsyncHTTPProxy(
            proxy_url=str(url.copy_with(username=None, password=None)),
            proxy_auth=credentials,
            proxy_headers=list(proxy_headers),
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )
