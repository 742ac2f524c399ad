"""HTTP proxies of a channel, as Prometheus' http_config takes them: `proxy_url` (with `no_proxy`, the
hosts reached directly), or `proxy_from_environment` (HTTP_PROXY, HTTPS_PROXY and NO_PROXY, read when
the channel's client is made); `proxy_connect_header`, headers sent to the proxy with each CONNECT
(the tunnel of an HTTPS request), as Go's Transport.ProxyConnectHeader.

Connections to the proxy go through the outbound policy like any other; the receiver behind it is
the proxy's to reach.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alerting_server.errors import Violations
from alerting_server.validation.fields import FieldSpec, Kind

FIELDS: Mapping[str, FieldSpec] = {
    # A secret: a proxy's address may carry its credentials (http://user:password@proxy:3128).
    "proxy_url": FieldSpec(Kind.URL, secret=True),
    # Comma-separated hosts, domains (`.example.org` or `example.org`: it and below), IP addresses
    # and CIDR ranges reached without the proxy.
    "no_proxy": FieldSpec(Kind.STRING),
    "proxy_from_environment": FieldSpec(Kind.BOOL),
    # A secret: such headers mostly carry the proxy's credentials.
    "proxy_connect_header": FieldSpec(Kind.HEADERS, secret=True),
}


def check(v: Violations, config: Mapping[str, Any], field: str) -> None:
    """How the proxy fields go together (Prometheus' ProxyConfig.Validate)."""
    if config.get("proxy_from_environment") and (config.get("proxy_url") or config.get("no_proxy")):
        v.add(f"{field}.proxy_from_environment", "proxy_url and no_proxy must not be set with it")
    if config.get("no_proxy") and not config.get("proxy_url") and not config.get("proxy_from_environment"):
        v.add(f"{field}.no_proxy", "needs proxy_url")
    if (
        config.get("proxy_connect_header")
        and not config.get("proxy_url")
        and not config.get("proxy_from_environment")
    ):
        v.add(f"{field}.proxy_connect_header", "needs proxy_url or proxy_from_environment")


@dataclass(frozen=True)
class Proxies:
    """The proxy of each URL scheme, and the hosts reached without one."""

    by_scheme: Mapping[str, str]
    no_proxy: tuple[str, ...] = ()
    # Sent to the proxy with each CONNECT, not with the requests it forwards (plain HTTP).
    connect_headers: tuple[tuple[str, str], ...] = ()

    def for_url(self, scheme: str, host: str) -> str | None:
        """The proxy a request to `scheme://host` goes through; None: directly."""
        proxy = self.by_scheme.get(scheme)
        if proxy is None or _bypassed(host, self.no_proxy):
            return None
        return proxy


def proxies_of(config: Mapping[str, Any]) -> Proxies | None:
    """The channel's proxies; None when it has none."""
    url = config.get("proxy_url")
    headers = config.get("proxy_connect_header")
    connect_headers = tuple(sorted(headers.items())) if isinstance(headers, dict) else ()
    if url:
        return Proxies(
            {"http": url, "https": url}, _entries(str(config.get("no_proxy") or "")), connect_headers
        )
    if config.get("proxy_from_environment"):
        found = urllib.request.getproxies_environment()
        by_scheme = {scheme: found[scheme] for scheme in ("http", "https") if found.get(scheme)}
        if not by_scheme:
            return None
        return Proxies(by_scheme, _entries(found.get("no", "")), connect_headers)
    return None


def _entries(text: str) -> tuple[str, ...]:
    return tuple(e.strip().lower() for e in text.split(",") if e.strip())


def _bypassed(host: str, entries: tuple[str, ...]) -> bool:
    host = host.lower().strip("[]")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in entries:
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry.strip("[]"), strict=False):
                    return True
            except ValueError:
                pass
            continue
        domain = entry.lstrip(".").rsplit(":", 1)[0] if entry.count(":") == 1 else entry.lstrip(".")
        if host == domain or host.endswith("." + domain):
            return True
    return False
