"""What the replicas are given to do: a webhook channel and routing, rule groups, and a steady stream of
posted alerts to whichever replicas are running."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.integration.ha.cluster import Replica, ReplicaSet
from tests.integration.ha.receiver import Received

Json = dict[str, Any]

# Every alert its own aggregation group (group_by a label that differs per alert): one notification
# each, sent at once, and never again while it fires (repeat_interval far away). A second notification
# of one alert is then a duplicate, not a repeat.
ROUTING: Json = {
    "receiver": "hook",
    "group_by": ["alertname", "ha_key"],
    "group_wait": "0s",
    "group_interval": "1s",
    "repeat_interval": "1h",
}


async def hook_channel(api: httpx.AsyncClient, url: str, routing: Json | None = None) -> None:
    r = await api.post("/channels", json={"name": "hook", "type": "webhook", "config": {"url": url}})
    assert r.status_code == 201, r.text
    r = await api.put("/routing", json=routing or ROUTING)
    assert r.status_code == 200, r.text


def rule_file(groups: dict[str, list[Json]]) -> str:
    """A Prometheus rule file (YAML is a superset of JSON) of groups evaluated every second."""
    doc = {"groups": [{"name": name, "interval": "1s", "rules": rules} for name, rules in groups.items()]}
    return json.dumps(doc)


def firing_rule(key: str) -> Json:
    """An alerting rule that fires at its first evaluation, without any samples."""
    return {"alert": "HaRule", "expr": "vector(1)", "for": "0s", "labels": {"ha_key": key}}


async def import_rules(api: httpx.AsyncClient, content: str) -> list[Json]:
    r = await api.post("/rules:import", content=content, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 200, r.text
    rules: list[Json] = r.json()["rules"]
    return rules


async def post_alerts(api: httpx.AsyncClient, *labels: dict[str, str]) -> httpx.Response:
    """POST /api/v2/alerts (Alertmanager's API)."""
    return await api.post("/api/v2/alerts", json=[{"labels": lab, "annotations": {}} for lab in labels])


def notified_keys(requests: list[Received], path: str = "/hook") -> dict[str, list[Received]]:
    """ha_key -> the notifications (in arrival order) in which an alert with that key was firing."""
    found: dict[str, list[Received]] = {}
    for request in requests:
        if request.path != path:
            continue
        for labels in request.alert_labels():
            if "ha_key" in labels:
                found.setdefault(labels["ha_key"], []).append(request)
    return found


@dataclass
class Posted:
    key: str
    replica: str
    at: float  # time.time() when the answer came
    status: int | None  # None: no answer (connection refused or reset, timeout)
    error: str = ""


@dataclass
class AlertStream:
    """Posts one new alert (alertname HaPosted, its own ha_key) every `period` seconds, round-robin over
    the replicas running at that moment, each POST on its own task so that a slow answer does not
    slow the stream."""

    replicas: ReplicaSet
    period: float = 0.2
    prefix: str = "p"
    exclude: set[str] = field(default_factory=set)  # replicas not posted to
    posted: list[Posted] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @property
    def accepted(self) -> list[str]:
        """The keys of the alerts a replica answered 200 for: each must be notified."""
        return [p.key for p in self.posted if p.status == 200]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-stream")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        posts: set[asyncio.Task[None]] = set()
        n = 0
        while not self._stop.is_set():
            alive = [r for r in self.replicas.alive if r.name not in self.exclude]
            if alive:
                replica = alive[n % len(alive)]
                task = asyncio.create_task(self._post(replica, f"{self.prefix}{n}"))
                posts.add(task)
                task.add_done_callback(posts.discard)
                n += 1
            await asyncio.sleep(self.period)
        await asyncio.gather(*posts)

    async def _post(self, replica: Replica, key: str) -> None:
        try:
            r = await post_alerts(replica.api, {"alertname": "HaPosted", "ha_key": key})
        except (httpx.HTTPError, RuntimeError, AssertionError) as exc:
            # RuntimeError: the replica's client was closed by its kill; AssertionError: it was down.
            self.posted.append(Posted(key, replica.name, time.time(), None, repr(exc)))
            return
        self.posted.append(Posted(key, replica.name, time.time(), r.status_code, r.text[:200]))

    def summary(self) -> str:
        by_status: dict[str, int] = {}
        for p in self.posted:
            label = str(p.status) if p.status is not None else "no answer"
            by_status[label] = by_status.get(label, 0) + 1
        return f"{len(self.posted)} posts: {by_status}"
