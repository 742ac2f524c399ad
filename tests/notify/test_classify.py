from __future__ import annotations

import httpx
import pytest

from alerting_server.notify.classify import (
    from_alertmanager_response,
    is_retryable_status,
    parse_retry_after,
    scrub,
    url_secrets,
)

NOW = 1_700_000_000_000  # Tue, 14 Nov 2023 22:13:20 GMT


@pytest.mark.parametrize(("status", "retry"), [(500, True), (503, True), (408, True), (429, True)])
def test_retryable_statuses(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
def test_other_4xx_are_permanent(status: int) -> None:
    assert not is_retryable_status(status)


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        (None, None),
        ("7", 7_000),
        (" 0 ", 0),
        ("Tue, 14 Nov 2023 22:13:50 GMT", 30_000),
        ("Tue, 14 Nov 2023 22:13:50 -0000", 30_000),
        ("Tue, 14 Nov 2023 22:00:00 GMT", 0),  # in the past: now
        ("soon", None),
        ("-3", None),
        ("1.5", None),
    ],
)
def test_retry_after_as_seconds_or_http_date(value: str | None, ms: int | None) -> None:
    assert parse_retry_after(value, NOW) == ms


def test_scrub_removes_secrets_and_bounds_length() -> None:
    assert scrub("bad token abc123 for abc123x", ["abc123"]) == "bad token <secret> for <secret>x"
    assert scrub("multi\nline\r\n  text", []) == "multi line text"
    assert len(scrub("x" * 10_000, [])) == 200
    assert scrub("nothing", ["", "zz"]) == "nothing"


def test_scrub_strips_control_and_format_characters() -> None:
    assert scrub("\x1b[31mred\x1b[0m\x00 ok\u202egnp.exe", []) == "[31mred[0m okgnp.exe"
    assert scrub("tab\there\x0bvt", []) == "tab here vt"


def test_url_secrets_cover_path_query_and_password() -> None:
    found = url_secrets("https://u:pw@hooks.example/services/T0/B0/XYZ?token=abc")
    assert "/services/T0/B0/XYZ" in found
    assert "token=abc" in found
    assert "pw" in found
    assert url_secrets("http://host/") == ["http://host/"]


@pytest.mark.parametrize(
    ("status", "codes", "retry"),
    [
        (500, (), True),
        (503, (), True),
        (429, (), False),
        (408, (), False),
        (429, (429,), True),
        (400, (429,), False),
    ],
)
def test_alertmanagers_retrier_retries_5xx_and_the_integrations_codes(
    status: int, codes: tuple[int, ...], retry: bool
) -> None:
    response = httpx.Response(status, headers={"Retry-After": "7"})
    result = from_alertmanager_response(response, "why", 0, codes)
    assert (result.ok, result.retryable, result.status_code) == (False, retry, status)
    assert (result.reason, result.retry_after_ms) == (f"HTTP {status}: why", 7000)
