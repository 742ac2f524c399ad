from __future__ import annotations

from typing import Any

import pytest

from alerting_server.store import Store

NOW = 1_700_000_000_000


async def _files(store: Store) -> list[tuple[str, str, str]]:
    return [(f.name, f.text, f.source) for f in await store.notification_templates.list()]


async def test_replace_all_keeps_the_order_given_after_other_sources(store: Store) -> None:
    await store.notification_templates.replace_all("api", [("z.tmpl", "Z")], now=NOW)
    await store.notification_templates.replace_all("am", [("b.tmpl", "B"), ("a.tmpl", "A")], now=NOW)
    assert await _files(store) == [("z.tmpl", "Z", "api"), ("b.tmpl", "B", "am"), ("a.tmpl", "A", "am")]
    listed = await store.notification_templates.list()
    assert [f.updated_at for f in listed] == [NOW, NOW, NOW]
    assert listed[0].position < listed[1].position < listed[2].position


async def test_replace_all_replaces_a_sources_files_only(store: Store) -> None:
    await store.notification_templates.replace_all("api", [("z.tmpl", "Z")], now=NOW)
    await store.notification_templates.replace_all("am", [("a.tmpl", "A"), ("b.tmpl", "B")], now=NOW)
    await store.notification_templates.replace_all("am", [("c.tmpl", "C")], now=NOW + 1)
    assert await _files(store) == [("z.tmpl", "Z", "api"), ("c.tmpl", "C", "am")]
    await store.notification_templates.replace_all("am", [], now=NOW + 2)
    assert await _files(store) == [("z.tmpl", "Z", "api")]


async def test_a_name_another_source_holds_is_taken_over(store: Store) -> None:
    await store.notification_templates.replace_all("api", [("x.tmpl", "old")], now=NOW)
    await store.notification_templates.replace_all("am", [("x.tmpl", "new")], now=NOW)
    assert await _files(store) == [("x.tmpl", "new", "am")]


async def test_duplicate_names_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="unique"):
        await store.notification_templates.replace_all("am", [("a", "1"), ("a", "2")], now=NOW)


async def test_replace_all_is_one_transaction(store: Store) -> None:
    await store.notification_templates.replace_all("am", [("a.tmpl", "A")], now=NOW)
    broken: list[Any] = [("b.tmpl", "B"), ("c.tmpl", None)]  # NOT NULL: the second insert fails
    with pytest.raises(Exception):  # noqa: B017, PT011 -- the driver's IntegrityError
        await store.notification_templates.replace_all("am", broken, now=NOW)
    assert await _files(store) == [("a.tmpl", "A", "am")]
