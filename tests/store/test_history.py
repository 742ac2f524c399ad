from __future__ import annotations

from alerting_server.model import AlertHistoryEvent, AlertState, HistoryEventType
from alerting_server.pagination import PageRequest
from alerting_server.store import Store

NOW = 1_700_000_000_000


async def test_append_assigns_ids_and_lists_in_order(store: Store) -> None:
    events = [
        AlertHistoryEvent("a", HistoryEventType.STATE_CHANGE, NOW, state=AlertState.PENDING, value=81.0),
        AlertHistoryEvent("b", HistoryEventType.STATE_CHANGE, NOW, state=AlertState.PENDING),
        AlertHistoryEvent(
            "a", HistoryEventType.STATE_CHANGE, NOW + 60_000, state=AlertState.FIRING, value=85.5
        ),
        # Same millisecond as the firing: insertion order decides.
        AlertHistoryEvent(
            "a",
            HistoryEventType.NOTIFICATION,
            NOW + 60_000,
            channel="ops-slack",
            outcome="delivered",
            attempts=2,
        ),
        AlertHistoryEvent("a", HistoryEventType.ESCALATION, NOW + 120_000, level=1, message="to pager"),
        AlertHistoryEvent("a", HistoryEventType.ACKNOWLEDGED, NOW + 130_000, by="alice", comment="looking"),
    ]
    stored = await store.history.append(events)
    assert all(event.id for event in stored)
    assert len({event.id for event in stored}) == len(stored)
    page = await store.history.list("a", PageRequest())
    assert page.items == [stored[0], *stored[2:]]
    assert page.next_page_token == ""


async def test_events_appended_later_with_an_earlier_time_sort_by_time(store: Store) -> None:
    late = await store.history.append([AlertHistoryEvent("a", HistoryEventType.SILENCED, NOW + 10)])
    early = await store.history.append([AlertHistoryEvent("a", HistoryEventType.UNSILENCED, NOW)])
    assert (await store.history.list("a", PageRequest())).items == early + late


async def test_an_id_given_is_kept(store: Store) -> None:
    event = AlertHistoryEvent("a", HistoryEventType.INHIBITED, NOW, id="e-1")
    assert await store.history.append([event]) == [event]
    assert (await store.history.list("a", PageRequest())).items == [event]


async def test_list_pages(store: Store) -> None:
    stored = await store.history.append(
        [
            AlertHistoryEvent("a", HistoryEventType.STATE_CHANGE, NOW + i, state=AlertState.FIRING)
            for i in range(5)
        ]
    )
    first = await store.history.list("a", PageRequest(size=3))
    second = await store.history.list("a", PageRequest.parse(3, first.next_page_token, "history"))
    assert first.items + second.items == stored
    assert second.next_page_token == ""


async def test_unknown_alert_has_no_history(store: Store) -> None:
    assert (await store.history.list("nope", PageRequest())).items == []
