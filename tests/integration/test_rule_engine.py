"""The rule engine in the real server process: event-driven alerts, restarts, deletes, recording rules."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.integration.server import ServerProcess

Json = dict[str, object]


def _wait(check: Callable[[], object], timeout: float = 5.0) -> object:
    """Polls `check` until it returns something truthy; its last answer goes into the failure."""
    deadline = time.monotonic() + timeout
    last = check()
    while not last and time.monotonic() < deadline:
        time.sleep(0.05)
        last = check()
    assert last, f"not reached within {timeout}s"
    return last


def _post_sample(http: httpx.Client, name: str, value: float, **labels: str) -> None:
    sample = {"name": name, "labels": labels, "value": value}
    http.post("/samples", json={"samples": [sample]}).raise_for_status()


def _alerts(http: httpx.Client, **params: str) -> list[Json]:
    r = http.get("/alerts", params=params)
    r.raise_for_status()
    alerts: list[Json] = r.json()["alerts"]
    return alerts


def _create(http: httpx.Client, **rule: object) -> Json:
    r = http.post("/rules", json=rule)
    assert r.status_code in (200, 201), r.text
    created: Json = r.json()
    return created


def test_threshold_crossing_fires_without_waiting_for_the_tick(http: httpx.Client) -> None:
    _create(http, name="HighCPU", query="cpu_usage > 80", duration="0s", severity="critical", interval="1h")
    _post_sample(http, "cpu_usage", 50, host="a")
    time.sleep(0.3)
    assert _alerts(http) == []
    began = time.monotonic()
    _post_sample(http, "cpu_usage", 95.5, host="a")
    firing = _wait(lambda: _alerts(http, state="firing"), timeout=3)
    assert time.monotonic() - began < 3
    assert isinstance(firing, list)
    (alert,) = firing
    assert alert["labels"] == {"alertname": "HighCPU", "severity": "critical", "host": "a"}
    assert alert["value"] == 95.5
    assert alert["rule"] == "HighCPU"


def test_pending_survives_sigkill_with_its_started_at(server: ServerProcess, http: httpx.Client) -> None:
    _create(http, name="Slow", query="queue_depth > 10", duration="1m", interval="1h")
    _post_sample(http, "queue_depth", 50, queue="q1")
    pending = _wait(lambda: _alerts(http, state="pending"))
    assert isinstance(pending, list)
    started = pending[0]["started_at"]
    # The alert stage commits behind; give it its step before pulling the plug.
    time.sleep(1.0)
    server.kill()
    server.start()
    with httpx.Client(base_url=server.base_url, timeout=10) as again:
        _post_sample(again, "queue_depth", 60, queue="q1")
        time.sleep(1.0)
        after = _alerts(again)
        assert [(a["state"], a["started_at"]) for a in after] == [("pending", started)]


def test_keep_firing_for_survives_sigkill_and_ends_on_time(server: ServerProcess, http: httpx.Client) -> None:
    keep_ms = 5000
    rule = _create(
        http, name="Flaky", query="errors > 10", duration="0s", keep_firing_for="5s", interval="1h"
    )
    _post_sample(http, "errors", 50, job="a")
    _wait(lambda: _alerts(http, state="firing"))

    def evaluated_since(t: int) -> object:
        last = http.get(f"/rules/{rule['id']}").json()["last_evaluation"]
        return last if last is not None and last >= t else None

    posted = int(time.time() * 1000)
    _post_sample(http, "errors", 0, job="a")
    # The interval is 1h: the only evaluation after `posted` is the one this write caused, the
    # first without the series, which starts the keep_firing_for period (rule health lags by up to 1s).
    since = _wait(lambda: evaluated_since(posted))
    assert isinstance(since, int)
    assert [a["state"] for a in _alerts(http)] == ["firing"]
    # The alert stage commits behind; give it its step before pulling the plug.
    time.sleep(1.5)
    killed = int(time.time() * 1000)
    server.kill()
    server.start()
    with httpx.Client(base_url=server.base_url, timeout=10) as again:
        assert [a["state"] for a in _alerts(again)] == ["firing"]

        def resolved() -> list[Json]:
            _post_sample(again, "errors", 0, job="a")  # each write is an evaluation (at most one a second)
            time.sleep(0.1)
            return _alerts(again, state="resolved")

        done = _wait(resolved, timeout=keep_ms / 1000 + 10)
        assert isinstance(done, list)
        (alert,) = done
    # Not before the period is over, and not a period counted from the restart (which would end
    # keep_ms after the kill at the earliest).
    resolved_at = alert["resolved_at"]
    assert since + keep_ms <= resolved_at < killed + keep_ms, (resolved_at - since, killed - since)


def test_groups_without_interval_evaluate_at_the_configured_one(tmp_path: Path) -> None:
    proc = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--rules-evaluation-interval", "1s"]
    )
    proc.start()
    try:
        with httpx.Client(base_url=proc.base_url, timeout=10) as http:
            rule = _create(http, name="Hot", query="temp > 30", duration="0s")
            _post_sample(http, "temp", 40, room="a")
            _wait(lambda: _alerts(http, state="firing"))
            seen: set[int | None] = set()

            def evaluations() -> bool:
                seen.add(http.get(f"/rules/{rule['id']}").json()["last_evaluation"])
                time.sleep(0.1)
                return len(seen - {None}) >= 6

            # Two evaluations came from the create and the write; no write since, so only periodic
            # evaluations (15s apart by default, at most one in this time) make the others.
            _wait(evaluations, timeout=8)
    finally:
        proc.kill()


def test_deleting_a_rule_resolves_its_alerts(http: httpx.Client) -> None:
    rule = _create(http, name="Down", query="up == 0", duration="0s", interval="1h")
    _post_sample(http, "up", 0, job="api")
    _wait(lambda: _alerts(http, state="firing"))
    http.delete(f"/rules/{rule['id']}").raise_for_status()
    resolved = _wait(lambda: _alerts(http, state="resolved"))
    assert isinstance(resolved, list)
    assert [a["labels"] for a in resolved] == [{"alertname": "Down", "job": "api"}]
    assert _alerts(http, state="firing") == []


def test_recording_rule_feeds_an_alerting_rule(http: httpx.Client) -> None:
    group = """
groups:
  - name: errors
    interval: 1h
    rules:
      - record: job:errors:sum
        expr: sum by (job) (errors)
      - alert: ManyErrors
        expr: job:errors:sum > 10
        labels: {severity: page}
"""
    r = http.post("/rules:import", content=group, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 200, r.text
    _post_sample(http, "errors", 6, job="web", instance="1")
    _post_sample(http, "errors", 7, job="web", instance="2")
    firing = _wait(lambda: _alerts(http, state="firing"))
    assert isinstance(firing, list)
    assert [(a["labels"], a["value"]) for a in firing] == [
        ({"alertname": "ManyErrors", "severity": "page", "job": "web"}, 13.0)
    ]


def test_a_failing_rule_reports_its_error_and_others_keep_evaluating(http: httpx.Client) -> None:
    # Two series on each side with the same `job`: many-to-many matching fails at evaluation.
    bad = _create(http, name="Bad", query="req * on (job) lim", duration="0s", group="bad", interval="1h")
    _create(http, name="Good", query="temp > 30", duration="0s", group="good", interval="1h")
    # One request: a rule evaluated between two posts would see a single pair, match it one-to-one and
    # fire, and an evaluation that fails later keeps the alerts it had (as Prometheus does).
    both = [
        {"name": name, "labels": {"job": "x", "instance": i}, "value": 1}
        for i in ("1", "2")
        for name in ("req", "lim")
    ]
    http.post("/samples", json={"samples": both}).raise_for_status()
    _post_sample(http, "temp", 40, room="a")

    def bad_health() -> Json | None:
        rule: Json = http.get(f"/rules/{bad['id']}").json()
        return rule if rule["health"] == "err" else None

    rule = _wait(bad_health)
    assert isinstance(rule, dict)
    assert "many-to-many" in str(rule["last_error"])
    assert rule["last_evaluation"] is not None
    firing = _wait(lambda: _alerts(http, state="firing"))
    assert isinstance(firing, list)
    assert [a["rule"] for a in firing] == ["Good"]
    listed = {r["name"]: r for r in http.get("/rules").json()["rules"]}
    assert listed["Good"]["health"] == "ok"
    metrics = http.get("/metrics").text
    assert 'alerting_rule_evaluation_failures_total{rule_group="bad"}' in metrics


def test_the_readmes_first_rule_says_which_host(http: httpx.Client) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    body = re.search(r"-X POST localhost:8080/rules -H '[^']*' -d '([^']*)'", readme)
    assert body is not None
    rule = json.loads(body.group(1))
    assert rule["name"] == "high_cpu_alert"
    _create(http, **rule)
    _post_sample(http, "cpu_usage", 85.5, host="server01")
    pending = _wait(lambda: _alerts(http, state="pending"), timeout=3)
    assert isinstance(pending, list)
    assert pending[0]["annotations"]["description"] == "CPU usage is 85.5% on server01"
