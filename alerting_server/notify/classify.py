"""Which failures are worth retrying, as DESIGN.md says: timeouts, connection errors, 5xx, 408 and
429 are; any other 4xx is permanent and carries the receiver's reason."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import unicodedata
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

import httpx

from alerting_server.notify.notifier import DeliveryResult

# A receiver's answer is shown in delivery records and logs: an excerpt tells why, more is its noise.
MAX_REASON_LENGTH = 200
REDACTED = "<secret>"


def is_retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def from_response(response: httpx.Response, reason: str, now_ms: int) -> DeliveryResult:
    """A failed response as a result; `reason` is the receiver's own explanation, already scrubbed."""
    status = response.status_code
    prefix = f"HTTP {status}"
    return DeliveryResult(
        ok=False,
        retryable=is_retryable_status(status),
        status_code=status,
        retry_after_ms=parse_retry_after(response.headers.get("retry-after"), now_ms),
        reason=f"{prefix}: {reason}" if reason else prefix,
    )


def from_alertmanager_response(
    response: httpx.Response, reason: str, now_ms: int, retry_codes: tuple[int, ...] = ()
) -> DeliveryResult:
    """As from_response, retried as Alertmanager's notify.Retrier does for the integration: 5xx,
    and the integration's own `retry_codes`."""
    result = from_response(response, reason, now_ms)
    status = response.status_code
    return dataclasses.replace(result, retryable=status // 100 == 5 or status in retry_codes)


def from_transport_error(error: httpx.TransportError) -> DeliveryResult:
    # The exception's text can carry the request URL, and so a token in it: only its kind is told.
    kind = type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        return DeliveryResult(ok=False, retryable=True, reason=f"timed out ({kind})")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return DeliveryResult(ok=False, retryable=False, reason=f"cannot send the request ({kind})")
    return DeliveryResult(ok=False, retryable=True, reason=f"connection failed ({kind})")


def parse_retry_after(value: str | None, now_ms: int) -> int | None:
    """Retry-After as a delay in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value) * 1000
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" parses as naive; HTTP dates are GMT.
        when = when.replace(tzinfo=dt.UTC)
    return max(0, int(when.timestamp() * 1000) - now_ms)


def url_secrets(url: str) -> list[str]:
    """The parts of a URL that may carry a token: whole, path, query and its values, password."""
    parts = urlsplit(url)
    found = [url, parts.query, parts.password or ""]
    found += [value for _, value in parse_qsl(parts.query)]
    if len(parts.path) > 1:
        found.append(parts.path)
    return [s for s in found if s]


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced, on one line, without control characters (terminal escapes,
    bidirectional overrides), cut to a length fit for a log line."""
    text = " ".join(text.split())
    # Format characters (Cf) too: U+202E can make a log line read backwards.
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    if len(text) > MAX_REASON_LENGTH:
        text = text[: MAX_REASON_LENGTH - 1] + "…"
    return text
