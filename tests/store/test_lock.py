"""One server per SQLite database file: the store's start takes the file's lock, its close gives it back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from alerting_server.store import DatabaseUnavailable, Store
from alerting_server.store.lock import DatabaseInUse, ProcessLock


async def test_a_second_start_on_the_same_file_is_refused_naming_the_holder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alerting.db'}"
    first, second = await Store.open(url), await Store.open(url)
    try:
        await first.start(1)
        with pytest.raises(DatabaseUnavailable) as info:
            await second.start(1)
    finally:
        await second.close()
        await first.close()

    assert str(info.value) == (
        f"database {tmp_path / 'alerting.db'} is in use by another alerting-server process "
        f"(pid {os.getpid()}); several replicas need PostgreSQL"
    )


async def test_the_lock_is_given_back_at_close(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alerting.db'}"
    first = await Store.open(url)
    await first.start(1)
    await first.close()

    second = await Store.open(url)
    try:
        await second.start(1)
    finally:
        await second.close()


async def test_an_in_memory_database_takes_no_lock() -> None:
    stores = [await Store.open("sqlite://"), await Store.open("sqlite://")]
    try:
        for store in stores:
            await store.start(1)
    finally:
        for store in stores:
            await store.close()


def test_a_uri_filename_locks_its_file_unless_it_is_in_memory(tmp_path: Path) -> None:
    on_disk = make_url(f"sqlite:///file:{tmp_path / 'a.db'}?cache=shared&uri=true")
    lock = ProcessLock.acquire(on_disk)
    try:
        assert lock is not None
        assert (tmp_path / "a.db.lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(DatabaseInUse):
            ProcessLock.acquire(on_disk)
    finally:
        assert lock is not None
        lock.release()
    assert ProcessLock.acquire(make_url("sqlite:///file:a?mode=memory&uri=true")) is None
    assert ProcessLock.acquire(make_url("postgresql://u@db/alerting")) is None
