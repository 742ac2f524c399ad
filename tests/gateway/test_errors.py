from __future__ import annotations

import grpc
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from gateway import create_app
from gateway.errors import guarded

from .fakes import FakeServer

RULE = {"name": "a", "query": "up == 0", "duration": "5m"}


async def test_bad_request_details_become_the_error_details(client: httpx.AsyncClient) -> None:
    response = await client.post("/rules", json={"name": "no_query"})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "INVALID_ARGUMENT",
            "message": "invalid rule",
            "details": [{"field": "query", "description": "must not be empty"}],
        }
    }


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("INVALID_ARGUMENT", 400),
        ("UNAUTHENTICATED", 401),
        ("PERMISSION_DENIED", 403),
        ("NOT_FOUND", 404),
        ("ALREADY_EXISTS", 409),
        ("FAILED_PRECONDITION", 412),
        ("RESOURCE_EXHAUSTED", 429),
        ("UNIMPLEMENTED", 501),
        ("UNAVAILABLE", 503),
        ("DEADLINE_EXCEEDED", 504),
        ("CANCELLED", 500),
    ],
)
async def test_grpc_status_maps_to_http(client: httpx.AsyncClient, code: str, status: int) -> None:
    response = await client.get(f"/silences/{code}")

    assert response.status_code == status
    assert response.json() == {"error": {"code": code, "message": f"failing with {code}", "details": []}}


async def test_internal_errors_do_not_leak_the_server_message(client: httpx.AsyncClient) -> None:
    response = await client.get("/silences/INTERNAL")

    assert response.status_code == 500
    assert response.json()["error"]["message"] == "internal error"


@pytest.mark.parametrize(
    ("body", "field", "description"),
    [
        ({**RULE, "colour": "red"}, "colour", "unknown field"),
        ({**RULE, "duration": "5 minutes"}, "duration", "not a valid duration string"),
        ({**RULE, "duration": 300}, "duration", 'expected a duration string such as "5m"'),
        ({**RULE, "name": 3}, "name", "expected a string"),
        ({**RULE, "labels": ["team"]}, "labels", "expected a JSON object"),
        ({**RULE, "labels": {"team": 1}}, "labels.team", "expected a string"),
        (
            {**RULE, "type": "sometimes"},
            "type",
            "unknown value 'sometimes', expected one of: alerting, recording",
        ),
        ({**RULE, "created_at": "yesterday"}, "created_at", "not a valid timestamp"),
        ([RULE], "body", "expected a JSON object"),
    ],
)
async def test_body_errors_are_400_naming_the_field(
    client: httpx.AsyncClient, server: FakeServer, body: object, field: str, description: str
) -> None:
    response = await client.post("/rules", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert error["details"][0]["field"] == field
    assert error["details"][0]["description"].startswith(description)
    assert field in error["message"]
    assert server.calls == []


async def test_unknown_channel_type_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/channels", json={"name": "x", "type": "foo", "config": {}})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {
            "field": "type",
            "description": "unknown value 'foo', expected one of: "
            "email, slack, pagerduty, webhook, opsgenie, victorops, pushover",
        }
    ]


@pytest.mark.parametrize("raw", [b"{", b'{"name": NaN}', b"\xff\xfe"])
async def test_malformed_json_is_400(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post("/rules", content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "body"
    assert response.json()["error"]["details"][0]["description"].startswith("malformed JSON")


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient, server: FakeServer) -> None:
    response = await client.post("/rules", json={**RULE, "query": "x" * 5000})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "RESOURCE_EXHAUSTED"
    assert server.calls == []


async def test_streamed_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> object:
        for _ in range(10):
            yield b" " * 1000

    response = await client.post("/rules", content=chunks(), headers={"Content-Type": "application/json"})  # type: ignore[arg-type]

    assert response.status_code == 413


async def test_unknown_path_and_wrong_method_use_the_error_body(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    wrong = await client.patch("/rules")

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "UNIMPLEMENTED"


async def test_authorization_header_is_passed_as_metadata(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    await client.get("/rules", headers={"Authorization": "Bearer s3cret"})
    await client.get("/rules")

    assert [c.authorization for c in server.calls] == ["Bearer s3cret", None]


async def test_unexpected_exceptions_are_a_generic_500(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("database password is hunter2")

    endpoint = guarded(broken)
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b""}

    response = await endpoint(Request(scope))

    assert response.status_code == 500
    assert b"hunter2" not in response.body
    assert b'"code":"INTERNAL"' in response.body
    assert "hunter2" in caplog.text


async def test_unreachable_server_is_503() -> None:
    channel = grpc.aio.insecure_channel("127.0.0.1:1")
    app = create_app("127.0.0.1:1", channel=channel, timeout=5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        response = await http.get("/rules")
    await channel.close(None)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "UNAVAILABLE"
