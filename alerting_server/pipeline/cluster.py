"""What the pipeline asks of the cluster when several replicas share one PostgreSQL (cluster/node.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

from alerting_server.model import PostedAlert
from alerting_server.model.fence import Fence
from alerting_server.model.inbox import InboxItem, InboxKind, InboxPayloads

# How many inbox items one step applies at most.
INBOX_BATCH = 5000


class ClusterLink(Protocol):
    ttl_ms: int

    def pipeline_fence(self, partitions: Collection[int]) -> Fence | None:
        """The fence of a step's commit over these pipeline partitions, or None when this replica does
        not hold all their leases."""
        ...

    def pipeline_partition_count(self) -> int:
        """How many pipeline partitions there are (cluster.pipeline_partitions)."""
        ...

    def rule_fence(self, groups: Collection[str]) -> Fence | None:
        """The fence of rule alerts of these groups, or None when their partitions are not all held."""
        ...

    def partition_of(self, group: str) -> int: ...

    async def wait_applied(self, ids: Sequence[int], timeout_s: float) -> bool: ...

    def pulse_consumed(self) -> None: ...

    def published(self) -> None: ...

    async def catch_up(self) -> None: ...

    # The inbox and the watch log (in the cluster's database).

    async def add_to_inbox(
        self, kind: InboxKind, payloads: InboxPayloads, now: int, fence: Fence | None = None
    ) -> list[int]:
        """Stores (pipeline partition, payload) items; the owner of each partition applies its own."""
        ...

    async def take_inbox(self, partitions: Collection[int], limit: int) -> list[InboxItem]: ...

    async def prune_watch_log(self, keep: int) -> int: ...


def posted_to_json(alert: PostedAlert) -> dict[str, Any]:
    return {
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
        "generator_url": alert.generator_url,
    }


def posted_from_json(doc: dict[str, Any]) -> PostedAlert:
    return PostedAlert(
        labels=dict(doc["labels"]),
        annotations=dict(doc["annotations"]),
        starts_at=doc["starts_at"],
        ends_at=doc["ends_at"],
        generator_url=doc["generator_url"],
    )
