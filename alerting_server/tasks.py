"""The one way a loop's task is stopped: cancelled, then awaited until it has ended."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancels each task (None: nothing to stop) and waits until every one has ended, so that nothing
    it does runs on after the caller goes on."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(asyncio.CancelledError):
            await task
