"""What the pipeline needs of persistence (store.Store provides it): its committed state, the
configuration that routes and mutes alerts, and one commit per step."""

from __future__ import annotations

from typing import Protocol

from alerting_server.escalation.policies import PolicyStore
from alerting_server.model.step import PipelineConfig, PipelineState, StepRecord


class AlertStore(PolicyStore, Protocol):
    async def pipeline_state(self) -> PipelineState: ...

    async def pipeline_config(self, now: int) -> PipelineConfig:
        """What routes, mutes and escalates alerts; of the schedules' overrides, those ending after `now`."""
        ...

    async def record_step(self, step: StepRecord) -> None:
        """Everything the step decided, in one transaction."""
        ...

    async def prune_history(self, before: int) -> int:
        """Deletes the history older than `before`; returns how many events went."""
        ...
