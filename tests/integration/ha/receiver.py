"""A webhook receiver on its own thread that records every request with the time it came and the
replica that sent it.

It runs on a thread, not on the test's event loop, because a test blocks that loop while it starts a
replica (seconds): a receiver on the loop would stall meanwhile, and deliveries would time out and be
retried for reasons of the test's own making.

Which replica sent a request is read from the kernel's socket tables when the connection is accepted:
the client end of the connection is a socket that one replica process has open (Linux /proc). That
tells a fenced replica's late delivery from the delivery of the replica that took its work over.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

IDEMPOTENCY_HEADER = "idempotency-key"  # notify/integrations/webhook/notifier.py, lower-cased


@dataclass(frozen=True)
class Received:
    at: float  # time.time() when the request was read
    path: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    sender: str | None  # the replica whose process held the client socket; None when not found
    status: int  # what the receiver answered

    @property
    def key(self) -> str:
        return self.headers.get(IDEMPOTENCY_HEADER, "")

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    def alert_labels(self) -> list[dict[str, str]]:
        """Labels of the firing alerts of the notification (Alertmanager webhook JSON)."""
        return [a["labels"] for a in self.json().get("alerts", []) if a.get("status") == "firing"]


class WebhookReceiver:
    """`status_of(path)` says what to answer (200 unless told), after `delay_s` seconds (a slow receiver
    keeps deliveries in flight); `processes()` names the replica pids."""

    def __init__(self, processes: Callable[[], Mapping[str, int]] = dict) -> None:
        self.processes = processes
        self.status_of: Callable[[str], int] = lambda path: 200
        self.delay_s = 0.0
        self._lock = threading.Lock()
        self._requests: list[Received] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="webhook")

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def _record(self, received: Received) -> None:
        with self._lock:
            self._requests.append(received)


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the notifiers' pooled clients expect
        sender: str | None = None

        def setup(self) -> None:
            super().setup()
            peer_port = int(self.client_address[1])
            self.sender = sending_process(peer_port, receiver.port, receiver.processes())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.status_of(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver._record(Received(time.time(), self.path, headers, body, self.sender, status))
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def sending_process(peer_port: int, server_port: int, processes: Mapping[str, int]) -> str | None:
    """The name of the process that holds the client end of the TCP connection 127.0.0.1:peer_port ->
    :server_port, by the socket's inode in /proc/net/tcp and the processes' open file descriptors."""
    inode = _client_inode(peer_port, server_port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for name, pid in processes.items():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return name
            except OSError:
                continue
    return None


def _client_inode(peer_port: int, server_port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if (
                int(local.rsplit(":", 1)[1], 16) == peer_port
                and int(remote.rsplit(":", 1)[1], 16) == server_port
            ):
                return inode
    return None
