"""Fixtures and checks of the whole run."""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import AsyncIterator, Iterator
from types import FrameType
from typing import Any

import pytest

from tests.notify.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.close()


@pytest.fixture(scope="session", autouse=True)
def _leaves_nothing_in_the_temp_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The run has a temp folder of its own (the servers it starts inherit it), so that what other runs
    on the machine do meanwhile does not count: the server's private socket folders, named so in
    app.py, must all be gone at the end."""
    # pytest's own folder stays in the system temp folder.
    tmp_path_factory.getbasetemp()
    temp = tmp_path_factory.mktemp("temp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(temp))
        patch.setattr(tempfile, "tempdir", str(temp))
        yield
    left = sorted(entry.name for entry in temp.glob("alerting-*"))
    assert not left, f"the tests left these in the temp folder: {', '.join(left)}"


def _dump_where_it_waits() -> None:
    """Every thread's stack and every task of the running event loop with where it awaits: a hung
    async test's main thread shows only the loop's select, its tasks show what it waits for."""
    out = sys.__stderr__ or sys.stderr
    for ident, frame in sys._current_frames().items():
        if ident != threading.get_ident():
            print(f"--- thread {ident}", file=out)
            traceback.print_stack(frame, file=out)
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:
        return
    for task in tasks:
        print(f"--- {task!r}", file=out)
        task.print_stack(file=out)


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool:
    """pytest-timeout's signal method, with the event loop's tasks in the dump: a test that hangs
    fails with where it hung instead of holding up the run."""

    def expired(signum: int, frame: FrameType | None) -> None:
        _dump_where_it_waits()
        pytest.fail(f"Timeout >{settings.timeout}s")

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel  # type: ignore[attr-defined]
    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, settings.timeout)
    return True
