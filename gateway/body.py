"""Reading request bodies: the size limit, and JSON parsing with the REST error body on failure."""

from __future__ import annotations

import json

from starlette.requests import Request

from alerting.jsonmap import JSON
from gateway.errors import GatewayError, invalid_argument

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


def too_large(limit: int) -> GatewayError:
    return GatewayError(413, "RESOURCE_EXHAUSTED", f"request body larger than {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it exceeds `limit` (declared or actual size)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def _reject_constant(name: str) -> JSON:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> JSON:
    """The JSON value of a body; an empty body is an empty object."""
    if not raw.strip():
        return {}
    try:
        value: JSON = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_argument("body", f"malformed JSON: {exc}") from None
    return value
