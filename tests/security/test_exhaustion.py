"""Alerts, aggregation groups and watchers are bounded: past each limit the caller is told, what is held
keeps working, and the server's memory does not grow with what a caller sends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from alerting.client import AsyncAlertingClient, ResourceExhaustedError
from alerting.v1 import alert_service_pb2 as alert_pb
from alerting_server.alerts import Dispatcher, compile_routes
from alerting_server.alerts.watch import WatchHub
from alerting_server.config import ConfigError, from_mapping
from alerting_server.errors import ResourceExhausted
from alerting_server.model import PostedAlert, Route, Rule
from alerting_server.model.rule import RuleHealth
from alerting_server.pipeline import AlertPipeline
from alerting_server.query.tsdb import TSDB
from alerting_server.rules.group import Group
from alerting_server.rules.vector import QueryFunc, VectorSample
from alerting_server.store import Store
from tests.alerts.helpers import SEC, T0, Clock, firing, pipeline_store, resolved, webhook
from tests.integration.server import ServerProcess


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    route = Route(receiver="ops", group_by=("host",), group_wait=30 * SEC)
    async with pipeline_store(tmp_path, [webhook("ops")], route) as s:
        yield s


def cpu(host: str, summary: str = "hot", ends_at: int | None = None) -> PostedAlert:
    return PostedAlert({"alertname": "HighCPU", "host": host}, {"summary": summary}, T0, ends_at)


# --- alerts ------------------------------------------------------------------------------------


async def test_posted_alerts_past_the_limit_are_refused_and_held_ones_still_update(store: Store) -> None:
    clock = Clock()
    m = AlertPipeline(store, clock, WatchHub(), max_alerts=2)
    await m.load()
    with pytest.raises(ResourceExhausted, match=r"1 of 3 alerts refused.*limits\.max_alerts"):
        await m.post([cpu("a"), cpu("b"), cpu("c")])
    # What fitted was taken and committed.
    assert sorted(a.labels["host"] for a in m.alerts()) == ["a", "b"]
    assert len(await store.alerts.all()) == 2
    assert m.room() == 0

    # Updates of held alerts are never refused, also beside a new one that is.
    with pytest.raises(ResourceExhausted, match="1 of 3 alerts refused"):
        await m.post([cpu("a", "hotter"), cpu("d"), cpu("b", "hotter")])
    assert {a.labels["host"]: a.annotations["summary"] for a in m.alerts()} == {"a": "hotter", "b": "hotter"}
    assert len(await m.post([cpu("a", "hottest")])) == 1

    # A resolved alert holds its place until it is dropped; then there is room again.
    await m.post([cpu("b", ends_at=T0)])
    with pytest.raises(ResourceExhausted):
        await m.post([cpu("c")])
    clock.now = T0 + 16 * 60 * SEC
    await m.tick(clock.now)
    assert [a.labels["host"] for a in m.alerts()] == ["a"]
    [fp] = await m.post([cpu("c")])
    assert m.get(fp).labels["host"] == "c"


def query_of(*hosts: str) -> QueryFunc:
    def query(expr: str, ts: int) -> list[VectorSample]:
        return [VectorSample((("host", h),), 1.0) for h in hosts]

    return query


def test_a_rule_keeps_no_new_alert_past_the_room_and_its_health_says_so() -> None:
    room = [3]
    group = Group(
        "g",
        [
            Rule(id="r1", name="Hot", query="up", duration=0),
            Rule(id="r2", name="Cold", query="up", duration=0),
        ],
        alert_room=lambda: room[0],
    )
    db = TSDB(retention_ms=1 << 62)
    out = group.eval(0, query_of("a", "b"), db)
    # The first rule took two places, the second the one left.
    assert len(out.changes) == 3
    assert [s.health for s in group.status] == [RuleHealth.OK, RuleHealth.ERR]
    assert "1 new alerts not kept" in group.status[1].last_error
    assert "limits.max_alerts" in group.status[1].last_error
    assert sorted(a.labels["alertname"] for a in group.alerts()) == ["Cold", "Hot", "Hot"]

    # Held alerts go on updating with no room at all, and the one left out comes when there is room.
    room[0] = 0
    group.eval(SEC, query_of("a", "b"), db)
    assert len(group.alerts()) == 3
    room[0] = 1
    out = group.eval(2 * SEC, query_of("a", "b"), db)
    assert [c.alert.labels["alertname"] for c in out.changes] == ["Cold"]
    assert [s.health for s in group.status] == [RuleHealth.OK, RuleHealth.OK]
    assert len(group.alerts()) == 4


# --- aggregation groups ------------------------------------------------------------------------


def limit_reached() -> float:
    return REGISTRY.get_sample_value("alerting_aggregation_group_limit_reached_total") or 0.0


def test_alerts_past_the_group_limit_are_counted_and_grouped_once_a_group_closes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    d = Dispatcher(compile_routes(Route(receiver="ops", group_by=("host",), group_wait=0)), max_groups=1)
    a, b = firing({"alertname": "X", "host": "a"}, T0), firing({"alertname": "X", "host": "b"}, T0)
    before = limit_reached()
    d.ingest([a, b], T0)
    d.ingest([b], T0)
    assert [g.labels for g in d.groups()] == [{"host": "a"}]
    assert limit_reached() - before == 2
    [record] = [r for r in caplog.records if "limits.max_aggregation_groups" in r.getMessage()]
    assert 'host="b"' in record.getMessage()

    d.due(T0)
    d.ingest([resolved(a, T0 + SEC)], T0 + SEC)
    d.due(T0 + 10 * 60 * SEC)  # the resolved group notifies and closes
    assert d.groups() == []
    d.ingest([b], T0 + 10 * 60 * SEC)
    assert [g.labels for g in d.groups()] == [{"host": "b"}]


# --- watchers ----------------------------------------------------------------------------------


def test_watchers_past_the_limit_are_refused_until_one_closes() -> None:
    hub = WatchHub(max_subscribers=2)
    _, first = hub.subscribe(0, list)
    hub.subscribe(0, list)
    with pytest.raises(ResourceExhausted, match=r"limits\.max_watchers"):
        hub.subscribe(0, list)
    hub.unsubscribe(first)
    hub.subscribe(0, list)
    assert hub.subscribers == 2


# --- configuration -----------------------------------------------------------------------------


def test_limits_are_configured_under_limits() -> None:
    config = from_mapping({"limits": {"max_alerts": 5, "max_aggregation_groups": 6, "max_watchers": 7}})
    assert (config.limits_max_alerts, config.limits_max_aggregation_groups, config.limits_max_watchers) == (
        5,
        6,
        7,
    )
    with pytest.raises(ConfigError, match=r"limits\.max_watchers: must be a positive integer"):
        from_mapping({"limits": {"max_watchers": 0}})
    with pytest.raises(ConfigError, match="limits: expected a map of"):
        from_mapping({"limits": {"max_silences": 1}})


# --- over the wire -----------------------------------------------------------------------------


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[ServerProcess]:
    config = tmp_path / "config.yml"
    config.write_text("limits:\n  max_alerts: 2\n  max_watchers: 1\n")
    proc = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--config", str(config)]
    )
    proc.start()
    yield proc
    proc.kill()


def posted(host: str, summary: str = "hot") -> dict[str, object]:
    return {"labels": {"alertname": "HighCPU", "host": host}, "annotations": {"summary": summary}}


async def test_a_server_at_its_limits_says_so_over_http_and_grpc(limited: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=limited.base_url, timeout=10) as http:
        answer = await http.post("/api/v2/alerts", json=[posted("a"), posted("b"), posted("c")])
        assert answer.status_code == 429
        assert "1 of 3 alerts refused" in answer.json()
        assert (await http.post("/api/v2/alerts", json=[posted("a", "hotter")])).status_code == 200
        held = (await http.get("/api/v2/alerts")).json()
        assert {a["labels"]["host"]: a["annotations"]["summary"] for a in held} == {"a": "hotter", "b": "hot"}

        async with AsyncAlertingClient(limited.grpc_target) as client:
            first = client.watch_alerts()
            assert (await anext(first)).type == alert_pb.ALERT_EVENT_TYPE_SNAPSHOT
            with pytest.raises(ResourceExhaustedError, match=r"limits\.max_watchers"):
                await anext(client.watch_alerts())
            sse = await http.get("/alerts/watch")
            assert sse.status_code == 429
            assert sse.json()["error"]["code"] == "RESOURCE_EXHAUSTED"
            assert "limits.max_watchers" in sse.json()["error"]["message"]
            await first.aclose()
