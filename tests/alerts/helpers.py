"""Alert builders with explicit timestamps, and the clock and store the pipeline's tests start from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alerting_server.alerts import fingerprint
from alerting_server.model import Alert, AlertState, Channel, ChannelType, Route
from alerting_server.store import Store

T0 = 1_700_000_000_000
SEC = 1000


class Clock:
    """Time as the test sets it."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


def webhook(name: str) -> Channel:
    return Channel(name=name, type=ChannelType.WEBHOOK, config={"url": "http://x"})


def pagerduty(name: str) -> Channel:
    return Channel(name=name, type=ChannelType.PAGERDUTY, config={"routing_key": "k"})


@asynccontextmanager
async def pipeline_store(
    directory: Path, channels: list[Channel], route: Route | None = None
) -> AsyncIterator[Store]:
    """A migrated SQLite store in `directory` with these channels and routing tree, closed afterwards."""
    store = await Store.open(f"sqlite+aiosqlite:///{directory / 'a.db'}")
    try:
        await store.migrate()
        for channel in channels:
            await store.channels.create(channel, T0)
        if route is not None:
            await store.routing.put(route, T0)
        yield store
    finally:
        await store.close()


def firing(labels: dict[str, str], at: int = 0, **kw: object) -> Alert:
    return Alert(
        fingerprint=fingerprint(labels),
        labels=labels,
        state=AlertState.FIRING,
        started_at=at,
        fired_at=at,
        updated_at=at,
        **kw,  # type: ignore[arg-type]
    )


def resolved(alert: Alert, at: int) -> Alert:
    return Alert(
        fingerprint=alert.fingerprint,
        labels=alert.labels,
        state=AlertState.RESOLVED,
        annotations=alert.annotations,
        started_at=alert.started_at,
        fired_at=alert.fired_at,
        resolved_at=at,
        updated_at=at,
    )
