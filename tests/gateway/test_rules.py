from __future__ import annotations

import httpx

from alerting.v1 import rule_service_pb2

from .fakes import EXPORTED, NOW_MS, FakeServer

RULE = {
    "name": "high_cpu_alert",
    "query": "avg(cpu_usage) > 80",
    "duration": "5m",
    "keep_firing_for": "0s",
    "severity": "warning",
    "labels": {"team": "infra"},
    "annotations": {"summary": "High CPU usage detected"},
    "group": "default",
    "interval": "15s",
}


async def test_create_answers_201_with_the_rule_in_rest_shape(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    response = await client.post("/rules", json=RULE)

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "r1"
    assert body["duration"] == "5m"
    assert body["keep_firing_for"] == "0s"
    assert body["interval"] == "15s"
    assert body["labels"] == {"team": "infra"}
    assert body["health"] == "unknown"
    assert body["last_evaluation"] is None
    assert body["last_error"] == ""
    assert body["created_at"] == NOW_MS
    sent = server.last("CreateRule")
    assert isinstance(sent, rule_service_pb2.CreateRuleRequest)
    assert sent.rule.duration.ToMilliseconds() == 300_000
    assert sent.rule.keep_firing_for.ToMilliseconds() == 0
    assert sent.rule.HasField("keep_firing_for")


async def test_get_update_delete_shapes(client: httpx.AsyncClient) -> None:
    created = (await client.post("/rules", json=RULE)).json()

    got = await client.get(f"/rules/{created['id']}")
    assert got.status_code == 200
    assert got.json() == created

    updated = await client.put(f"/rules/{created['id']}", json={**RULE, "duration": "1h30m"})
    assert updated.status_code == 200
    assert updated.json()["duration"] == "1h30m"
    assert updated.json()["id"] == created["id"]

    deleted = await client.delete(f"/rules/{created['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(f"/rules/{created['id']}")).status_code == 404


async def test_list_paginates_with_query_parameters(client: httpx.AsyncClient, server: FakeServer) -> None:
    for i in range(3):
        await client.post("/rules", json={**RULE, "name": f"rule{i}"})

    first = await client.get("/rules", params={"page_size": "2"})
    assert first.status_code == 200
    assert [r["name"] for r in first.json()["rules"]] == ["rule0", "rule1"]
    assert first.json()["next_page_token"] == "2"

    second = await client.get("/rules", params={"page_size": "2", "page_token": "2"})
    assert [r["name"] for r in second.json()["rules"]] == ["rule2"]
    assert second.json()["next_page_token"] == ""
    sent = server.last("ListRules")
    assert isinstance(sent, rule_service_pb2.ListRulesRequest)
    assert (sent.page_size, sent.page_token) == (2, "2")


async def test_empty_list_is_an_empty_array(client: httpx.AsyncClient) -> None:
    response = await client.get("/rules")

    assert response.json() == {"rules": [], "next_page_token": ""}


async def test_import_takes_the_raw_yaml_body(client: httpx.AsyncClient, server: FakeServer) -> None:
    content = (
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n  - alert: B\n    expr: up == 1\n"
    )

    response = await client.post(
        "/rules:import", content=content, headers={"Content-Type": "application/yaml"}
    )

    assert response.status_code == 200
    assert [r["name"] for r in response.json()["rules"]] == ["A", "B"]
    sent = server.last("ImportRules")
    assert isinstance(sent, rule_service_pb2.ImportRulesRequest)
    assert sent.content == content


async def test_export_is_a_yaml_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/rules:export")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.text == EXPORTED


async def test_literal_paths_win_over_templates(client: httpx.AsyncClient, server: FakeServer) -> None:
    # /rules:export is not /rules/{id}, and /alerts/watch is not /alerts/{fingerprint}.
    await client.get("/rules:export")
    await client.get("/alerts/watch")

    assert [c.method for c in server.calls] == ["ExportRules", "WatchAlerts"]
