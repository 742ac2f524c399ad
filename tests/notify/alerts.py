"""Alerts and messages the tests share."""

from __future__ import annotations

from alerting_server.model import Alert, AlertState
from alerting_server.notify.message import Message, build_message

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z


def firing(name: str, instance: str, severity: str = "critical", **annotations: str) -> Alert:
    return Alert(
        fingerprint=f"fp-{name}-{instance}",
        labels={"alertname": name, "instance": instance, "severity": severity},
        annotations=annotations,
        state=AlertState.FIRING,
        started_at=T0,
        fired_at=T0 + 60_000,
        generator_url=f"http://prom.example/graph?g0.expr={name}",
    )


def resolved(name: str, instance: str, severity: str = "critical", at: int = T0 + 120_500) -> Alert:
    return Alert(
        fingerprint=f"fp-{name}-{instance}",
        labels={"alertname": name, "instance": instance, "severity": severity},
        state=AlertState.RESOLVED,
        started_at=T0,
        resolved_at=at,
    )


def high_cpu_message(**kwargs: object) -> Message:
    return build_message(
        receiver="ops",
        group_key='{}:{alertname="HighCPU"}',
        group_labels={"alertname": "HighCPU"},
        firing=[firing("HighCPU", "b", summary="CPU high on b"), firing("HighCPU", "a", summary="CPU high")],
        resolved=[resolved("HighCPU", "c")],
        external_url="http://alerting.example",
        **kwargs,  # type: ignore[arg-type]
    )
