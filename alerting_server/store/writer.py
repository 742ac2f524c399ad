"""SQLite's writer: the write transactions of the busy paths run on one connection in one thread,
and the transactions queued together commit together.

Through the async driver a transaction costs a thread hop per statement, and writers that meet wait
in SQLite's busy handler, which sleeps 1, 2, 5... ms before it looks again. Here a transaction is one
hop; one commit (one fsync) carries every unit of work queued while the previous one ran; and the
writers that use this never wait on each other. Each unit runs in a savepoint of the shared
transaction, so that one that fails is rolled back alone and its caller gets its exception; a failed
BEGIN or COMMIT fails every unit it carried. A caller is answered only after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection

from alerting_server.store.connect import SQLITE_BEGIN, configure_sqlite

T = TypeVar("T")
Work = Callable[[Connection], T]

# Units of work per commit at most: a bound on how long one commit keeps the others waiting.
MAX_BATCH = 128


@dataclass(frozen=True)
class _Job(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop


def _settle(future: asyncio.Future[Any], value: object, error: BaseException | None) -> None:
    if future.cancelled():
        return  # The caller went away; its work committed (or not) with the others all the same.
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class SqliteWriter:
    """`await writer.run(work)` runs `work(connection)` in a write transaction and returns its result."""

    def __init__(self, url: URL) -> None:
        self._engine = sa.create_engine(url.set(drivername="sqlite+pysqlite"), poolclass=sa.pool.NullPool)
        configure_sqlite(self._engine)
        self._queue: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False

    async def run(self, work: Work[T]) -> T:
        if self._closed:
            raise RuntimeError("the store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._thread is None:
            # Started on first use: the database file is the migrations' to create.
            self._thread = threading.Thread(target=self._serve, name="sqlite-writer", daemon=True)
            self._thread.start()
        self._queue.put(_Job(work, future, loop))
        return await future

    async def close(self) -> None:
        """Finishes what is queued, then closes the connection."""
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        self._engine.dispose()

    def _serve(self) -> None:
        with self._engine.connect() as connection:
            connection = connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is None:
                    break
                batch: list[_Job[Any]] = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stopping = True
                        break
                    batch.append(job)
                self._commit(connection, batch)

    @staticmethod
    def _commit(connection: Connection, batch: list[_Job[Any]]) -> None:
        results: list[tuple[object, BaseException | None]] = []
        try:
            with connection.begin():
                if len(batch) == 1:
                    results.append((batch[0].work(connection), None))
                else:
                    for job in batch:
                        savepoint = connection.begin_nested()
                        try:
                            value = job.work(connection)
                        except Exception as e:
                            savepoint.rollback()
                            results.append((None, e))
                        else:
                            savepoint.commit()
                            results.append((value, None))
        except Exception as e:
            results = [(None, e)] * len(batch)
        for job, (value, error) in zip(batch, results, strict=True):
            # A closed loop (RuntimeError) has nobody waiting on it.
            with contextlib.suppress(RuntimeError):
                job.loop.call_soon_threadsafe(_settle, job.future, value, error)
