"""The real server as its own process on free ports in a scratch directory, for benchmarks."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_READY = re.compile(r"gRPC on (\S+), HTTP on (\S+)")


@dataclass(frozen=True)
class Running:
    base_url: str
    grpc_target: str
    directory: str


@contextmanager
def running_server() -> Iterator[Running]:
    with tempfile.TemporaryDirectory(prefix="alerting-bench-") as scratch:
        command = [sys.executable, "-m", "alerting_server.cli", "serve", "--log-level", "warning"]
        command += ["--grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"]
        proc = subprocess.Popen(
            command, cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                m = _READY.search(line)
                if m:
                    break
            else:
                raise RuntimeError("the server did not start")
            yield Running(f"http://{m.group(2)}", m.group(1), scratch)
        finally:
            proc.terminate()
            proc.wait(60)
            if proc.stdout is not None:
                proc.stdout.close()
