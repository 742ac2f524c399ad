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
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import TypeAlias

import aiohttp
import aiohttp.abc
import httpx
import yarl

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


class _GuardedResolver(aiohttp.abc.AbstractResolver):
    """Names resolved to the addresses the policy allows, every one checked (OutboundPolicy.resolve);
    a literal address never reaches a resolver, so GuardedTransport checks those itself."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in await self._policy.resolve(host, port)
        ]

    async def close(self) -> None:
        pass


DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
_KEEPALIVE_S = 5.0


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface on aiohttp's connection pool and C parser, connecting only to
    addresses the policy allows: the connection is to the checked address, TLS verifies the URL's
    host name (or `server_name`) and the Host header is the URL's. DestinationDenied comes out of
    requests as it is, not as a ConnectError, so that callers can tell a refusal from an outage;
    aiohttp's failures come out as the httpx exceptions of the same kind.

    httpx's own pool (httpcore, pure Python) cost about a millisecond of CPU a request, and grew with
    the connections it held: every request looked at each of them."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
        proxy_headers: Sequence[tuple[str, str]] = (),
        server_name: str = "",
    ) -> None:
        """`ssl_context` is what HTTPS connections trust; None means the system's CAs. `proxy`: every
        request goes through this HTTP proxy (CONNECT for HTTPS), whose address the policy checks;
        `proxy_headers` are sent to it with each request (the CONNECT of an HTTPS one).
        `server_name`: the name TLS verifies (and sends as SNI) instead of the URL's host."""
        self._policy = policy
        self._limits = limits
        self._ssl = ssl_context or httpx.create_ssl_context()
        self._server_name = server_name or None
        self._proxy: yarl.URL | None = None
        self._proxy_headers = list(proxy_headers)
        # The proxy's credentials: on the CONNECT of an HTTPS request, on the request itself otherwise.
        self._proxy_auth: list[tuple[str, str]] = []
        if proxy is not None:
            url = yarl.URL(proxy)
            if url.user is not None:
                credentials = aiohttp.encode_basic_auth(url.user, url.password or "", "latin1")
                self._proxy_auth = [("Proxy-Authorization", credentials)]
            self._proxy = url.with_user(None)
        self._session: aiohttp.ClientSession | None = None

    def _session_now(self) -> aiohttp.ClientSession:
        # Made on first use: an aiohttp session belongs to the event loop it was made on.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                limit_per_host=0,
                ssl=self._ssl,
                resolver=_GuardedResolver(self._policy),
                # Every new connection resolves and checks again (DNS rebinding).
                use_dns_cache=False,
                keepalive_timeout=self._limits.keepalive_expiry or _KEEPALIVE_S,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # httpx decodes the body and keeps cookies at its own layer.
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    def _check_literal(self, host: str) -> None:
        address = literal_address(host)
        if address is not None:
            self._policy.check(address, host)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._check_literal(request.url.host)
        if self._proxy is not None and self._proxy.host is not None:
            self._check_literal(self._proxy.host)
        timeouts = request.extensions.get("timeout", {})
        connect, pool = timeouts.get("connect"), timeouts.get("pool")
        timeout = aiohttp.ClientTimeout(
            total=None,
            # Waiting for a pooled connection, resolving and connecting.
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=timeouts.get("read"),
        )
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "content-length"]
        proxy_headers = self._proxy_headers
        if request.url.scheme == "https":
            proxy_headers = proxy_headers + self._proxy_auth
        else:
            headers += self._proxy_auth
        body = await request.aread()
        url = request.url
        if url.userinfo:
            # httpx has made the URL's credentials an Authorization header; aiohttp would refuse both.
            url = url.copy_with(userinfo=b"")
        try:
            response = await self._session_now().request(
                request.method,
                yarl.URL(str(url), encoded=True),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=timeout,
                proxy=self._proxy,
                proxy_headers=proxy_headers or None,
                server_hostname=self._server_name,
            )
        except (aiohttp.ClientError, TimeoutError) as e:
            raise _as_httpx(e, request) from e
        version = response.version or aiohttp.HttpVersion11
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(response, request),
            request=request,
            extensions={
                "http_version": f"HTTP/{version.major}.{version.minor}".encode(),
                "reason_phrase": (response.reason or "").encode(),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as e:
            raise _as_httpx(e, self._request) from e

    async def aclose(self) -> None:
        # A body not read to its end leaves the connection in no state to be used again.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


def _as_httpx(error: BaseException, request: httpx.Request) -> httpx.TransportError:
    """aiohttp's failure as the httpx exception of its kind (notify/classify.py reads those)."""
    message = str(error) or type(error).__name__
    kind: type[httpx.TransportError]
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(error, TimeoutError):
        kind = httpx.ReadTimeout
    elif isinstance(error, aiohttp.ClientProxyConnectionError | aiohttp.ClientHttpProxyError):
        kind = httpx.ProxyError
    elif isinstance(error, aiohttp.ClientConnectorError | aiohttp.ClientSSLError):
        kind = httpx.ConnectError
    elif isinstance(error, aiohttp.InvalidURL):
        kind = httpx.UnsupportedProtocol
    elif isinstance(error, aiohttp.ClientOSError):
        kind = httpx.ReadError
    else:
        # The server hung up, sent what is not HTTP, or cut its body short.
        kind = httpx.RemoteProtocolError
    return kind(message, request=request)
