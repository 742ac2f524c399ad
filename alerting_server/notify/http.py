"""One HTTP attempt on the shared client, with transport failures turned into results."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from alerting_server.errors import Violations
from alerting_server.notify.classify import from_transport_error
from alerting_server.notify.notifier import DeliveryResult
from alerting_server.notify.proxy import Proxies, proxies_of
from alerting_server.outbound import DEFAULT_LIMITS, DestinationDenied, GuardedTransport, OutboundPolicy
from alerting_server.validation.fields import json_type

log = logging.getLogger(__name__)

# Receivers' error bodies are read for their reason; more than this is never needed.
MAX_BODY_BYTES = 64 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def encode_json(payload: object) -> bytes:
    # Compact and UTF-8, as Go's encoding/json writes it; the bytes are what an HMAC signs.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


async def post(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeouts: httpx.Timeout | None = None,
    method: str = "POST",
) -> tuple[httpx.Response, bytes] | DeliveryResult:
    """The response and the start of its body, or the result of a request that got no response."""
    request_headers = {"Content-Type": "application/json", **headers}
    try:
        async with client.stream(
            method,
            url,
            content=body,
            headers=request_headers,
            timeout=timeouts if timeouts is not None else DEFAULT_TIMEOUT,
        ) as response:
            data = b""
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) >= MAX_BODY_BYTES:
                    break
            return response, data[:MAX_BODY_BYTES]
    except httpx.TransportError as e:
        return from_transport_error(e)
    except DestinationDenied as e:
        return DeliveryResult(ok=False, retryable=False, reason=str(e))


# A channel's `tls_config` (Prometheus' tls_config, as Alertmanager's http_config carries it): what
# its HTTPS connections trust, the client certificate they present, the name they verify.
TLS_CONFIG_FILES = ("ca_file", "cert_file", "key_file")


def check_tls_config(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, dict):
        v.add(field, f"must be an object of {', '.join(TLS_CONFIG_FILES)}, server_name, insecure_skip_verify")
        return
    for key, item in value.items():
        where = f"{field}.{key}"
        if key in TLS_CONFIG_FILES:
            if not isinstance(item, str) or not item:
                v.add(where, f"must be a file name, got {json_type(item)}")
            elif not os.path.isfile(item):
                v.add(where, f"no such file {item!r}")
        elif key == "server_name":
            if not isinstance(item, str):
                v.add(where, f"must be a string, got {json_type(item)}")
        elif key == "insecure_skip_verify":
            if not isinstance(item, bool):
                v.add(where, f"must be a boolean, got {json_type(item)}")
        else:
            v.add(
                where,
                "unknown field (known: ca_file, cert_file, key_file, server_name, insecure_skip_verify)",
            )
    if ("cert_file" in value) != ("key_file" in value):
        v.add(field, "cert_file and key_file go together: both are needed for a client certificate")


def tls_context(config: Mapping[str, Any]) -> ssl.SSLContext:
    """The SSL context of a tls_config; OSError or ssl.SSLError when a file does not do."""
    context = ssl.create_default_context(cafile=config.get("ca_file") or None)
    if config.get("cert_file"):
        context.load_cert_chain(config["cert_file"], config.get("key_file") or None)
    if config.get("insecure_skip_verify"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _ProxiedTransport(httpx.AsyncBaseTransport):
    """Each request through the proxy of its URL's scheme (`through`, by scheme), or directly when
    no_proxy names its host."""

    def __init__(self, proxies: Proxies, direct: GuardedTransport, through: Mapping[str, GuardedTransport]):
        self._proxies = proxies
        self._direct = direct
        self._through = through

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self._proxies.for_url(request.url.scheme, request.url.host)
        transport = self._direct if proxy is None else self._through[request.url.scheme]
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in (self._direct, *self._through.values()):
            await transport.aclose()


class HTTPClients:
    """One HTTP client per distinct tls_config and proxy (notify/proxy.py), on the outbound policy's
    guarded network layer; channels with neither share the service's client."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._clients: dict[str, httpx.AsyncClient] = {}

    def client_for(self, config: Mapping[str, Any], default: httpx.AsyncClient) -> httpx.AsyncClient:
        tls_config = config.get("tls_config")
        if not isinstance(tls_config, dict):
            tls_config = {}
        proxies = proxies_of(config)
        if not tls_config and proxies is None:
            return default
        key = json.dumps(
            [tls_config, None if proxies is None else dataclasses.asdict(proxies)], sort_keys=True
        )
        client = self._clients.get(key)
        if client is None:
            context = httpx.create_ssl_context()
            if tls_config:
                try:
                    context = tls_context(tls_config)
                except (OSError, ssl.SSLError) as e:
                    # The system's trust instead: a CA or certificate that cannot be read fails the
                    # handshake with the reason in the delivery, rather than sending unverified.
                    log.error(
                        "tls_config %s cannot be used (%s): the system's CAs are trusted instead",
                        json.dumps(tls_config, sort_keys=True),
                        e,
                    )
                    if proxies is None:
                        return default
            server_name = str(tls_config.get("server_name") or "")

            def transport(proxy: str | None, headers: Sequence[tuple[str, str]] = ()) -> GuardedTransport:
                return GuardedTransport(
                    self._policy,
                    limits=DEFAULT_LIMITS,
                    ssl_context=context,
                    proxy=proxy,
                    proxy_headers=headers,
                    server_name=server_name,
                )

            if proxies is None:
                client = httpx.AsyncClient(transport=transport(None))
            else:
                # The CONNECT headers go with the tunnels of HTTPS only, as Go sends them: a plain
                # request through the proxy does not carry them (the proxy could pass them on).
                through = {
                    scheme: transport(proxy, proxies.connect_headers if scheme == "https" else ())
                    for scheme, proxy in proxies.by_scheme.items()
                }
                client = httpx.AsyncClient(transport=_ProxiedTransport(proxies, transport(None), through))
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
