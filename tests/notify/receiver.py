"""A real HTTP/1.1 receiver on 127.0.0.1 that records requests and answers as the test scripts it."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # When the request was read (time.monotonic()): benchmarks measure how late a notification came.
    received_at: float = field(default_factory=time.monotonic)

    def json(self) -> object:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Read the request, then never answer: the client's timeout has to end it.
    hang: bool = False


class Receiver:
    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply()
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self._server: asyncio.Server | None = None
        self._port = 0
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(
        self, port: int = 0, ssl_context: ssl.SSLContext | None = None, backlog: int = 100
    ) -> Receiver:
        """`ssl_context`: serve HTTPS with it. `backlog`: connections waiting to be accepted (a
        sender that opens thousands at once needs more than the default)."""
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", port, ssl=ssl_context, backlog=backlog
        )
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def port(self) -> int:
        return self._port

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self._port}{path}"

    def answer(self, *replies: Reply) -> None:
        """The next requests get these replies in order; later ones get the default."""
        self.replies.extend(replies)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Recorded(method, path, headers, body))
        reply = self.replies.popleft() if self.replies else self.default
        if reply.hang:
            await asyncio.Event().wait()
        reason = "OK" if reply.status < 400 else "Error"
        out = [f"HTTP/1.1 {reply.status} {reason}", f"Content-Length: {len(reply.body)}"]
        out += [f"{k}: {v}" for k, v in reply.headers.items()]
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + reply.body)
        await writer.drain()
        return True
