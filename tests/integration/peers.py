"""Real Prometheus-ecosystem peers for compatibility tests, unpacked by scripts/install-prometheus.sh."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / ".tools" / "prometheus" / "usr" / "bin"


def peer_binary(name: str) -> Path:
    """The peer's binary; a missing one fails the test (CI must have it: `make peers` installs it)."""
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/install-prometheus.sh (`make peers` does)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class PeerProcess:
    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()

    def output(self) -> str:
        return self.log.read_text()
