"""What the pipeline needs of persistence (store.Store provides it): its committed state, the
configuration that routes and mutes alerts, and one commit per step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from alerting_server.escalation.policies import PolicyStore
from alerting_server.model.fence import Fence
from alerting_server.model.inbox import InboxItem, InboxKind
from alerting_server.model.step import PipelineConfig, PipelineState, StepRecord


class AlertStore(PolicyStore, Protocol):
    async def pipeline_state(self) -> PipelineState: ...

    async def pipeline_config(self) -> PipelineConfig: ...

    async def record_step(self, step: StepRecord) -> None:
        """Everything the step decided, in one transaction."""
        ...

    async def prune_history(self, before: int) -> int:
        """Deletes the history older than `before`; returns how many events went."""
        ...

    # Several replicas: what any replica takes for the pipeline, applied by the pipeline's owner.

    async def add_to_inbox(
        self, kind: InboxKind, payloads: Sequence[dict[str, Any]], now: int, fence: Fence | None = None
    ) -> list[int]: ...

    async def take_inbox(self, limit: int) -> list[InboxItem]: ...

    async def prune_watch_log(self, keep: int) -> int: ...
