"""A TCP proxy a test can cut: a server process reaches PostgreSQL through it, and the test takes the
database away (cut) and gives it back (restore) without touching PostgreSQL itself.

    with TcpProxy("127.0.0.1", 5432) as proxy:   # proxy.port: where the server connects
        ...
        proxy.cut()       # open connections are reset, new ones are refused until restore()
        proxy.restore()
        proxy.stall()     # nothing is answered, nothing is reset: a network partition
        proxy.resume()    # what was sent meanwhile arrives, as TCP's retransmissions would bring it

It runs its own event loop in a thread, so that it works beside synchronous and asynchronous tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="tcp-proxy")
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._cut = False
        # Cleared while stalled: bytes read are held back, new connections are not forwarded yet.
        self._flowing: asyncio.Event | None = None

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def is_cut(self) -> bool:
        return self._cut

    def cut(self) -> None:
        """Resets every open connection; new ones are closed at once until restore()."""
        asyncio.run_coroutine_threadsafe(self._set_cut(True), self._loop).result(10)

    def restore(self) -> None:
        asyncio.run_coroutine_threadsafe(self._set_cut(False), self._loop).result(10)

    def stall(self) -> None:
        """Holds every byte in both directions and every new connection until resume(): to the server it
        is a database that stopped answering, with no reset or refusal to tell it so."""
        asyncio.run_coroutine_threadsafe(self._set_flowing(False), self._loop).result(10)

    def resume(self) -> None:
        asyncio.run_coroutine_threadsafe(self._set_flowing(True), self._loop).result(10)

    async def _set_flowing(self, flowing: bool) -> None:
        if flowing:
            self._stalled().set()
        else:
            self._stalled().clear()

    def _stalled(self) -> asyncio.Event:
        assert self._flowing is not None, "use the proxy in a with block"
        return self._flowing

    async def _set_cut(self, cut: bool) -> None:
        self._cut = cut
        if cut:
            for writer in list(self._open):
                writer.transport.abort()
            self._open.clear()

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        await self._set_cut(True)
        self._stalled().set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        # The connections' handlers end once their sockets are aborted; the loop closes after them.
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        if self._cut:
            writer.transport.abort()
            return
        await self._stalled().wait()
        if self._cut:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._stalled().wait()
                if self._cut:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._open.discard(writer)
            writer.transport.abort()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
