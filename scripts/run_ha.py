"""Several replicas of alerting-server on the local PostgreSQL, as one system (`make run-ha`).

Replica rK (K from 1) serves gRPC on 127.0.0.1:50050+K and REST on 127.0.0.1:8080+K, keeps the
samples of its embedded store in data-ha/rK, and prints its log lines prefixed with [rK]. They share
the database `alerting_ha` (created when missing). Ctrl-C stops them all; a replica that dies is
reported and the others go on: SIGKILL one (its pid is printed) and watch another take its leases
in GET /cluster.

    scripts/run_ha.py [--replicas 3] [--database alerting_ha] [-- serve arguments for every replica]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
GRPC_BASE, HTTP_BASE = 50050, 8080
READY = re.compile(r"alerting-server: gRPC on (\S+), HTTP on (\S+)")
# A replica that ignores SIGTERM this long (its shutdown_grace is 10s by default) is killed.
STOP_S = 20.0


def say(message: str) -> None:
    print(f"run-ha: {message}", flush=True)


async def ensure_database(admin_url: str, name: str) -> str:
    """The replicas' database URL; the database is created when missing."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"--database: {name!r} is not a plain lower-case PostgreSQL name")
    try:
        conn = await asyncpg.connect(admin_url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(f"PostgreSQL at {admin_url} is out of reach: {exc}") from None
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
            say(f"created database {name}")
    finally:
        await conn.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


class Replica:
    def __init__(self, k: int, database_url: str, extra: list[str]) -> None:
        self.id = f"r{k}"
        self.grpc = f"127.0.0.1:{GRPC_BASE + k}"
        self.http = f"127.0.0.1:{HTTP_BASE + k}"
        self.data_dir = ROOT / "data-ha" / self.id
        self.command = [
            sys.executable, "-m", "alerting_server.cli", "serve",
            "--database-url", database_url,
            "--grpc-listen", self.grpc,
            "--http-listen", self.http,
            "--data-dir", str(self.data_dir),
            "--cluster-replica-id", self.id,
            *extra,
        ]  # fmt: skip
        self.proc: asyncio.subprocess.Process | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Its own session: Ctrl-C reaches this script alone, which stops the replicas in order.
        self.proc = await asyncio.create_subprocess_exec(
            *self.command,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )

    async def pump(self) -> int:
        """Copies its output, prefixed, until it exits; its exit code."""
        assert self.proc is not None
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            print(f"[{self.id}] {line}", flush=True)
            if READY.search(line):
                self.ready.set()
        code = await self.proc.wait()
        say(f"{self.id} exited with code {code}")
        return code

    def signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)


async def run(args: argparse.Namespace) -> int:
    url = await ensure_database(args.admin_url, args.database)
    replicas = [Replica(k, url, args.serve_args) for k in range(1, args.replicas + 1)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    for r in replicas:
        await r.start()
    pumps = [asyncio.create_task(r.pump()) for r in replicas]
    stopped = asyncio.create_task(stop.wait())
    exited = asyncio.create_task(asyncio.wait(pumps))
    ready = asyncio.create_task(asyncio.wait([asyncio.create_task(r.ready.wait()) for r in replicas]))
    await asyncio.wait([ready, stopped, exited], return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        for r in replicas:
            assert r.proc is not None
            say(f"{r.id}: gRPC {r.grpc}, REST http://{r.http} (pid {r.proc.pid})")
        say(f"the replicas and their leases: curl http://{replicas[0].http}/cluster; Ctrl-C stops them all")
    await asyncio.wait([stopped, exited], return_when=asyncio.FIRST_COMPLETED)
    for r in replicas:
        r.signal(signal.SIGTERM)
    _, pending = await asyncio.wait(pumps, timeout=STOP_S)
    for r in replicas:
        r.signal(signal.SIGKILL)
    await asyncio.gather(*pending)
    for task in (ready, stopped, exited):
        task.cancel()
    # Stopped by Ctrl-C: success, however the replicas ended. All of them gone by themselves: failure.
    return 0 if stop.is_set() else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--replicas", type=int, default=3, help="how many replicas (default 3)")
    parser.add_argument("--database", default="alerting_ha", help="their database (default alerting_ha)")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("ALERTING_HA_ADMIN_URL", ADMIN_URL),
        help=f"PostgreSQL to create the database on (env ALERTING_HA_ADMIN_URL; default {ADMIN_URL})",
    )
    parser.add_argument("serve_args", nargs="*", help="after --: more `serve` arguments for every replica")
    args = parser.parse_args()
    if not 1 <= args.replicas <= 9:
        parser.error("--replicas: from 1 to 9 (the ports are 50051.. and 8081..)")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
