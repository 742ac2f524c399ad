"""The outbound transport (outbound.GuardedTransport: httpx's interface on aiohttp's pool) against
real local servers: requests go out as httpx built them, answers come back as httpx reads them,
connections are kept and reused unless a body was cut short, and failures keep httpx's kinds (the
reasons in delivery records name them)."""

from __future__ import annotations

import asyncio
import base64
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from alerting_server.notify.http import MAX_BODY_BYTES, post
from alerting_server.notify.integrations.webhook import WebhookConfig
from alerting_server.notify.integrations.webhook.notifier import WebhookNotifier
from alerting_server.outbound import GuardedTransport, OutboundPolicy
from tests.notify.alerts import high_cpu_message
from tests.notify.receiver import Receiver, Reply

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=GuardedTransport(OutboundPolicy()), timeout=httpx.Timeout(2.0)
    ) as c:
        yield c


class RawServer:
    """An HTTP server written by hand: it counts the connections made to it, and `handler` says
    what each connection gets."""

    def __init__(self, handler: Handler) -> None:
        self.connections = 0
        self._handler = handler
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def url(self, path: str = "/hook") -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}{path}"

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return await reader.readexactly(length)


def answer(status: int, body: bytes, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def test_the_request_goes_out_as_httpx_built_it(receiver: Receiver, client: httpx.AsyncClient) -> None:
    url = receiver.url("/hooks/a%2Fb/t%C3%A9%7E?key=a%20b&x=%2B&y=%7e&z=a+b")
    headers = {"Authorization": "Bearer zz9", "X-Thing": "1"}
    got = await post(client, url, b'{"a": "\xc3\xa9"}', headers)

    assert isinstance(got, tuple)
    [seen] = receiver.requests
    assert (seen.method, seen.path, seen.body) == (
        "POST",
        "/hooks/a%2Fb/t%C3%A9%7E?key=a%20b&x=%2B&y=%7e&z=a+b",
        b'{"a": "\xc3\xa9"}',
    )
    assert seen.headers["host"] == url.split("/")[2]
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["content-length"] == str(len(seen.body))
    assert (seen.headers["authorization"], seen.headers["x-thing"]) == ("Bearer zz9", "1")
    assert seen.headers["user-agent"].startswith("python-httpx/")


async def test_the_credentials_of_a_url_go_as_basic_authorization(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    url = receiver.url("/hook").replace("http://", "http://ops:p%40ss@")
    got = await post(client, url, b"{}", {})

    assert isinstance(got, tuple)
    assert got[0].status_code == 200
    [seen] = receiver.requests
    assert seen.headers["authorization"] == "Basic " + base64.b64encode(b"ops:p@ss").decode()
    assert seen.headers["host"] == url.split("@")[1].split("/")[0]


async def test_the_answer_comes_back_as_httpx_reads_it(receiver: Receiver, client: httpx.AsyncClient) -> None:
    text = "the receiver's own reason, zipped " * 50
    receiver.answer(
        Reply(503, gzip.compress(text.encode()), {"Content-Encoding": "gzip", "Retry-After": "7"}),
        Reply(204),
    )
    got = await post(client, receiver.url(), b"{}", {})

    assert isinstance(got, tuple)
    response, body = got
    assert (response.status_code, response.headers["retry-after"]) == (503, "7")
    # Decoded once, by httpx.
    assert body == text.encode()
    got = await post(client, receiver.url(), b"{}", {})
    assert isinstance(got, tuple)
    assert (got[0].status_code, got[1]) == (204, b"")


async def test_a_connection_is_kept_for_the_next_request_unless_its_answer_was_cut_short(
    client: httpx.AsyncClient,
) -> None:
    big = b"x" * (MAX_BODY_BYTES * 3)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            body = await read_request(reader)
            writer.write(answer(200, big if body == b"big" else b"ok:" + body))
            await writer.drain()

    async with RawServer(serve) as server:
        for i in range(10):
            got = await post(client, server.url(), str(i).encode(), {})
            assert isinstance(got, tuple)
            assert got[1] == f"ok:{i}".encode()
        assert server.connections == 1

        got = await post(client, server.url(), b"big", {})
        assert isinstance(got, tuple)
        assert got[1] == big[:MAX_BODY_BYTES]
        # The rest of that body was never read: the next request has a connection of its own and
        # its own answer, not the rest of the last one.
        got = await post(client, server.url(), b"after", {})
        assert isinstance(got, tuple)
        assert got[1] == b"ok:after"
        assert server.connections == 2


def webhook(client: httpx.AsyncClient, url: str, timeout: float = 2.0) -> WebhookNotifier:
    return WebhookNotifier(client=client, config=WebhookConfig(url=url, timeout=httpx.Timeout(timeout)))


async def test_a_receiver_that_is_down_or_hangs_fails_with_httpx_kinds(
    receiver: Receiver, client: httpx.AsyncClient, closed_port: int
) -> None:
    down = await webhook(client, f"http://127.0.0.1:{closed_port}/hook").notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert (down.ok, down.retryable, down.reason) == (False, True, "connection failed (ConnectError)")

    receiver.answer(Reply(hang=True))
    hung = await webhook(client, receiver.url(), timeout=0.2).notify(high_cpu_message(), idempotency_key="k")
    assert (hung.ok, hung.retryable, hung.reason) == (False, True, "timed out (ReadTimeout)")


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(b"", id="hangs up after reading the request"),
        pytest.param(b"NOT HTTP AT ALL\r\n\r\n", id="answers what is not HTTP"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", id="cuts its body short"),
    ],
)
async def test_a_receiver_that_breaks_the_protocol_fails_as_a_retried_protocol_error(
    client: httpx.AsyncClient, reply: bytes
) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply)
        await writer.drain()

    async with RawServer(serve) as server:
        result = await webhook(client, server.url()).notify(high_cpu_message(), idempotency_key="k")

    assert (result.ok, result.retryable) == (False, True)
    assert result.reason == "connection failed (RemoteProtocolError)"
