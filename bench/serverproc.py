"""The real server as its own process on free ports in a scratch directory, for benchmarks."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

_READY = re.compile(r"gRPC on (\S+), HTTP on (\S+)")


@dataclass(frozen=True)
class Running:
    base_url: str
    grpc_target: str
    directory: str
    pid: int


def _copy(stream: IO[str], path: str) -> None:
    with open(path, "a") as out:
        for line in stream:
            out.write(line)
            out.flush()
            if " ERROR " in line or "Traceback" in line:
                sys.stderr.write(f"server: {line}")


@contextmanager
def running_server(args: Sequence[str] = ()) -> Iterator[Running]:
    """The server with `args` added to its `serve` command line."""
    with tempfile.TemporaryDirectory(prefix="alerting-bench-") as scratch:
        command = [sys.executable, "-m", "alerting_server.cli", "serve", "--log-level", "warning"]
        command += ["--grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", *args]
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
            # Keep reading what the server prints: a full pipe would block its logging, and it.
            log_path = f"{scratch}/server.log"
            threading.Thread(target=_copy, args=(proc.stdout, log_path), daemon=True).start()
            yield Running(f"http://{m.group(2)}", m.group(1), scratch, proc.pid)
        finally:
            proc.terminate()
            proc.wait(60)
            if proc.stdout is not None:
                proc.stdout.close()
