"""Request messages built from plain Python arguments; shared by the sync and async clients.

Times are epoch milliseconds and durations milliseconds, as everywhere in the project.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import duration_pb2, timestamp_pb2

from alerting.v1 import alert_service_pb2, channel_service_pb2, metrics_service_pb2, silence_service_pb2


def timestamp(ms: int) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(ms)
    return ts


def duration(ms: int) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromMilliseconds(ms)
    return d


def list_alerts(
    state: alert_service_pb2.AlertState.ValueType | None,
    rule: str,
    filter: str,
    acknowledged: bool | None,
    page_size: int,
    page_token: str,
) -> alert_service_pb2.ListAlertsRequest:
    request = alert_service_pb2.ListAlertsRequest(
        rule=rule, filter=filter, page_size=page_size, page_token=page_token
    )
    if state is not None:
        request.state = state
    # `acknowledged` is a proto3 optional: unset means "both", so it is only set when asked.
    if acknowledged is not None:
        request.acknowledged = acknowledged
    return request


def watch_alerts(
    filter: str, states: Iterable[alert_service_pb2.AlertState.ValueType], since_revision: int
) -> alert_service_pb2.WatchAlertsRequest:
    return alert_service_pb2.WatchAlertsRequest(filter=filter, states=states, since_revision=since_revision)


def list_deliveries(
    channel_id: str,
    fingerprint: str,
    status: channel_service_pb2.DeliveryStatus.ValueType | None,
    page_size: int,
    page_token: str,
    newest_first: bool = False,
) -> channel_service_pb2.ListDeliveriesRequest:
    request = channel_service_pb2.ListDeliveriesRequest(
        channel_id=channel_id,
        fingerprint=fingerprint,
        page_size=page_size,
        page_token=page_token,
        newest_first=newest_first,
    )
    if status is not None:
        request.status = status
    return request


def list_silences(
    state: silence_service_pb2.SilenceState.ValueType | None, page_size: int, page_token: str
) -> silence_service_pb2.ListSilencesRequest:
    request = silence_service_pb2.ListSilencesRequest(page_size=page_size, page_token=page_token)
    if state is not None:
        request.state = state
    return request


def query(query: str, time_ms: int | None, datasource: str) -> metrics_service_pb2.QueryRequest:
    request = metrics_service_pb2.QueryRequest(query=query, datasource=datasource)
    if time_ms is not None:
        request.time.CopyFrom(timestamp(time_ms))
    return request


def selection(
    match: Iterable[str], start_ms: int | None, end_ms: int | None, limit: int
) -> metrics_service_pb2.SeriesSelection:
    selected = metrics_service_pb2.SeriesSelection(match=match, limit=limit)
    if start_ms is not None:
        selected.start.CopyFrom(timestamp(start_ms))
    if end_ms is not None:
        selected.end.CopyFrom(timestamp(end_ms))
    return selected


def query_range(
    query: str, start_ms: int, end_ms: int, step_ms: int, datasource: str
) -> metrics_service_pb2.QueryRangeRequest:
    return metrics_service_pb2.QueryRangeRequest(
        query=query,
        start=timestamp(start_ms),
        end=timestamp(end_ms),
        step=duration(step_ms),
        datasource=datasource,
    )
