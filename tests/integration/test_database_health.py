"""A server on PostgreSQL whose database goes away and comes back: it says so on /readyz and in its
gRPC health, answers writes with UNAVAILABLE naming the database (never its password, never a stack
trace), and serves again by itself once the database is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url

from alerting.services import SERVICE_NAMES
from alerting.v1 import channel_service_pb2, channel_service_pb2_grpc
from alerting_server.store.migrate import head_revision
from tests.integration.server import ServerProcess
from tests.pg import temporary_database
from tests.tcpproxy import TcpProxy

PASSWORD = "hunter2"  # PostgreSQL trusts local connections here: the password is only carried along.
SLACK = {"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX", "channel": "#alerts"}
SERVING = {"status": "serving"}


@pytest_asyncio.fixture
async def database() -> AsyncIterator[str]:
    async with temporary_database() as url:
        yield url


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", 5432) as p:
        yield p


@pytest.fixture
def server(database: str, proxy: TcpProxy, tmp_path: Path) -> Iterator[ServerProcess]:
    through_proxy = make_url(database).set(drivername="postgresql", port=proxy.port, password=PASSWORD)
    proc = ServerProcess(through_proxy.render_as_string(hide_password=False), tmp_path)
    proc.start()
    yield proc
    proc.kill()
    assert PASSWORD not in "".join(proc.output)


@pytest_asyncio.fixture
async def http(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        yield client


def shown(proxy: TcpProxy, database: str) -> str:
    """The database as the server names it: through the proxy, its password hidden."""
    return f"postgresql://postgres:***@127.0.0.1:{proxy.port}/{make_url(database).database}"


async def eventually(probe: Callable[[], Awaitable[Any]], expected: Any, within_s: float = 5.0) -> Any:
    """What `probe` answers once it answers `expected`, or its last answer after `within_s`."""
    deadline = time.monotonic() + within_s
    while True:
        got = await probe()
        if got == expected or time.monotonic() >= deadline:
            return got
        await asyncio.sleep(0.1)


async def ready(http: httpx.AsyncClient) -> tuple[int, Any]:
    r = await http.get("/readyz")
    return r.status_code, r.json()


async def health(server: ServerProcess) -> dict[str, str]:
    async with grpc.aio.insecure_channel(server.grpc_target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        statuses = {}
        for name in ("", *SERVICE_NAMES):
            response = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            statuses[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        return statuses


def everywhere(status: str) -> dict[str, str]:
    return {name: status for name in ("", *SERVICE_NAMES)}


async def create_over_grpc(server: ServerProcess, name: str) -> channel_service_pb2.Channel:
    async with grpc.aio.insecure_channel(server.grpc_target) as channel:
        stub = channel_service_pb2_grpc.ChannelServiceStub(channel)
        config = channel_service_pb2.Channel(name=name, type=channel_service_pb2.CHANNEL_TYPE_SLACK)
        config.config.update(SLACK)
        response: channel_service_pb2.CreateChannelResponse = await stub.CreateChannel(
            channel_service_pb2.CreateChannelRequest(channel=config), timeout=10
        )
        return response.channel


async def test_an_outage_is_unavailable_and_the_server_comes_back_by_itself(
    server: ServerProcess, http: httpx.AsyncClient, proxy: TcpProxy, database: str
) -> None:
    assert await ready(http) == (200, SERVING)
    assert await health(server) == everywhere("SERVING")
    unreachable = f"database {shown(proxy, database)} is unreachable: "

    proxy.cut()

    assert await eventually(lambda: _status(http), 503) == 503
    status, body = await ready(http)
    assert (status, body["status"]) == (503, "not_serving")
    [problem] = body["problems"]
    assert problem["field"] == "database_url"
    assert problem["description"].startswith(unreachable)
    assert await health(server) == everywhere("NOT_SERVING")

    r = await http.post("/channels", json={"name": "ops", "type": "slack", "config": SLACK})
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "UNAVAILABLE"
    assert r.json()["error"]["message"].startswith(unreachable)
    r = await http.get("/channels")
    assert (r.status_code, r.json()["error"]["code"]) == (503, "UNAVAILABLE")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await create_over_grpc(server, "ops")
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert (info.value.details() or "").startswith(unreachable)

    proxy.restore()

    assert await eventually(lambda: ready(http), (200, SERVING)) == (200, SERVING)
    assert await health(server) == everywhere("SERVING")
    # Several in a row: a pool that kept a dead connection would hand it to one of them.
    for i in range(8):
        r = await http.post("/channels", json={"name": f"ops-{i}", "type": "slack", "config": SLACK})
        assert r.status_code == 201, r.text
    assert (await create_over_grpc(server, "ops-grpc")).id
    assert len((await http.get("/channels")).json()["channels"]) == 9


async def _status(http: httpx.AsyncClient) -> int:
    return (await ready(http))[0]


async def stamp(database: str, revision: str) -> None:
    url = make_url(database).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await connection.execute("UPDATE alembic_version SET version_num = $1", revision)
    finally:
        await connection.close()


@pytest.mark.parametrize("revision", ["0007", "0099_from_a_newer_server"])
async def test_a_schema_of_another_version_is_not_ready_until_it_is_back_at_head(
    server: ServerProcess, http: httpx.AsyncClient, proxy: TcpProxy, database: str, revision: str
) -> None:
    head = head_revision()
    assert await ready(http) == (200, SERVING)

    await stamp(database, revision)

    assert await eventually(lambda: _status(http), 503) == 503
    assert await ready(http) == (
        503,
        {
            "status": "not_serving",
            "problems": [
                {
                    "field": "database_url",
                    "description": f"database {shown(proxy, database)}: schema at {revision}, "
                    f"this server needs {head}",
                }
            ],
        },
    )
    assert await health(server) == everywhere("NOT_SERVING")

    await stamp(database, head)

    assert await eventually(lambda: ready(http), (200, SERVING)) == (200, SERVING)
    assert await health(server) == everywhere("SERVING")


async def test_a_server_refuses_to_start_on_a_schema_newer_than_its_code(
    database: str, tmp_path: Path
) -> None:
    first = ServerProcess(database, tmp_path)
    first.start()
    first.kill()
    await stamp(database, "0099_from_a_newer_server")

    second = ServerProcess(database, tmp_path)
    with pytest.raises(RuntimeError, match=r"exit code 1\)"):
        second.start()
    name = make_url(database).database
    assert (
        f"alerting-server: database postgresql://postgres@127.0.0.1:5432/{name}: schema at "
        f"0099_from_a_newer_server, which this server does not know (it ships up to {head_revision()}): "
        "a newer alerting-server migrated it; run that version or a newer one\n"
    ) in second.output


async def test_connections_broken_while_idle_are_not_handed_out_again(
    server: ServerProcess, http: httpx.AsyncClient, proxy: TcpProxy
) -> None:
    for i in range(3):
        r = await http.post("/channels", json={"name": f"before-{i}", "type": "slack", "config": SLACK})
        assert r.status_code == 201, r.text

    # Every pooled connection breaks, and the database is back before anything used them.
    proxy.cut()
    proxy.restore()

    for i in range(8):
        r = await http.post("/channels", json={"name": f"after-{i}", "type": "slack", "config": SLACK})
        assert r.status_code == 201, r.text
