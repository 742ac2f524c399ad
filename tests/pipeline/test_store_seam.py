"""The pipeline against a tiny in-memory AlertStore: what a step commits is one StepRecord, and a
restart starts again from what was committed."""

from __future__ import annotations

from typing import Never

from alerting_server.alerts.watch import WatchHub
from alerting_server.errors import NotFound
from alerting_server.model import Channel, ChannelType, PostedAlert, Route
from alerting_server.model.step import PipelineConfig, PipelineState, StepRecord
from alerting_server.pipeline import AlertPipeline

T0 = 1_700_000_000_000
SEC = 1000
OPS = Channel(id="c1", name="ops", type=ChannelType.WEBHOOK, config={"url": "http://x"})


class Clock:
    def now_ms(self) -> int:
        return T0


class Nothing:
    async def get(self, id: str, /) -> Never:
        raise NotFound(id)


class MemoryStore:
    rules = Nothing()
    escalation_policies = Nothing()

    def __init__(self) -> None:
        self.steps: list[StepRecord] = []

    async def pipeline_state(self) -> PipelineState:
        alerts = {a.fingerprint: a for step in self.steps for a in step.alerts}
        sent = [row for step in self.steps for row in step.sent]
        return PipelineState(list(alerts.values()), [], sent)

    async def pipeline_config(self, now: int) -> PipelineConfig:
        return PipelineConfig(Route(receiver="ops", group_by=("alertname",), group_wait=0), [OPS], [], [])

    async def record_step(self, step: StepRecord) -> None:
        self.steps.append(step)

    async def prune_history(self, before: int) -> int:
        return 0


async def test_a_step_commits_the_alert_its_outbox_row_and_the_notification_log_together() -> None:
    store = MemoryStore()
    pipeline = AlertPipeline(store, Clock(), WatchHub())
    await pipeline.load()

    # group_wait 0: the post's own step flushes the group.
    [fp] = await pipeline.post([PostedAlert(labels={"alertname": "DiskFull"}, annotations={})])

    [flushed] = store.steps
    assert [a.fingerprint for a in flushed.alerts] == [fp]
    [(delivery, payload)] = flushed.outbox
    assert (delivery.channel_id, payload.receiver, [a.fingerprint for a in payload.firing]) == (
        "c1",
        "ops",
        [fp],
    )
    assert [row.receiver for row in flushed.sent] == ["ops"]
    assert [e.message for e in flushed.history][-1] == f"delivery {delivery.id}"

    # After a restart the notification log stops the same group from being sent again.
    restarted = AlertPipeline(store, Clock(), WatchHub())
    await restarted.load()
    await restarted.tick(T0 + 2 * SEC)
    assert not any(step.outbox for step in store.steps[1:])
