"""The benchmarks' peers: the Debian builds `make peers` unpacks (.tools/prometheus).

Alertmanager as a cluster for bench/ha_bench.py (nodes meshed by gossip on loopback, each with its
own storage, all sending to one webhook receiver) and as a single node with clustering off for
bench/ingest_bench.py; Prometheus for bench/eval_bench.py and bench/remote_write_bench.py.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

PROMETHEUS_TOOLS = Path(__file__).resolve().parents[1] / ".tools" / "prometheus"
ALERTMANAGER = PROMETHEUS_TOOLS / "usr" / "bin" / "prometheus-alertmanager"
PROMETHEUS = PROMETHEUS_TOOLS / "usr" / "bin" / "prometheus"
NODES = 3
Json = dict[str, object]


def free_ports(n: int) -> list[int]:
    """n distinct free ports: every socket stays bound until all are chosen, so none comes twice."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _require() -> None:
    if not ALERTMANAGER.exists():
        raise SystemExit(f"{ALERTMANAGER} is missing: run `make peers`")


def _write_config(path: Path, receiver_url: str, **route: str) -> None:
    """A configuration whose route groups by alertname, timed by `route` (group_wait=..., ...), to
    one webhook receiver."""
    config = {
        "route": {"receiver": "hook", "group_by": ["alertname"], **route},
        "receivers": [{"name": "hook", "webhook_configs": [{"url": receiver_url}]}],
    }
    path.write_text(yaml.safe_dump(config))


def _spawn(args: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    """Alertmanager with `args`, its output to `log`."""
    # Debian's build reads its default templates from /usr/share/prometheus/alertmanager, which
    # `make peers` only unpacked under .tools: the unpacked /usr/share is laid over the system's in
    # a mount namespace of this process alone (needs root, as `make peers` does).
    share = (PROMETHEUS_TOOLS / "usr" / "share").resolve()
    overlay = f"mount -t overlay overlay -o lowerdir={share}:/usr/share /usr/share"
    command = ["unshare", "--mount", "sh", "-c", f'{overlay} && exec "$0" "$@"', str(ALERTMANAGER), *args]
    with open(log, "wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(10)


def require_prometheus() -> None:
    if not PROMETHEUS.exists():
        sys.exit(f"{PROMETHEUS} is missing: run scripts/install-prometheus.sh")


@contextmanager
def prometheus(
    scratch: Path, config_of: Callable[[int], Json]
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Debian's Prometheus on a free port with the configuration `config_of(port)` gives, its
    configuration, storage and log (prometheus.log) in `scratch`: the port and the process, which a
    termination stops at the end (a stopping Prometheus flushes its remote-write queues)."""
    [port] = free_ports(1)
    (scratch / "prometheus.yml").write_text(yaml.safe_dump(config_of(port)))
    with (scratch / "prometheus.log").open("w") as log:
        proc = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={scratch}/prometheus.yml",
                f"--storage.tsdb.path={scratch}/data",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield port, proc
        finally:
            proc.terminate()
            proc.wait(60)


def version() -> str:
    out = subprocess.run([str(ALERTMANAGER), "--version"], capture_output=True, text=True, check=True)
    return (out.stdout or out.stderr).splitlines()[0]


class AlertmanagerCluster:
    """NODES Alertmanager nodes grouping by alertname, group_wait 0s, one webhook receiver."""

    def __init__(self, scratch: Path, receiver_url: str, peer_timeout: str) -> None:
        self.scratch = scratch
        self.peer_timeout = peer_timeout
        ports = free_ports(2 * NODES)
        self.web, self.gossip = ports[:NODES], ports[NODES:]
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * NODES
        _write_config(
            scratch / "alertmanager.yml",
            receiver_url,
            group_wait="0s",
            group_interval="1h",
            repeat_interval="1h",
        )

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p, proc in zip(self.web, self.procs, strict=True) if proc]

    def start(self) -> None:
        for i in range(NODES):
            args = [
                f"--config.file={self.scratch / 'alertmanager.yml'}",
                f"--storage.path={self.scratch / f'am{i}'}",
                f"--web.listen-address=127.0.0.1:{self.web[i]}",
                f"--cluster.listen-address=127.0.0.1:{self.gossip[i]}",
                f"--cluster.peer-timeout={self.peer_timeout}",
                "--log.level=warn",
                *(f"--cluster.peer=127.0.0.1:{p}" for j, p in enumerate(self.gossip) if j != i),
            ]
            self.procs[i] = _spawn(args, self.scratch / f"am{i}.log")

    async def ready(self, http: httpx.AsyncClient, timeout_s: float = 90.0) -> float:
        """Waits until every node has settled with all peers (Alertmanager sends nothing before)."""
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            try:
                statuses = [(await http.get(f"{u}/api/v2/status")).json()["cluster"] for u in self.urls()]
                if all(s["status"] == "ready" and len(s.get("peers") or []) == NODES for s in statuses):
                    return time.monotonic() - began
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            for i, proc in enumerate(self.procs):
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(
                        f"alertmanager {i} exited: {(self.scratch / f'am{i}.log').read_text()}"
                    )
            await asyncio.sleep(0.25)
        raise RuntimeError("the Alertmanager cluster did not settle")

    async def sender(self, http: httpx.AsyncClient) -> int:
        """The node at position 0 (peers ordered by name): the others wait before sending."""
        names = []
        for url in self.urls():
            names.append((await http.get(f"{url}/api/v2/status")).json()["cluster"]["name"])
        return names.index(min(names))

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        assert proc is not None
        _kill(proc)
        self.procs[i] = None

    def stop(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc is not None:
                _kill(proc)
                self.procs[i] = None

    async def post(self, http: httpx.AsyncClient, body: list[Json]) -> bool:
        """To every live node at once, as Prometheus does: taken when one of them took it."""

        async def one(url: str) -> bool:
            try:
                return (await http.post(f"{url}/api/v2/alerts", json=body)).status_code == 200
            except httpx.TransportError:
                return False

        return any(await asyncio.gather(*(one(u) for u in self.urls())))


@contextmanager
def alertmanager_cluster(receiver_url: str, peer_timeout: str) -> Iterator[AlertmanagerCluster]:
    _require()
    with tempfile.TemporaryDirectory(prefix="alerting-ha-bench-am-") as scratch:
        cluster = AlertmanagerCluster(Path(scratch), receiver_url, peer_timeout)
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()


@dataclass(frozen=True)
class Node:
    url: str
    pid: int


@contextmanager
def alertmanager_node(receiver_url: str, **route: str) -> Iterator[Node]:
    """One Alertmanager, clustering off, on a free port with its own storage in a scratch directory,
    its route grouping by alertname timed by `route` to one webhook receiver; once ready."""
    _require()
    with tempfile.TemporaryDirectory(prefix="alerting-bench-am-") as scratch:
        config = Path(scratch) / "alertmanager.yml"
        _write_config(config, receiver_url, **route)
        (port,) = free_ports(1)
        args = [
            f"--config.file={config}",
            f"--storage.path={Path(scratch) / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        log = Path(scratch) / "alertmanager.log"
        proc = _spawn(args, log)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            with httpx.Client(timeout=5) as http:
                while True:
                    try:
                        if http.get(f"{url}/-/ready").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"alertmanager did not start: {log.read_text()}")
                    time.sleep(0.1)
            yield Node(url, proc.pid)
        finally:
            _kill(proc)
