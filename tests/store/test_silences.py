from __future__ import annotations

import pytest

from alerting_server.errors import FailedPrecondition, NotFound
from alerting_server.model import Silence, SilenceState
from alerting_server.pagination import PageRequest
from alerting_server.store import Store

NOW = 1_700_000_000_000
HOUR = 3_600_000


def silence(starts_at: int, ends_at: int) -> Silence:
    return Silence(('host="server01"', "severity=~warn.*"), starts_at, ends_at, "alice", "maintenance")


async def test_create_and_get(store: Store) -> None:
    created = await store.silences.create(silence(NOW, NOW + HOUR), NOW)
    assert created.id
    assert (created.created_at, created.updated_at) == (NOW, NOW)
    assert await store.silences.get(created.id) == created


async def test_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="'s1'"):
        await store.silences.get("s1")
    with pytest.raises(NotFound, match="'s1'"):
        await store.silences.expire("s1", NOW)


async def test_list_filters_by_state_at_now(store: Store) -> None:
    expired = await store.silences.create(silence(NOW - 2 * HOUR, NOW - HOUR), NOW)
    active = await store.silences.create(silence(NOW - HOUR, NOW + HOUR), NOW + 1)
    pending = await store.silences.create(silence(NOW + HOUR, NOW + 2 * HOUR), NOW + 2)
    ends_now = await store.silences.create(silence(NOW - HOUR, NOW), NOW + 3)
    page = PageRequest()
    assert (await store.silences.list(page, None, NOW)).items == [expired, active, pending, ends_now]
    assert (await store.silences.list(page, SilenceState.EXPIRED, NOW)).items == [expired, ends_now]
    assert (await store.silences.list(page, SilenceState.ACTIVE, NOW)).items == [active]
    assert (await store.silences.list(page, SilenceState.PENDING, NOW)).items == [pending]
    assert await store.silences.all() == [expired, active, pending, ends_now]


async def test_list_pages(store: Store) -> None:
    created = [await store.silences.create(silence(NOW, NOW + HOUR), NOW + i) for i in range(3)]
    first = await store.silences.list(PageRequest(size=2), SilenceState.ACTIVE, NOW)
    second = await store.silences.list(
        PageRequest.parse(2, first.next_page_token, "silences"), SilenceState.ACTIVE, NOW
    )
    assert first.items + second.items == created
    assert second.next_page_token == ""


async def test_expire_ends_an_active_silence_now_and_keeps_it(store: Store) -> None:
    created = await store.silences.create(silence(NOW - HOUR, NOW + HOUR), NOW - HOUR)
    expired = await store.silences.expire(created.id, NOW)
    assert (expired.starts_at, expired.ends_at, expired.updated_at) == (NOW - HOUR, NOW, NOW)
    assert await store.silences.get(created.id) == expired
    assert expired.state(NOW) is SilenceState.EXPIRED


async def test_expire_a_pending_silence_never_ends_before_it_starts(store: Store) -> None:
    created = await store.silences.create(silence(NOW + HOUR, NOW + 2 * HOUR), NOW)
    expired = await store.silences.expire(created.id, NOW)
    assert (expired.starts_at, expired.ends_at) == (NOW, NOW)


async def test_expire_twice_is_failed_precondition(store: Store) -> None:
    created = await store.silences.create(silence(NOW - HOUR, NOW + HOUR), NOW)
    await store.silences.expire(created.id, NOW)
    with pytest.raises(FailedPrecondition, match=created.id):
        await store.silences.expire(created.id, NOW + 1)
    assert (await store.silences.get(created.id)).ends_at == NOW


async def test_update_in_place_keeps_the_id_while_matchers_stay(store: Store) -> None:
    created = await store.silences.create(silence(NOW - HOUR, NOW + HOUR), NOW - HOUR)
    longer = silence(NOW - HOUR, NOW + 3 * HOUR)
    updated = await store.silences.update(created.id, longer, NOW)
    assert (updated.id, updated.created_at, updated.updated_at, updated.ends_at) == (
        created.id,
        created.created_at,
        NOW,
        NOW + 3 * HOUR,
    )
    assert await store.silences.all() == [updated]


async def test_update_with_other_matchers_expires_the_old_and_creates_a_new_one(store: Store) -> None:
    created = await store.silences.create(silence(NOW - HOUR, NOW + HOUR), NOW - HOUR)
    other = Silence(('host="server02"',), NOW, NOW + HOUR, "bob", "other host")
    replacement = await store.silences.update(created.id, other, NOW)
    assert replacement.id != created.id
    assert replacement.matchers == ('host="server02"',)
    old = await store.silences.get(created.id)
    assert (old.ends_at, old.state(NOW)) == (NOW, SilenceState.EXPIRED)


async def test_update_of_an_expired_silence_creates_a_new_one(store: Store) -> None:
    created = await store.silences.create(silence(NOW - 2 * HOUR, NOW - HOUR), NOW - 2 * HOUR)
    renewed = await store.silences.update(created.id, silence(NOW, NOW + HOUR), NOW)
    assert renewed.id != created.id
    assert (await store.silences.get(created.id)).ends_at == NOW - HOUR
    with pytest.raises(NotFound):
        await store.silences.update("nope", silence(NOW, NOW + HOUR), NOW)
