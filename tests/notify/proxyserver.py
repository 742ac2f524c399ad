"""A real HTTP forward proxy for tests: absolute-form requests are forwarded (one per connection),
CONNECT is tunnelled; it records what it was asked and refuses a wrong Proxy-Authorization. `routes`
sends a CONNECT to a `host:port` somewhere else (a local stand-in for a hosted service), and with
`only_routes` refuses (403) every other one."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Asked:
    method: str
    target: str
    proxy_authorization: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ForwardProxy:
    credentials: tuple[str, str] | None = None
    routes: dict[str, tuple[str, int]] = field(default_factory=dict)
    only_routes: bool = False
    asked: list[Asked] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        if self.credentials is None:
            return f"http://127.0.0.1:{self.port}"
        user, password = self.credentials
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    async def start(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

    def _authorized(self, header: str) -> bool:
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == f"Basic {expected}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            line, *header_lines = head.split("\r\n")
            method, target, _ = line.split(" ", 2)
            headers = dict(h.split(": ", 1) for h in header_lines if ": " in h)
            authorization = headers.pop("Proxy-Authorization", "")
            self.asked.append(Asked(method, target, authorization, dict(headers)))
            if not self._authorized(authorization):
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                return
            if method == "CONNECT":
                if self.only_routes and target not in self.routes:
                    writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                host, _, port = target.rpartition(":")
                host, number = self.routes.get(target, (host, int(port)))
                up_reader, up_writer = await asyncio.open_connection(host, number)
                upstream = up_writer
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
                return
            url = urlsplit(target)
            body = await reader.readexactly(int(headers.get("Content-Length", "0")))
            up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
            upstream = up_writer
            headers["Connection"] = "close"
            path = url.path + (f"?{url.query}" if url.query else "")
            request = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            up_writer.write(request.encode("latin-1") + b"\r\n" + body)
            await up_writer.drain()
            await _pipe(up_reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            for w in (upstream, writer):
                if w is not None:
                    w.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(ConnectionError, RuntimeError):
            writer.close()
