"""Every REST resource of the contract over real HTTP against the real server process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

SLACK = {"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX", "channel": "#alerts"}


@dataclass(frozen=True)
class Resource:
    path: str
    plural: str
    create: dict[str, Any]
    update: dict[str, Any]
    # Each bad body and the field its error must name.
    bad: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    needs_channel: bool = False

    def numbered(self, i: int) -> dict[str, Any]:
        body = dict(self.create)
        if "name" in body:
            body["name"] = f"{body['name']}-{i}"
        return body


RULE = {
    "name": "high_cpu_alert",
    "query": "avg by (host) (cpu_usage) > 80",
    "duration": "5m",
    "severity": "warning",
    "annotations": {
        "summary": "High CPU usage detected",
        "description": "CPU usage is {{ $value }}% on {{ $labels.host }}",
    },
}

RESOURCES = [
    Resource(
        "/rules",
        "rules",
        RULE,
        {**RULE, "query": "avg(cpu_usage) > 90", "duration": "1h30m", "labels": {"team": "infra"}},
        [
            ({**RULE, "query": "avg(cpu_usage > "}, "query"),
            ({**RULE, "duration": "5 minutes"}, "duration"),
            ({**RULE, "annotations": {"summary": "{{ .Value "}}, "annotations.summary"),
            ({**RULE, "bogus": 1}, "bogus"),
            ({**RULE, "name": ""}, "name"),
            ({**RULE, "labels": {"0bad": "x"}}, "labels"),
        ],
    ),
    Resource(
        "/channels",
        "channels",
        {"name": "ops-slack", "type": "slack", "config": SLACK},
        {"name": "ops-slack", "type": "slack", "config": {**SLACK, "channel": "#ops"}},
        [
            ({"name": "x", "type": "carrier-pigeon", "config": {}}, "type"),
            ({"name": "x", "type": "slack", "config": {"channel": "#a"}}, "config.webhook_url"),
            ({"name": "x", "type": "webhook", "config": {"url": "ftp://nope"}}, "config.url"),
            ({"name": "x", "type": "email", "config": {"to": ["a@example.org"]}}, "config.from"),
        ],
    ),
    Resource(
        "/silences",
        "silences",
        {
            "matchers": ['host="server01"'],
            "ends_at": 4102444800000,
            "created_by": "alice",
            "comment": "maintenance",
        },
        # Same matchers: updated in place, as Alertmanager does.
        {
            "matchers": ['host="server01"'],
            "ends_at": 4102444900000,
            "created_by": "alice",
            "comment": "longer",
        },
        [
            (
                {"matchers": ["host=~"], "ends_at": 4102444800000, "created_by": "a", "comment": "c"},
                "matchers[0]",
            ),
            ({"matchers": [], "ends_at": 4102444800000, "created_by": "a", "comment": "c"}, "matchers"),
            ({"matchers": ['a="b"'], "ends_at": "tomorrow", "created_by": "a", "comment": "c"}, "ends_at"),
        ],
    ),
    Resource(
        "/inhibit-rules",
        "inhibit_rules",
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["host"],
        },
        {},
        [({"source_matchers": ["severity=~("], "target_matchers": ['a="b"']}, "source_matchers[0]")],
    ),
    Resource(
        "/escalation-policies",
        "escalation_policies",
        {
            "name": "infra",
            "levels": [{"after": "0s", "channels": ["ops-slack"], "users": [], "schedules": []}],
            "repeat": 2,
        },
        {
            "name": "infra",
            "levels": [
                {"after": "0s", "channels": ["ops-slack"], "users": [], "schedules": []},
                {"after": "10m", "channels": ["ops-slack"], "users": [], "schedules": []},
            ],
            "repeat": 1,
        },
        [
            ({"name": "p", "levels": [], "repeat": 0}, "levels"),
            (
                {"name": "p", "levels": [{"after": "0s", "channels": ["nope"]}], "repeat": 0},
                "levels[0].channels",
            ),
            ({"name": "p", "levels": [{"after": "0s", "channels": ["ops-slack"]}], "repeat": 10}, "repeat"),
            ({"name": "p", "levels": [{"after": "0s", "users": ["nobody"]}]}, "levels[0].users[0]"),
            ({"name": "p", "levels": [{"after": "0s", "schedules": ["nothing"]}]}, "levels[0].schedules[0]"),
        ],
        needs_channel=True,
    ),
    Resource(
        "/users",
        "users",
        {"name": "ana", "email": "ana@example.org", "time_zone": "Europe/Berlin", "contact_methods": []},
        {"name": "ana", "email": "ana@example.net", "time_zone": "UTC", "contact_methods": []},
        [
            ({"name": "ana", "email": "ana", "time_zone": "UTC"}, "email"),
            ({"name": "ana", "email": "ana@example.org", "time_zone": "Moon/Base"}, "time_zone"),
        ],
    ),
]
BUSINESS_HOURS = {
    "times": [{"start_time": "09:00", "end_time": "17:00"}],
    "weekdays": ["monday:friday"],
    "location": "Europe/Berlin",
}
RESOURCES.append(
    Resource(
        "/time-intervals",
        "time_intervals",
        {"name": "business-hours", "time_intervals": [BUSINESS_HOURS]},
        {
            "name": "business-hours",
            "time_intervals": [
                {"weekdays": ["saturday", "sunday"], "years": ["2025:2030"]},
                {"days_of_month": ["-3:-1"], "months": ["12"], "times": []},
            ],
        },
        [
            (
                {"name": "x", "time_intervals": [{"weekdays": ["friday:monday"]}]},
                "time_intervals[0].weekdays[0]",
            ),
            (
                {"name": "x", "time_intervals": [{"times": [{"start_time": "09:00", "end_time": "24:01"}]}]},
                "time_intervals[0].times[0].end_time",
            ),
            ({"name": "x", "time_intervals": [{}, {"location": "Mars/Base"}]}, "time_intervals[1].location"),
            (
                {"name": "x", "time_intervals": [{"days_of_month": ["-1:5"]}]},
                "time_intervals[0].days_of_month[0]",
            ),
            ({"name": "x", "time_intervals": [{"months": ["smarch"]}]}, "time_intervals[0].months[0]"),
            ({"name": "", "time_intervals": []}, "name"),
        ],
    )
)
IDS = [r.path.strip("/") for r in RESOURCES]


def _make_channel(http: httpx.Client) -> None:
    r = http.post("/channels", json={"name": "ops-slack", "type": "slack", "config": SLACK})
    assert r.status_code == 201, r.text


def _count(http: httpx.Client, res: Resource) -> int:
    r = http.get(res.path, params={"page_size": 1000})
    assert r.status_code == 200, r.text
    return len(r.json()[res.plural])


def _definition(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource without what evaluation writes into it (a new rule is evaluated at once)."""
    return {k: v for k, v in resource.items() if k not in _EVALUATED}


_EVALUATED = {"health", "last_evaluation", "last_error", "last_evaluation_duration"}


@pytest.mark.parametrize("res", RESOURCES, ids=IDS)
def test_create_get_list_update_delete(http: httpx.Client, res: Resource) -> None:
    if res.needs_channel:
        _make_channel(http)
    r = http.post(res.path, json=res.create)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"]
    assert isinstance(created["created_at"], int)
    assert created["created_at"] > 1_600_000_000_000
    for key, value in res.create.items():
        if key != "config":
            assert created[key] == value, key

    r = http.get(f"{res.path}/{created['id']}")
    assert r.status_code == 200
    assert _definition(r.json()) == _definition(created)

    listed = http.get(res.path).json()
    assert [item["id"] for item in listed[res.plural]] == [created["id"]]
    assert listed["next_page_token"] == ""

    if res.update:
        r = http.put(f"{res.path}/{created['id']}", json=res.update)
        assert r.status_code == 200, r.text
        updated = r.json()
        assert updated["id"] == created["id"]
        assert updated["created_at"] == created["created_at"]
        for key, value in res.update.items():
            if key != "config":
                assert updated[key] == value, key
        assert _definition(http.get(f"{res.path}/{created['id']}").json()) == _definition(updated)

    r = http.delete(f"{res.path}/{created['id']}")
    assert r.status_code == 204
    assert r.content == b""
    if res.path == "/silences":
        # Deleting a silence expires it; it stays readable.
        assert http.get(f"/silences/{created['id']}").json()["state"] == "expired"
    else:
        r = http.get(f"{res.path}/{created['id']}")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("res", [r for r in RESOURCES if "name" in r.create], ids=lambda r: r.path)
def test_a_named_resource_is_reached_by_its_name(http: httpx.Client, res: Resource) -> None:
    if res.needs_channel:
        _make_channel(http)
    created = http.post(res.path, json=res.create).json()
    path = f"{res.path}/{res.create['name']}"
    r = http.get(path)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["id"]
    r = http.put(path, json=res.update)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["id"]
    assert http.delete(path).status_code == 204
    r = http.get(f"{res.path}/{created['id']}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("res", RESOURCES, ids=IDS)
def test_bad_input_names_the_field_and_stores_nothing(http: httpx.Client, res: Resource) -> None:
    if res.needs_channel:
        _make_channel(http)
    before = _count(http, res)
    for body, field_name in res.bad:
        r = http.post(res.path, json=body)
        assert r.status_code == 400, (body, r.text)
        error = r.json()["error"]
        assert error["code"] == "INVALID_ARGUMENT"
        fields = [d["field"] for d in error["details"]]
        assert any(f == field_name or f.startswith(field_name) for f in fields), (body, error)
        assert all(d["description"] for d in error["details"])
    assert _count(http, res) == before


@pytest.mark.parametrize("res", [r for r in RESOURCES if "name" in r.create], ids=lambda r: r.path)
def test_duplicate_names_are_already_exists(http: httpx.Client, res: Resource) -> None:
    if res.needs_channel and res.path != "/channels":
        _make_channel(http)
    assert http.post(res.path, json=res.create).status_code == 201
    before = _count(http, res)
    r = http.post(res.path, json=res.create)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "ALREADY_EXISTS"
    assert _count(http, res) == before


def test_pagination_walks_every_rule_once(http: httpx.Client) -> None:
    names = {f"rule-{i}" for i in range(7)}
    for name in sorted(names):
        assert http.post("/rules", json={**RULE, "name": name}).status_code == 201
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        r = http.get("/rules", params={"page_size": 3, "page_token": token})
        assert r.status_code == 200
        body = r.json()
        assert len(body["rules"]) <= 3
        seen += [rule["name"] for rule in body["rules"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(names)
    r = http.get("/rules", params={"page_token": "garbage"})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "page_token"


def test_channel_secrets_are_redacted_and_kept_on_update(http: httpx.Client) -> None:
    created = http.post(
        "/channels",
        json={
            "name": "hook",
            "type": "webhook",
            "config": {"url": "http://127.0.0.1:9/x", "hmac_secret": "s3cret"},
        },
    ).json()
    assert created["config"]["hmac_secret"] == "<secret>"
    assert "s3cret" not in http.get("/channels").text
    # Sending the redacted value back keeps the stored secret; a real value replaces it.
    r = http.put(
        f"/channels/{created['id']}",
        json={
            "name": "hook",
            "type": "webhook",
            "config": {"url": "http://127.0.0.1:9/y", "hmac_secret": "<secret>"},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["config"] == {"url": "<secret>", "hmac_secret": "<secret>"}


@pytest.mark.parametrize(
    ("type", "config", "secrets", "missing"),
    [
        (
            "opsgenie",
            {"api_key": "genie-key", "api_url": "https://api.eu.opsgenie.com/", "tags": "a,b"},
            ("api_key",),
            "config.api_key",
        ),
        (
            "victorops",
            {"api_key": "vo-key", "routing_key": "ops", "custom_fields": {"team": "db"}},
            ("api_key",),
            "config.routing_key",
        ),
        (
            "pushover",
            {"user_key": "u-key", "token": "app-token", "ttl": "1h"},
            ("user_key", "token"),
            "config.token",
        ),
    ],
)
def test_alertmanagers_other_integrations_are_channel_types(
    http: httpx.Client, type: str, config: dict[str, Any], secrets: tuple[str, ...], missing: str
) -> None:
    made = http.post("/channels", json={"name": f"{type}-ch", "type": type, "config": config})
    assert made.status_code == 201, made.text
    assert made.json()["type"] == type
    shown = http.get(f"/channels/{type}-ch").json()["config"]
    assert shown == {**config, **dict.fromkeys(secrets, "<secret>")}
    # Sent back as read, the secrets are kept.
    kept = http.put(f"/channels/{type}-ch", json={"name": f"{type}-ch", "type": type, "config": shown})
    assert kept.status_code == 200, kept.text
    bad = http.post(
        "/channels",
        json={
            "name": f"{type}-bad",
            "type": type,
            "config": {k: v for k, v in config.items() if f"config.{k}" != missing},
        },
    )
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["details"][0]["field"] == missing


def test_a_channel_without_a_name_gets_a_unique_readable_one(http: httpx.Client) -> None:
    body = {"type": "slack", "config": {**SLACK, "channel": "#Alerts Room"}}
    first = http.post("/channels", json=body)
    assert first.status_code == 201, first.text
    second = http.post("/channels", json=body)
    assert second.status_code == 201, second.text
    assert (first.json()["name"], second.json()["name"]) == ("slack-alerts-room", "slack-alerts-room-2")
    assert http.get("/channels/slack-alerts-room-2").json()["id"] == second.json()["id"]

    hook = {"type": "webhook", "config": {"url": "http://hooks.example.com:9/secret-token-path"}}
    named = http.post("/channels", json=hook).json()["name"]
    assert named == "webhook-hooks-example-com"
    pager = http.post("/channels", json={"type": "pagerduty", "config": {"routing_key": "R0UT1NGKEY"}})
    assert pager.json()["name"] == "pagerduty", pager.text
    mail = {
        "type": "email",
        "config": {"to": ["On.Call@example.org"], "from": "a@example.org", "smarthost": "127.0.0.1:25"},
    }
    assert http.post("/channels", json=mail).json()["name"] == "email-on-call-example-org"
    # Without a name the config is still checked, and nothing is stored.
    bad = http.post("/channels", json={"type": "slack", "config": {"channel": "#x"}})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "config.webhook_url"
    assert "slack-x" not in http.get("/channels").text


def test_silence_update_with_new_matchers_replaces_it(http: httpx.Client) -> None:
    body = {"matchers": ['host="a"'], "ends_at": 4102444800000, "created_by": "alice", "comment": "c"}
    old = http.post("/silences", json=body).json()
    r = http.put(f"/silences/{old['id']}", json={**body, "matchers": ['host="b"']})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] != old["id"]
    assert new["matchers"] == ['host="b"']
    assert http.get(f"/silences/{old['id']}").json()["state"] == "expired"
    r = http.put(f"/silences/{new['id']}", json={**body, "matchers": []})
    assert r.status_code == 400
    assert http.get(f"/silences/{new['id']}").json() == new


def test_routing_tree_round_trip_and_validation(http: httpx.Client) -> None:
    assert http.get("/routing").status_code == 404
    _make_channel(http)
    tree = {
        "receiver": "ops-slack",
        "group_by": ["alertname"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
        "matchers": [],
        "continue": False,
        "escalation_policy_id": "",
        "routes": [
            {
                "matchers": ['severity="critical"'],
                "receiver": "ops-slack",
                "continue": True,
                "group_by": [],
                "group_wait": None,
                "group_interval": None,
                "repeat_interval": None,
                "escalation_policy_id": "",
                "routes": [],
                "problems": [],
                "mute_time_intervals": [],
                "active_time_intervals": [],
                "source": "",
            }
        ],
        # Output only: what cannot deliver (none here), and what owns the tree (the API); sent back,
        # they are ignored.
        "problems": [],
        "mute_time_intervals": [],
        "active_time_intervals": [],
        "source": "",
    }
    r = http.put("/routing", json=tree)
    assert r.status_code == 200, r.text
    assert r.json() == tree
    assert http.get("/routing").json() == tree
    r = http.put("/routing", json={**tree, "receiver": "nobody"})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "receiver"
    assert http.get("/routing").json() == tree


def test_rules_import_and_export_prometheus_files(http: httpx.Client) -> None:
    rule_file = """
groups:
  - name: node
    interval: 30s
    rules:
      - record: instance:cpu:avg
        expr: avg by (instance) (cpu_usage)
      - alert: HighCPU
        expr: instance:cpu:avg > 80
        for: 5m
        labels: {severity: critical, team: infra}
        annotations: {summary: "CPU {{ $value }} on {{ $labels.instance }}"}
"""
    r = http.post("/rules:import", content=rule_file, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 200, r.text
    rules = r.json()["rules"]
    assert [(x["name"], x["type"], x["group"]) for x in rules] == [
        ("instance:cpu:avg", "recording", "node"),
        ("HighCPU", "alerting", "node"),
    ]
    assert rules[1]["severity"] == "critical"
    assert rules[1]["labels"] == {"team": "infra"}
    assert rules[1]["interval"] == "30s"
    assert rules[1]["duration"] == "5m"
    exported = http.get("/rules:export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    assert "alert: HighCPU" in exported.text
    assert "severity: critical" in exported.text
    # Importing the export again replaces the group: no duplicates.
    r = http.post("/rules:import", content=exported.text, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 200
    assert len(http.get("/rules").json()["rules"]) == 2
    bad = http.post(
        "/rules:import", content="groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: 'sum('\n"
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"].startswith("content.groups[0].rules[0].expr")
    assert len(http.get("/rules").json()["rules"]) == 2


def test_malformed_json_and_unknown_route(http: httpx.Client) -> None:
    r = http.post("/rules", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "INVALID_ARGUMENT"
    assert http.get("/no-such-thing").status_code == 404


def test_alerts_list_is_empty_and_filter_is_validated(http: httpx.Client) -> None:
    r = http.get("/alerts", params={"state": "firing", "filter": '{host="server01"}'})
    assert r.status_code == 200, r.text
    assert r.json() == {"alerts": [], "next_page_token": ""}
    r = http.get("/alerts", params={"filter": "{host=~"})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "filter"
    r = http.get("/alerts/doesnotexist")
    assert r.status_code == 404


def test_operations_endpoints(http: httpx.Client) -> None:
    assert http.get("/healthz").status_code == 200
    assert http.get("/readyz").status_code == 200
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/rules", "/rules/{id}", "/channels", "/silences", "/routing", "/escalation-policies"):
        assert path in spec["paths"], path
    metrics = http.get("/metrics")
    assert metrics.status_code == 200
