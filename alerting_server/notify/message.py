"""The notification data model: Alertmanager's template `Data`, built from our alerts.

One message is one aggregation group as one receiver sees it at one moment, firing and
resolved alerts together. Field names follow Alertmanager so that templates and webhook
receivers written for it keep working.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from alerting_server.model import Alert

Status = Literal["firing", "resolved"]

# Go's zero time.Time, which Alertmanager sends for an alert that has not ended.
GO_ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class AlertData:
    status: Status
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: int
    ends_at: int | None
    generator_url: str
    fingerprint: str
    # A signed link that acknowledges this alert; not part of Alertmanager's data.
    ack_url: str = ""


@dataclass(frozen=True)
class Message:
    receiver: str
    status: Status
    alerts: tuple[AlertData, ...]
    group_labels: Mapping[str, str]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]
    external_url: str
    group_key: str
    truncated_alerts: int = 0
    # A signed link that acknowledges the group; not part of Alertmanager's data.
    ack_url: str = ""

    @property
    def firing(self) -> tuple[AlertData, ...]:
        return tuple(a for a in self.alerts if a.status == "firing")

    @property
    def resolved(self) -> tuple[AlertData, ...]:
        return tuple(a for a in self.alerts if a.status == "resolved")


def build_message(
    *,
    receiver: str,
    group_key: str,
    group_labels: Mapping[str, str],
    firing: Iterable[Alert],
    resolved: Iterable[Alert] = (),
    external_url: str = "",
    ack_url: str = "",
    ack_urls: Mapping[str, str] | None = None,
    max_alerts: int = 0,
) -> Message:
    """Firing alerts first, then resolved ones, each ordered by label set so a group renders stably.

    `ack_urls` are the signed acknowledgement links of firing alerts, by fingerprint.
    """
    links = ack_urls or {}
    alerts = [
        replace(_alert_data(a, "firing"), ack_url=links.get(a.fingerprint, "")) for a in _sorted(firing)
    ]
    alerts += [_alert_data(a, "resolved") for a in _sorted(resolved)]
    message = Message(
        receiver=receiver,
        status="firing" if any(a.status == "firing" for a in alerts) else "resolved",
        alerts=tuple(alerts),
        group_labels=dict(group_labels),
        common_labels=_common(a.labels for a in alerts),
        common_annotations=_common(a.annotations for a in alerts),
        external_url=external_url,
        group_key=group_key,
        ack_url=ack_url,
    )
    return truncate(message, max_alerts)


def truncate(message: Message, max_alerts: int) -> Message:
    """At most `max_alerts` alerts (0: no cap), the rest counted, as Alertmanager's webhook does.

    Common labels and annotations are recomputed over what is kept, as Alertmanager builds the
    template data after truncating. The status stays the group's: it describes all the alerts.
    """
    if max_alerts <= 0 or len(message.alerts) <= max_alerts:
        return message
    kept = message.alerts[:max_alerts]
    return replace(
        message,
        alerts=kept,
        common_labels=_common(a.labels for a in kept),
        common_annotations=_common(a.annotations for a in kept),
        truncated_alerts=message.truncated_alerts + len(message.alerts) - max_alerts,
    )


def go_time(epoch_ms: int | None) -> str:
    """RFC 3339 with trailing zeros of the fraction dropped, as Go's time.Time marshals to JSON."""
    if epoch_ms is None:
        return GO_ZERO_TIME
    t = dt.datetime.fromtimestamp(epoch_ms // 1000, tz=dt.UTC)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    millis = epoch_ms % 1000
    if millis:
        text += "." + f"{millis:03d}".rstrip("0")
    return text + "Z"


def _alert_data(alert: Alert, status: Status) -> AlertData:
    ends_at = None
    if status == "resolved":
        ends_at = alert.resolved_at if alert.resolved_at is not None else alert.updated_at
    annotations = dict(alert.annotations)
    if alert.ack is not None:
        # Later notifications say who is on it, for every receiver (webhooks included).
        annotations["acknowledged_by"] = alert.ack.by
        annotations["acknowledged_at"] = go_time(alert.ack.at)
        if alert.ack.comment:
            annotations["acknowledgement_comment"] = alert.ack.comment
    return AlertData(
        status=status,
        labels=dict(alert.labels),
        annotations=annotations,
        starts_at=alert.started_at,
        ends_at=ends_at,
        generator_url=alert.generator_url,
        fingerprint=alert.fingerprint,
    )


def _sorted(alerts: Iterable[Alert]) -> Sequence[Alert]:
    return sorted(alerts, key=lambda a: sorted(a.labels.items()))


def _common(maps: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Pairs present with the same value in every map; empty for no maps."""
    it = iter(maps)
    first = next(it, None)
    if first is None:
        return {}
    common = dict(first)
    for m in it:
        common = {k: v for k, v in common.items() if m.get(k) == v}
    return common
