"""The one way a loop's task is stopped: cancelled, then awaited until it has ended; and the one way a
loop waits for its wake-up."""

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


async def wait_set(event: asyncio.Event, timeout_s: float) -> bool:
    """Waits until the event is set or `timeout_s` has passed; whether it is set.

    Not asyncio.wait_for: on Python 3.11 a cancellation that arrives as the event is set is lost there
    (wait_for returns the result), and a loop being stopped goes on for ever, its cancel() with it.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await event.wait()
    return event.is_set()
