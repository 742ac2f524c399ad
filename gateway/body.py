"""Reading request bodies: the size limit, the media type, and JSON parsing with the REST error body
on failure."""

from __future__ import annotations

import json

from starlette.requests import Request

from alerting_common.jsonmap import JSON
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


# What a web page may send to another origin without asking first (a CORS "simple" request): a
# body of these types is never taken for an API call, so that such a page cannot make one.
_SIMPLE_MEDIA_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def unsupported_media_type(message: str) -> GatewayError:
    return GatewayError(415, "INVALID_ARGUMENT", message)


async def read_json(request: Request, limit: int) -> JSON:
    """The JSON value of the body, which must be declared `application/json` unless it is empty."""
    raw = await read_body(request, limit)
    if raw.strip() and media_type(request) != "application/json":
        raise unsupported_media_type(
            f"expected Content-Type: application/json, got {request.headers.get('content-type', 'none')!r}"
        )
    return parse_json(raw)


async def read_document(request: Request, limit: int) -> bytes:
    """A body taken as a document (a rule file) of whichever type, but none a web page may send."""
    if media_type(request) in _SIMPLE_MEDIA_TYPES:
        raise unsupported_media_type(f"{request.headers['content-type']!r} is not accepted for this body")
    return await read_body(request, limit)


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
