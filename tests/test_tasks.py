"""A loop that waits for its wake-up ends when it is cancelled, even when the wake-up comes at the same
moment (asyncio.wait_for loses that cancellation on Python 3.11, and stop() then waits for ever)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest

from alerting_server.tasks import cancel, wait_set


async def _swallowing_wait(event: asyncio.Event, timeout_s: float) -> bool:
    """The wait this module replaced, for the comparison."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout_s)
    return event.is_set()


async def _cancelled_as_woken(wait: Callable[[asyncio.Event, float], Awaitable[bool]]) -> bool:
    """Whether a loop waiting with `wait` ends when it is woken and cancelled at once."""
    event = asyncio.Event()

    async def loop() -> None:
        while True:
            event.clear()
            await wait(event, 30)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.01)
    event.set()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=1)
    ended = task in done
    if not ended:
        task.cancel()
        await asyncio.wait([task], timeout=1)
    return ended


async def test_a_wake_up_at_the_cancellation_does_not_keep_the_loop_running() -> None:
    assert await _cancelled_as_woken(wait_set)
    # The comparison shows the case is the one that matters: wait_for loses the cancellation here.
    assert not await _cancelled_as_woken(_swallowing_wait)


async def test_wait_set_says_whether_the_event_was_set() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_set(event, 5) is True
    assert await wait_set(event, 0) is True


async def test_cancel_waits_for_the_loop_to_end() -> None:
    ended = asyncio.Event()

    async def loop() -> None:
        try:
            await wait_set(asyncio.Event(), 30)
        finally:
            await asyncio.sleep(0.01)
            ended.set()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    await cancel(task)
    assert ended.is_set()
    with pytest.raises(asyncio.CancelledError):
        task.result()
