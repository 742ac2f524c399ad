"""N real replicas of `alerting-server serve` on one throw-away PostgreSQL database.

    async with ReplicaSet(tmp_path, 3) as replicas:
        await replicas[0].api.get("/alerts")
        await replicas.kill(1)          # SIGKILL
        await replicas.start(1)         # again, on new ports, with its own data folder kept
        replicas.cut(2)                 # its database connections reset, new ones refused
        replicas.restore(2)
        replicas.stall(2)               # its database stops answering, nothing reset
        replicas.resume(2)

Each replica reaches PostgreSQL through its own TcpProxy, so that a test can take the database away
from one replica alone. Each has its own working folder (its embedded time-series store, its log) and
the cluster settings of a fast test: a lease TTL of one second, a poll interval of 200 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from tests.integration.server import ServerProcess
from tests.pg import temporary_database
from tests.tcpproxy import TcpProxy

LEASE_TTL_S = 1.0
POLL_INTERVAL = "200ms"
# cluster.pipeline_partitions of every replica (the default): leases pipeline/0 .. pipeline/15.
PIPELINE_PARTITIONS = 16
PIPELINE_LEASES = [f"pipeline/{k}" for k in range(PIPELINE_PARTITIONS)]

Json = dict[str, Any]


async def eventually(
    check: Callable[[], Awaitable[bool]], seconds: float, what: str, seen: object = None
) -> float:
    """Polls `check` every 100 ms until it is true; returns how long that took. `seen`, when given, is
    what the check last saw, said when it times out."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            last = "" if seen is None else f"; last seen: {seen}"
            raise AssertionError(f"timed out after {seconds}s waiting for {what}{last}")
        await asyncio.sleep(0.1)


class Replica:
    def __init__(
        self, index: int, workdir: Path, proxy: TcpProxy, database_url: str, args: list[str]
    ) -> None:
        self.index = index
        self.name = f"r{index}"
        self.workdir = workdir
        self.proxy = proxy
        self.process = ServerProcess(database_url, workdir, args)
        self._api: httpx.AsyncClient | None = None
        self.starts = 0

    @property
    def alive(self) -> bool:
        proc = self.process.proc
        return proc is not None and proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.process.proc is not None
        return self.process.proc.pid

    @property
    def base_url(self) -> str:
        return self.process.base_url

    @property
    def api(self) -> httpx.AsyncClient:
        """A client of this replica's REST gateway as it runs now (a restart moves it to new ports)."""
        if self._api is None or self._api.is_closed:
            raise AssertionError(f"{self.name} is not running")
        return self._api

    def log(self) -> str:
        return "".join(self.process.output)

    async def start(self) -> None:
        marker = f"----- {self.name}: start #{self.starts + 1} -----\n"
        self.process.output.append(marker)
        await asyncio.to_thread(self.process.start, 60.0)
        self.starts += 1
        self._api = httpx.AsyncClient(base_url=self.process.base_url, timeout=10)

    async def kill(self) -> None:
        if self._api is not None:
            await self._api.aclose()
        if self.process.proc is not None:
            await asyncio.to_thread(self.process.kill)
            self.process.output.append(f"----- {self.name}: SIGKILL -----\n")


class ReplicaSet:
    def __init__(self, root: Path, count: int, config: str = "", lease_ttl_s: float = LEASE_TTL_S) -> None:
        """`config`: more YAML for every replica's configuration file, besides the cluster section."""
        self.root = root
        self.count = count
        self.config = config
        self.lease_ttl_s = lease_ttl_s
        self.replicas: list[Replica] = []
        self._stack = contextlib.AsyncExitStack()
        self.database_url = ""

    def __getitem__(self, index: int) -> Replica:
        return self.replicas[index]

    def __iter__(self) -> Iterator[Replica]:
        return iter(self.replicas)

    def __len__(self) -> int:
        return len(self.replicas)

    @property
    def alive(self) -> list[Replica]:
        return [r for r in self.replicas if r.alive]

    def pids(self) -> dict[str, int]:
        """Replica name -> process id, of those running (for the webhook receiver's attribution)."""
        return {r.name: r.pid for r in self.replicas if r.alive}

    async def __aenter__(self) -> ReplicaSet:
        try:
            self.database_url = await self._stack.enter_async_context(temporary_database("alerting_ha"))
            url = make_url(self.database_url)
            for i in range(self.count):
                proxy = self._stack.enter_context(TcpProxy(url.host or "127.0.0.1", url.port or 5432))
                through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
                    hide_password=False
                )
                workdir = self.root / f"r{i}"
                workdir.mkdir()
                config = workdir / "alerting.yaml"
                config.write_text(f"cluster:\n  poll_interval: {POLL_INTERVAL}\n{self.config}")
                args = [
                    "--config",
                    str(config),
                    "--cluster-replica-id",
                    f"r{i}",
                    "--cluster-lease-ttl",
                    f"{int(self.lease_ttl_s * 1000)}ms",
                ]
                self.replicas.append(Replica(i, workdir, proxy, through_proxy, args))
            # The first one alone: it creates the schema; then the others together.
            await self.replicas[0].start()
            await asyncio.gather(*(r.start() for r in self.replicas[1:]))
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await asyncio.gather(*(r.kill() for r in self.replicas), return_exceptions=True)
        for r in self.replicas:
            (self.root / f"{r.name}.log").write_text(r.log())
        await self._stack.aclose()

    # --- processes ---------------------------------------------------------------------------

    async def kill(self, index: int) -> float:
        """SIGKILL; returns the time.time() of the kill."""
        at = time.time()
        await self.replicas[index].kill()
        return at

    async def start(self, index: int) -> None:
        await self.replicas[index].start()

    async def kill_all(self) -> None:
        await asyncio.gather(*(r.kill() for r in self.replicas))

    async def start_all(self) -> None:
        await asyncio.gather(*(r.start() for r in self.replicas))

    def cut(self, index: int) -> None:
        self.replicas[index].proxy.cut()

    def restore(self, index: int) -> None:
        self.replicas[index].proxy.restore()

    def stall(self, index: int) -> None:
        """The replica's database stops answering (a partition: no reset, no refusal)."""
        self.replicas[index].proxy.stall()

    def resume(self, index: int) -> None:
        self.replicas[index].proxy.resume()

    def logs(self, tail: int = 80) -> str:
        """The end of every replica's output, for a failure message."""
        parts = []
        for r in self.replicas:
            lines = r.process.output[-tail:]
            parts.append(f"===== {r.name} (last {len(lines)} lines) =====\n{''.join(lines)}")
        return "\n".join(parts)

    # --- GET /cluster ------------------------------------------------------------------------

    async def cluster(self, index: int) -> list[Json]:
        r = await self.replicas[index].api.get("/cluster")
        assert r.status_code == 200, f"GET /cluster on {self.replicas[index].name}: {r.status_code} {r.text}"
        replicas: list[Json] = r.json()["replicas"]
        return replicas

    async def holders(self, index: int) -> dict[str, tuple[str, int]]:
        """Lease name -> (holder, epoch) of the leases that have not ended, as replica `index` sees it."""
        now_ms = time.time() * 1000
        held: dict[str, tuple[str, int]] = {}
        for replica in await self.cluster(index):
            for lease in replica.get("leases", []):
                if int(lease["expires_at"]) > now_ms:
                    held[lease["name"]] = (replica["id"], int(lease["epoch"]))
        return held
