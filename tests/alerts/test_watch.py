from __future__ import annotations

import asyncio

import pytest

from alerting_server.alerts.watch import EventType, WatchHub
from alerting_server.errors import FailedPrecondition, ResourceExhausted
from alerting_server.model import Alert, AlertState


def alert(fp: str, state: AlertState = AlertState.FIRING) -> Alert:
    return Alert(fingerprint=fp, labels={"alertname": fp}, state=state)


async def test_snapshot_then_live_events_with_monotonic_revisions() -> None:
    hub = WatchHub()
    hub.publish([(EventType.CREATED, alert("a"))])
    first, sub = hub.subscribe(0, lambda: [alert("a")])
    assert [(e.type, e.alert.fingerprint, e.revision) for e in first] == [(EventType.SNAPSHOT, "a", 1)]
    hub.publish([(EventType.CREATED, alert("b")), (EventType.RESOLVED, alert("a", AlertState.RESOLVED))])
    assert [(await sub.next()).revision for _ in range(2)] == [2, 3]


async def test_resume_gets_exactly_what_was_missed() -> None:
    hub = WatchHub()
    hub.publish([(EventType.CREATED, alert(str(i))) for i in range(5)])
    first, _ = hub.subscribe(3, list)
    assert [e.revision for e in first] == [4, 5]
    first, _ = hub.subscribe(5, list)
    assert first == []


async def test_resume_from_a_dropped_or_future_revision_is_failed_precondition() -> None:
    hub = WatchHub(retained=3)
    hub.publish([(EventType.CREATED, alert(str(i))) for i in range(6)])
    # Retained: 4, 5, 6. Resuming after 3 misses nothing; after 2 it would miss 3.
    assert [e.revision for e in hub.subscribe(3, list)[0]] == [4, 5, 6]
    with pytest.raises(FailedPrecondition, match="no longer retained"):
        hub.subscribe(2, list)
    with pytest.raises(FailedPrecondition, match="ahead"):
        hub.subscribe(7, list)


async def test_a_slow_subscriber_is_cut_off_without_slowing_the_publisher() -> None:
    hub = WatchHub(subscriber_buffer=2)
    _, slow = hub.subscribe(0, list)
    _, fast = hub.subscribe(0, list)
    hub.publish([(EventType.CREATED, alert("a")), (EventType.CREATED, alert("b"))])
    assert (await fast.next()).revision == 1
    assert (await fast.next()).revision == 2
    hub.publish([(EventType.CREATED, alert("c"))])
    assert hub.subscribers == 1
    assert (await fast.next()).revision == 3
    # What was buffered still arrives; then the cut-off says where to resume.
    assert [(await slow.next()).revision for _ in range(2)] == [1, 2]
    with pytest.raises(ResourceExhausted, match="resume with since_revision=2"):
        await slow.next()


async def test_next_waits_for_a_publish() -> None:
    hub = WatchHub()
    _, sub = hub.subscribe(0, list)
    waiting = asyncio.create_task(sub.next())
    await asyncio.sleep(0)
    assert not waiting.done()
    hub.publish([(EventType.CREATED, alert("a"))])
    assert (await waiting).alert.fingerprint == "a"
    hub.unsubscribe(sub)
    assert hub.subscribers == 0


async def test_a_subscriber_falling_behind_while_its_consumer_is_busy_is_told_once() -> None:
    hub = WatchHub(subscriber_buffer=2)
    _, stuck = hub.subscribe(0, list)
    _, reading = hub.subscribe(0, list)
    calls: list[str] = []
    stuck.on_overflow = lambda: calls.append("stuck")
    reading.on_overflow = lambda: calls.append("reading")
    waiting = asyncio.create_task(reading.next())
    await asyncio.sleep(0)
    hub.publish([(EventType.CREATED, alert(name)) for name in "abc"])
    hub.publish([(EventType.CREATED, alert("d"))])
    # The reading one was waiting when it fell behind: its next() says so, no callback.
    assert calls == ["stuck"]
    assert (await waiting).revision == 1
    # Cut off, the stuck one's buffered events are dropped: it ends at once.
    error = stuck.cut_off()
    assert "resume with since_revision=0" in str(error)
    with pytest.raises(ResourceExhausted):
        await stuck.next()
