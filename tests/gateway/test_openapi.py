from __future__ import annotations

import httpx
from starlette.routing import Route

from gateway import create_app
from gateway.openapi import openapi_path


async def test_every_served_route_is_documented(client: httpx.AsyncClient) -> None:
    app = create_app("127.0.0.1:1")
    document = (await client.get("/openapi.json")).json()

    served = {
        (openapi_path(route.path), method.lower())
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}

    assert document["openapi"].startswith("3.0")
    assert served == documented
    assert ("/rules:import", "post") in served
    assert ("/alerts/watch", "get") in served


async def test_operations_describe_the_rest_shape(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths, schemas = document["paths"], document["components"]["schemas"]

    create = paths["/rules"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/alerting.v1.Rule"
    }
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/alerting.v1.Rule"
    }
    assert "204" in paths["/rules/{id}"]["delete"]["responses"]
    assert [p["name"] for p in paths["/rules/{id}"]["get"]["parameters"]] == ["id"]
    assert {p["name"] for p in paths["/alerts"]["get"]["parameters"]} == {
        "state",
        "rule",
        "filter",
        "acknowledged",
        "page_size",
        "page_token",
        "silenced",
        "inhibited",
        "muted",
        "receiver",
    }
    assert "application/yaml" in paths["/rules:export"]["get"]["responses"]["200"]["content"]
    assert "application/yaml" in paths["/rules:import"]["post"]["requestBody"]["content"]
    assert "Last-Event-ID" in [p["name"] for p in paths["/alerts/watch"]["get"]["parameters"]]

    rule = schemas["alerting.v1.Rule"]["properties"]
    assert rule["duration"]["type"] == "string"
    assert rule["created_at"]["type"] == "integer"
    assert rule["created_at"]["nullable"] is True
    assert rule["health"]["enum"] == ["unspecified", "unknown", "ok", "err"]
    assert rule["labels"] == {"type": "object", "additionalProperties": {"type": "string"}}
    route = schemas["alerting.v1.Route"]["properties"]
    assert "continue" in route
    assert route["routes"]["items"] == {"$ref": "#/components/schemas/alerting.v1.Route"}
    assert schemas["alerting.v1.Alert"]["properties"]["ack"] == {
        "allOf": [{"$ref": "#/components/schemas/alerting.v1.Ack"}],
        "nullable": True,
    }
