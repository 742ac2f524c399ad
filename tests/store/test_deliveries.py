from __future__ import annotations

import math

import pytest

from alerting_server.errors import NotFound
from alerting_server.model import Alert, AlertState, Delivery, DeliveryStatus
from alerting_server.model.notification import NotificationPayload
from alerting_server.pagination import PageRequest
from alerting_server.store import Store

NOW = 1_700_000_000_000
ALL = PageRequest()


def delivery(channel_id: str, status: DeliveryStatus, fingerprints: tuple[str, ...], at: int) -> Delivery:
    return Delivery(
        id="",
        channel_id=channel_id,
        status=status,
        group_key='{}:{alertname="high_cpu"}',
        fingerprints=fingerprints,
        idempotency_key=f"key-{at}",
        created_at=at,
        updated_at=at,
    )


async def test_add_get_and_payload(store: Store) -> None:
    payload = {"version": "4", "alerts": [{"labels": {"alertname": "high_cpu"}, "status": "firing"}]}
    added = await store.deliveries.add(delivery("c1", DeliveryStatus.PENDING, ("b", "a", "b"), NOW), payload)
    assert added.id
    assert await store.deliveries.get(added.id) == added
    assert await store.deliveries.payload(added.id) == payload


async def test_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="'d1'"):
        await store.deliveries.get("d1")
    with pytest.raises(NotFound, match="'d1'"):
        await store.deliveries.payload("d1")


async def test_list_filters(store: Store) -> None:
    d1 = await store.deliveries.add(delivery("c1", DeliveryStatus.PENDING, ("a", "b"), NOW), {})
    d2 = await store.deliveries.add(delivery("c1", DeliveryStatus.DELIVERED, ("b",), NOW + 1), {})
    d3 = await store.deliveries.add(delivery("c2", DeliveryStatus.FAILED, ("a",), NOW + 2), {})
    d4 = await store.deliveries.add(delivery("c2", DeliveryStatus.PENDING, (), NOW + 3), {})
    assert (await store.deliveries.list(ALL)).items == [d1, d2, d3, d4]
    assert (await store.deliveries.list(ALL, channel_id="c1")).items == [d1, d2]
    assert (await store.deliveries.list(ALL, fingerprint="a")).items == [d1, d3]
    assert (await store.deliveries.list(ALL, status=DeliveryStatus.PENDING)).items == [d1, d4]
    assert (await store.deliveries.list(ALL, "c1", "b", DeliveryStatus.DELIVERED)).items == [d2]
    assert (await store.deliveries.list(ALL, fingerprint="zz")).items == []


async def test_list_pages(store: Store) -> None:
    added = [
        await store.deliveries.add(delivery("c1", DeliveryStatus.PENDING, ("a",), NOW + i), {})
        for i in range(5)
    ]
    first = await store.deliveries.list(PageRequest(size=2), fingerprint="a")
    second = await store.deliveries.list(
        PageRequest.parse(2, first.next_page_token, "deliveries"), fingerprint="a"
    )
    third = await store.deliveries.list(
        PageRequest.parse(2, second.next_page_token, "deliveries"), fingerprint="a"
    )
    assert first.items + second.items + third.items == added
    assert third.next_page_token == ""


async def test_a_notification_of_alerts_whose_values_are_not_finite_is_queued_and_read_back(
    store: Store,
) -> None:
    """A rule's alert can hold +Inf, -Inf or NaN (a division by zero crossing a threshold); its
    notification is queued on every backend, PostgreSQL's JSONB included (which refuses the words
    Python's json writes for them), and read back as it was."""
    values = [math.inf, -math.inf, math.nan, 1.5]
    firing = tuple(
        Alert(fingerprint=f"f{i}", labels={"alertname": "x"}, state=AlertState.FIRING, value=v)
        for i, v in enumerate(values)
    )
    payload = NotificationPayload(receiver="r", group_key="g", firing=firing)
    added = await store.deliveries.add(delivery("c1", DeliveryStatus.PENDING, ("a",), NOW), payload.to_data())
    read = NotificationPayload.from_data(await store.deliveries.payload(added.id))
    got = [a.value for a in read.firing]
    assert got[0] == math.inf
    assert got[1] == -math.inf
    assert got[3] == 1.5
    assert math.isnan(got[2])
    assert [a.fingerprint for a in read.firing] == ["f0", "f1", "f2", "f3"]
