from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from alerting_server.errors import NotFound
from alerting_server.model import Ack, Alert, AlertState
from alerting_server.store import Store

NOW = 1_700_000_000_000


def alert(fingerprint: str, **kw: Any) -> Alert:
    base = Alert(
        fingerprint=fingerprint,
        labels={"alertname": "high_cpu", "severity": "warning", "host": fingerprint},
        state=AlertState.PENDING,
        annotations={"summary": "CPU high"},
        rule="high_cpu",
        rule_id="r1",
        value=85.5,
        started_at=NOW,
        updated_at=NOW,
    )
    return dataclasses.replace(base, **kw)


async def test_upsert_inserts_then_overwrites(store: Store) -> None:
    await store.alerts.upsert_many([alert("a"), alert("b")])
    firing = alert(
        "a",
        state=AlertState.FIRING,
        fired_at=NOW + 60_000,
        value=91.0,
        updated_at=NOW + 60_000,
        ack=Ack("alice", "looking", NOW + 61_000),
        silenced_by=("s1",),
        inhibited_by=("i1", "i2"),
        muted_by=("weekend", "night"),
        escalation_level=2,
        generator_url="http://prom/graph",
    )
    await store.alerts.upsert_many([firing])
    assert await store.alerts.get("a") == firing
    assert await store.alerts.all() == [firing, alert("b")]


async def test_every_state_round_trips(store: Store) -> None:
    alerts = [
        alert(state.name, state=state, resolved_at=NOW if state is AlertState.RESOLVED else None)
        for state in AlertState
    ]
    await store.alerts.upsert_many(alerts)
    assert sorted(await store.alerts.all(), key=lambda a: a.state) == alerts


async def test_nan_and_infinite_values_survive(store: Store) -> None:
    await store.alerts.upsert_many([alert("nan", value=math.nan), alert("inf", value=math.inf)])
    assert math.isnan((await store.alerts.get("nan")).value)
    assert (await store.alerts.get("inf")).value == math.inf


async def test_get_missing_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="'zz'"):
        await store.alerts.get("zz")


async def test_delete_many(store: Store) -> None:
    await store.alerts.upsert_many([alert("a"), alert("b"), alert("c")])
    await store.alerts.delete_many(["a", "c", "missing"])
    assert await store.alerts.all() == [alert("b")]
    await store.alerts.delete_many([])
    assert len(await store.alerts.all()) == 1


async def test_upsert_many_is_one_transaction(store: Store) -> None:
    # The second row violates NOT NULL, so the first must not land either.
    broken = dataclasses.replace(alert("b"), started_at=None)  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        await store.alerts.upsert_many([alert("a"), broken])
    assert await store.alerts.all() == []


async def test_keep_firing_since_round_trips(store: Store) -> None:
    kept = alert("k", state=AlertState.FIRING, fired_at=NOW, keep_firing_since=NOW + 60_000)
    await store.alerts.upsert_many([kept, alert("plain")])
    assert await store.alerts.get("k") == kept
    assert (await store.alerts.get("plain")).keep_firing_since is None
    # The series came back: the period is over, and the column is cleared.
    back = dataclasses.replace(kept, keep_firing_since=None)
    await store.alerts.upsert_many([back])
    assert await store.alerts.get("k") == back
