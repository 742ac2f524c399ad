"""A WatchAlerts subscriber over Server-Sent Events (GET /alerts/watch, gateway/sse.py) that records
every event and can resume on another replica from the last revision it saw."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import httpx

from tests.integration.ha.cluster import Replica


@dataclass(frozen=True)
class Event:
    revision: int
    type: str
    fingerprint: str
    replica: str  # the replica whose stream delivered it


@dataclass
class Subscriber:
    name: str
    events: list[Event] = field(default_factory=list)
    snapshot_revisions: list[int] = field(default_factory=list)
    # One line per stream: where, from which revision, and how it ended.
    streams: list[str] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def last_revision(self) -> int:
        """The latest revision seen: of a change, or of the snapshot when no change came yet."""
        seen = [e.revision for e in self.events] + self.snapshot_revisions
        return max(seen, default=0)

    def changes(self) -> list[Event]:
        return [e for e in self.events if e.type != "snapshot"]

    async def follow(self, replica: Replica, since_revision: int = 0) -> str:
        """Reads the stream until it ends; returns how it ended. Raises when the stream is refused."""
        self.connected.clear()
        params = {"since_revision": str(since_revision)} if since_revision else {}
        where = f"{replica.name} since {since_revision}"
        timeout = httpx.Timeout(10, read=None)
        try:
            async with (
                httpx.AsyncClient(base_url=replica.base_url, timeout=timeout) as client,
                client.stream("GET", "/alerts/watch", params=params) as response,
            ):
                if response.status_code != 200:
                    body = (await response.aread()).decode(errors="replace")
                    self.streams.append(f"{where}: refused with {response.status_code} {body}")
                    raise AssertionError(
                        f"{self.name}: watch on {where} refused: {response.status_code} {body}"
                    )
                self.connected.set()
                ending = await self._read(response, replica.name)
        except (httpx.TransportError, httpx.StreamError) as exc:
            ending = f"ended by {type(exc).__name__}: {exc}"
        self.streams.append(f"{where}: {ending}")
        return ending

    async def _read(self, response: httpx.Response, replica: str) -> str:
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line.startswith(":"):
                continue
            if line:
                key, _, value = line.partition(":")
                fields[key] = value.removeprefix(" ")
                continue
            if not fields:
                continue
            event, fields = fields, {}
            if event.get("event") == "error":
                return f"error event: {event.get('data')}"
            data = json.loads(event["data"])
            revision = int(event["id"])
            if event.get("event") == "snapshot":
                self.snapshot_revisions.append(revision)
                continue
            self.events.append(Event(revision, event.get("event", ""), data["alert"]["fingerprint"], replica))
        return "closed by the server"
