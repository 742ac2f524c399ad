"""One HTTP attempt on the shared client, with transport failures turned into results."""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

from alerting_server.notify.classify import from_transport_error
from alerting_server.notify.notifier import DeliveryResult
from alerting_server.outbound import DestinationDenied

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
) -> tuple[httpx.Response, bytes] | DeliveryResult:
    """The response and the start of its body, or the result of a request that got no response."""
    request_headers = {"Content-Type": "application/json", **headers}
    try:
        async with client.stream(
            "POST",
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
