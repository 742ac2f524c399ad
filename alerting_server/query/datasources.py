"""Where a query runs: the embedded engine or a named Prometheus-compatible HTTP source."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import httpx

from alerting_server.config import EMBEDDED_DATASOURCE, DatasourceConfig
from alerting_server.errors import InvalidArgument
from alerting_server.outbound import GuardedTransport, OutboundPolicy
from alerting_server.query.labels import Labels
from alerting_server.query.remote import PrometheusSource
from alerting_server.query.result import Result

# Embedded queries in flight at once; more wait their turn (Prometheus' query.max-concurrency).
EMBEDDED_CONCURRENCY = 4


class LocalEngine(Protocol):
    """The embedded engine: synchronous, in-process (alerting_server.query.engine.Engine)."""

    def instant(self, query: str, t_ms: int) -> Result: ...

    def instant_many(self, queries: Iterable[str], t_ms: int) -> dict[str, list[tuple[Labels, float]]]: ...

    def range(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> Result: ...


class RemoteSource(Protocol):
    name: str

    async def instant(self, query: str, t_ms: int) -> Result: ...

    async def range(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> Result: ...


class Datasources:
    """The registry a query names its source in; "" and "embedded" both mean the local engine.

    The local engine runs in worker threads: a query, parse included, takes what its limits allow
    (engine.limits), and meanwhile the event loop serves everything else."""

    def __init__(
        self,
        embedded: LocalEngine,
        remote: Sequence[RemoteSource] = (),
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._embedded = embedded
        self._remote = {source.name: source for source in remote}
        self._client = client
        self._executor = ThreadPoolExecutor(EMBEDDED_CONCURRENCY, thread_name_prefix="query")

    @classmethod
    def from_config(
        cls,
        embedded: LocalEngine,
        configs: Sequence[DatasourceConfig],
        outbound: OutboundPolicy | None = None,
    ) -> Datasources:
        """One pooled HTTP client shared by every configured source, connecting where `outbound`
        allows; close() closes it."""
        if not configs:
            return cls(embedded)
        client = httpx.AsyncClient(transport=GuardedTransport(outbound or OutboundPolicy()))
        sources = [
            PrometheusSource(
                c.name,
                c.url,
                client=client,
                bearer_token=c.bearer_token,
                basic_auth=(c.basic_auth.username, c.basic_auth.password) if c.basic_auth else None,
                headers=dict(c.headers),
                timeout_ms=c.timeout_ms,
                max_response_bytes=c.max_response_bytes,
            )
            for c in configs
        ]
        return cls(embedded, sources, client)

    @property
    def names(self) -> list[str]:
        return [EMBEDDED_DATASOURCE, *self._remote]

    def _remote_source(self, name: str) -> RemoteSource | None:
        if name in ("", EMBEDDED_DATASOURCE):
            return None
        source = self._remote.get(name)
        if source is None:
            raise InvalidArgument.field(
                "datasource", f"unknown datasource {name!r}; configured: {', '.join(self.names)}"
            )
        return source

    async def instant(self, name: str, query: str, t_ms: int) -> Result:
        source = self._remote_source(name)
        if source is None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._embedded.instant, query, t_ms)
        return await source.instant(query, t_ms)

    async def range(self, name: str, query: str, start_ms: int, end_ms: int, step_ms: int) -> Result:
        source = self._remote_source(name)
        if source is None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, self._embedded.range, query, start_ms, end_ms, step_ms
            )
        return await source.range(query, start_ms, end_ms, step_ms)

    async def close(self) -> None:
        # A query still running stops at its deadline at the latest.
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            await self._client.aclose()
