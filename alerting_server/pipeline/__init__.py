"""The live alert pipeline: one loop runs the stages (expire, mute, escalate, dispatch) over the live
alerts, then records in one commit what they changed and the outbox rows they queued."""

from alerting_server.pipeline.pipeline import AlertPipeline

__all__ = ["AlertPipeline"]
