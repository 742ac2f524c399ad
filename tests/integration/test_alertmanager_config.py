"""A real server started with --alertmanager-config: alerts reach a real webhook receiver through
the file's route; the file is changed and reloaded by POST /-/reload and by SIGHUP; a file that does
not load changes nothing and is reported (log line, metrics, status)."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.server import ServerProcess
from tests.integration.test_delivery import eventually
from tests.notify.receiver import Receiver

CONFIG = """\
route:
  receiver: blackhole
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  routes:
    - matchers: [team="ops"]
      receiver: ops
receivers:
  - name: blackhole
  - name: ops
    webhook_configs:
      - url: '{url}'
        http_config:
          authorization: {{credentials: s3cret-token}}
"""


async def post(api: httpx.AsyncClient, labels: dict[str, str]) -> None:
    r = await api.post("/api/v2/alerts", json=[{"labels": labels}])
    assert r.status_code == 200, r.text


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


@pytest.fixture
async def setup(
    tmp_path: Path,
) -> AsyncIterator[tuple[ServerProcess, httpx.AsyncClient, Receiver, Receiver, Path]]:
    first, second = await Receiver().start(), await Receiver().start()
    path = tmp_path / "alertmanager.yml"
    path.write_text(CONFIG.format(url=first.url("/one")))
    server = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--alertmanager-config", str(path)]
    )
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
            yield server, api, first, second, path
    finally:
        server.kill()
        await first.close()
        await second.close()


async def test_file_routes_reloads_and_refuses_a_bad_file(
    setup: tuple[ServerProcess, httpx.AsyncClient, Receiver, Receiver, Path],
) -> None:
    server, api, first, second, path = setup
    channels = (await api.get("/channels")).json()["channels"]
    assert [(c["name"], c["source"], c["receiver"]) for c in channels] == [("ops", str(path), "ops")]
    ops_id = channels[0]["id"]

    await post(api, {"alertname": "Nobody", "team": "none"})
    await post(api, {"alertname": "Disk", "team": "ops"})

    async def got_one() -> bool:
        return bool(first.requests)

    await eventually(got_one, 15, "the file's webhook to be called")
    body = first.requests[0].json()
    assert isinstance(body, dict)
    assert body["receiver"] == "ops"
    assert [a["labels"]["alertname"] for a in body["alerts"]] == ["Disk"]
    assert first.requests[0].headers["authorization"] == "Bearer s3cret-token"
    # The blackhole receiver routes nowhere, and is not reported as missing.
    assert not any("blackhole" in line and "no channel" in line for line in server.output)

    # What the file owns is not the API's to change.
    r = await api.delete(f"/channels/{ops_id}")
    assert r.status_code == 412, r.text
    assert f"owned by {path}; change the file and reload" in r.json()["error"]["message"]
    assert (await api.put("/routing", json={"receiver": "ops"})).status_code == 412

    status = (await api.get("/api/v2/status")).json()
    assert "s3cret-token" not in status["config"]["original"]
    assert "credentials: <secret>" in status["config"]["original"]
    metrics = (await api.get("/metrics")).text
    assert metric(metrics, "alerting_config_last_reload_successful") == 1
    assert metric(metrics, "alerting_config_last_reload_success_timestamp_seconds") > 0

    # Changed and reloaded through POST /-/reload: the channel keeps its id, sends elsewhere.
    path.write_text(CONFIG.format(url=second.url("/two")))
    r = await api.post("/-/reload")
    assert r.status_code == 200, r.text
    (channel,) = (await api.get("/channels")).json()["channels"]
    assert channel["id"] == ops_id
    # The delivery side read the channel again before the reload was answered: no wait.
    await post(api, {"alertname": "Memory", "team": "ops"})

    async def got_two() -> bool:
        return any(
            "Memory" in [a["labels"]["alertname"] for a in r.json()["alerts"]]  # type: ignore[index]
            for r in second.requests
        )

    await eventually(got_two, 15, "the reloaded webhook to be called")

    # A bad file: nothing changes, the reload says why, the metric drops, the status keeps the old file.
    path.write_text(CONFIG.format(url=first.url("/one")).replace("receiver: ops", "receiver: opz"))
    r = await api.post("/-/reload")
    assert r.status_code == 400, r.text
    (violation,) = r.json()["error"]["details"]
    assert violation == {
        "field": "alertmanager_config.route.routes[0].receiver",
        "description": 'line 8: undefined receiver "opz" used in route',
    }
    metrics = (await api.get("/metrics")).text
    assert metric(metrics, "alerting_config_last_reload_successful") == 0
    (channel,) = (await api.get("/channels")).json()["channels"]
    assert channel["config"]["url"] == "<secret>"
    assert (await api.get("/routing")).json()["routes"][0]["receiver"] == "ops"
    assert any("loading the Alertmanager configuration" in line and "opz" in line for line in server.output)

    # SIGHUP reads it again: fixed, it loads; the webhook of the first receiver is back.
    path.write_text(CONFIG.format(url=first.url("/again")).replace("Disk", "x"))
    assert server.proc is not None
    server.proc.send_signal(signal.SIGHUP)

    async def reloaded() -> bool:
        text = (await api.get("/metrics")).text
        return metric(text, "alerting_config_last_reload_successful") == 1

    await eventually(reloaded, 15, "SIGHUP to reload the file")
    await post(api, {"alertname": "Again", "team": "ops"})

    async def got_again() -> bool:
        return any(r.path == "/again" for r in first.requests)

    await eventually(got_again, 15, "the webhook after SIGHUP to be called")


async def test_a_bad_file_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text("route: {receiver: x}\nreceivers: []\n")
    server = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--alertmanager-config", str(path)]
    )
    with pytest.raises(RuntimeError, match='undefined receiver "x" used in route'):
        server.start()


async def test_check_import_export_over_rest(api: httpx.AsyncClient, receiver: Receiver) -> None:
    yaml_body = {"Content-Type": "application/yaml"}
    text = CONFIG.format(url=receiver.url("/hook"))
    checked = await api.post("/config/check", content="route: {receiver: x}\n", headers=yaml_body)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is False
    assert checked.json()["problems"][0]["field"] == "route.receiver"

    r = await api.post("/config/import", params={"name": "am.yml"}, content=text, headers=yaml_body)
    assert r.status_code == 200, r.text
    assert r.json()["created_channels"] == ["ops"]
    (channel,) = (await api.get("/channels")).json()["channels"]
    assert channel["source"] == "import:am.yml"
    assert (await api.delete(f"/channels/{channel['id']}")).status_code == 412

    await post(api, {"alertname": "Imported", "team": "ops"})

    async def delivered() -> bool:
        return bool(receiver.requests)

    await eventually(delivered, 15, "the imported route to deliver")

    exported = await api.get("/config/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    assert "url: <secret>" in exported.text
    assert "s3cret-token" not in exported.text
    status = await api.get("/config/status")
    assert status.json()["source"] == "import:am.yml"
    # No file to reload on this server.
    assert (await api.post("/-/reload")).status_code == 412


OTHERS = """\
global:
  opsgenie_api_key: genie-key
  victorops_api_url: '{url}/victorops/'
route:
  receiver: pager
  group_by: [alertname]
  group_wait: 0s
receivers:
  - name: pager
    opsgenie_configs:
      - api_url: '{url}/opsgenie/'
        tags: '{{{{ .CommonLabels.team }}}}'
    victorops_configs:
      - api_key: vo-key
        routing_key: '{{{{ .CommonLabels.team }}}}'
"""


async def test_opsgenie_and_victorops_receivers_of_a_file_deliver(tmp_path: Path) -> None:
    receiver = await Receiver().start()
    path = tmp_path / "alertmanager.yml"
    path.write_text(OTHERS.format(url=receiver.url("").rstrip("/")))
    server = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--alertmanager-config", str(path)]
    )
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
            channels = (await api.get("/channels")).json()["channels"]
            assert sorted((c["name"], c["type"]) for c in channels) == [
                ("pager-opsgenie-0", "opsgenie"),
                ("pager-victorops-0", "victorops"),
            ]
            assert {c["config"]["api_key"] for c in channels} == {"<secret>"}
            await post(api, {"alertname": "Down", "team": "db"})

            async def both() -> bool:
                return len(receiver.requests) >= 2

            await eventually(both, 15, "OpsGenie and VictorOps notifications")
    finally:
        server.kill()
        await receiver.close()
    by_path = {r.path: r for r in receiver.requests}
    created = by_path["/opsgenie/v2/alerts"]
    assert created.headers["authorization"] == "GenieKey genie-key"
    body = created.json()
    assert isinstance(body, dict)
    assert (body["message"], body["tags"]) == ("[FIRING:1] Down (db)", ["db"])
    incident = by_path["/victorops/vo-key/db"].json()
    assert isinstance(incident, dict)
    assert incident["entity_id"] == body["alias"]
    assert incident["message_type"] == "CRITICAL"


async def test_alertmanagers_own_good_file_starts_the_server(tmp_path: Path) -> None:
    path = Path("/work/shared/conformance/alertmanager/config/conf.good.yml")
    server = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--alertmanager-config", str(path)]
    )
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
            channels = (await api.get("/channels")).json()["channels"]
    finally:
        server.kill()
    types = {c["name"]: c["type"] for c in channels}
    assert (types["victorOps-receiver"], types["opsGenie-receiver"], types["pushover-receiver"]) == (
        "victorops",
        "opsgenie",
        "pushover",
    )
    assert len(types) == 10
