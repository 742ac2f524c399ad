"""The real `alerting-server serve` process, started for a test and talked to over the wire."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

_READY = re.compile(r"alerting-server: gRPC on (\S+), HTTP on (\S+)")


class ServerProcess:
    """Starts the server on free ports with its state in `database_url`; restartable on the same state."""

    def __init__(self, database_url: str, workdir: Path, extra_args: Sequence[str] = ()) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen[str] | None = None
        self.grpc_target = ""
        self.base_url = ""
        self.output: list[str] = []
        self._pump: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> None:
        cmd = [
            sys.executable,
            "-m",
            "alerting_server.cli",
            "serve",
            "--grpc-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--database-url",
            self.database_url,
            *self.extra_args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTING_")}
        # A SIGKILLed server cannot remove its private socket folder: it goes in the workdir, not in
        # the system temp folder.
        env["TMPDIR"] = str(self.workdir)
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        proc = self.proc

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                self.output.append(line)
                m = _READY.search(line)
                if m:
                    self.grpc_target, http = m.group(1), m.group(2)
                    self.base_url = f"http://{http}"
                    ready.set()

        pump_thread = threading.Thread(target=pump, daemon=True)
        pump_thread.start()
        self._pump = pump_thread
        deadline = time.monotonic() + timeout
        # A server that exits at start (a bad setting, a database it may not use) ends its output:
        # no need to wait the whole timeout for it.
        while not ready.wait(0.05) and pump_thread.is_alive() and time.monotonic() < deadline:
            pass
        if not ready.is_set():
            self.kill()
            output = "".join(self.output)
            raise RuntimeError(f"server did not start (exit code {proc.returncode}):\n{output}")

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self._reap(10)

    def _reap(self, timeout: float) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout)
        if self._pump is not None:
            self._pump.join(timeout)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait: the exit code of a graceful shutdown."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self._reap(timeout)

    def restart(self) -> None:
        self.kill()
        self.start()


def configured_server(workdir: Path, config: str) -> ServerProcess:
    """A server (not started) with its SQLite state in `workdir` and `config` as its YAML file there."""
    (workdir / "alerting.yaml").write_text(config)
    return ServerProcess(
        f"sqlite+aiosqlite:///{workdir / 'alerting.db'}",
        workdir,
        ["--config", str(workdir / "alerting.yaml")],
    )


def started_server(workdir: Path, config: str) -> ServerProcess:
    """configured_server, started."""
    proc = configured_server(workdir, config)
    proc.start()
    return proc
