"""PostgreSQL LISTEN on one dedicated connection: the wake-up when another replica changed something.

Only a wake-up: each consumer also polls, so a notification lost with a dropped connection delays a
change by at most the poll interval. After a reconnect every callback runs once, since anything may
have happened while the connection was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import URL

from alerting_server.tasks import cancel, wait_set

log = logging.getLogger(__name__)

RETRY_S = 1.0


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _: event.set()


class Notifications:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._callbacks: dict[str, list[Callable[[str], None]]] = {}
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def on(self, channel: str, callback: Callable[[str], None]) -> None:
        self._callbacks.setdefault(channel, []).append(callback)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cluster-notifications")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    def _fire_all(self) -> None:
        for callbacks in self._callbacks.values():
            for callback in callbacks:
                callback("")

    def _listener(self, channel: str) -> Callable[[object, int, str, str], None]:
        def heard(connection: object, pid: int, name: str, payload: str) -> None:
            for callback in self._callbacks.get(channel, ()):
                callback(payload)

        return heard

    async def _run(self) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=5)
                lost = asyncio.Event()
                connection.add_termination_listener(_setter(lost))
                for channel in self._callbacks:
                    await connection.add_listener(channel, self._listener(channel))
                self.connected.set()
                self._fire_all()
                while not lost.is_set():
                    # A connection cut without a FIN is found by this probe, not by the listener.
                    if not await wait_set(lost, 5):
                        await connection.fetchval("SELECT 1", timeout=5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("listening for changes of other replicas failed (%s); retrying", exc)
            finally:
                self.connected.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.terminate()
            await asyncio.sleep(RETRY_S)
