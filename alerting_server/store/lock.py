"""One server process per SQLite database file.

Two processes on one SQLite file would each run the alert pipeline and deliver every notification
twice; several replicas share state through PostgreSQL, which coordinates them. The lock is an
flock on a file beside the database, so the kernel drops it when its holder exits in any way,
SIGKILL included, and no stale lock ever has to be cleared by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from urllib.parse import urlsplit

from sqlalchemy.engine import URL

from alerting_server.store.connect import DatabaseUnavailable, is_memory


class DatabaseInUse(DatabaseUnavailable):
    """Another live process serves this SQLite database."""


class ProcessLock:
    """Held from `acquire()` until `release()` or the end of the process."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, url: URL) -> ProcessLock | None:
        """Locks the SQLite database file of `url` for this process (None for other databases and
        in-memory ones, which no other process can open). Raises DatabaseInUse naming the holder."""
        path = _database_file(url)
        if path is None:
            return None
        # Not inherited by child processes (os.open's default): only this process holds it.
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            pid = f" (pid {holder})" if holder.isdigit() else ""
            raise DatabaseInUse(
                f"database {url.database} is in use by another alerting-server process{pid}; "
                "several replicas need PostgreSQL"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # For the message of the process refused next; the lock itself is the flock.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(fd)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # Closing the only descriptor drops the flock.


def _database_file(url: URL) -> str | None:
    if url.get_backend_name() != "sqlite" or is_memory(url):
        return None
    path = url.database or ""
    if path.startswith("file:"):
        # A URI filename (sqlite:///file:name?mode=memory&uri=true): its parameters are the URL's.
        if url.query.get("mode") == "memory":
            return None
        return urlsplit(path).path
    return path
