"""AsyncAlertingClient: the asyncio client (grpc.aio), one typed method per RPC of alerting.v1."""

# `timeout` is the gRPC deadline, which travels to the server with the call; asyncio.timeout would
# only stop waiting locally. So these async methods take it as a parameter, like grpc.aio does.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from functools import partial
from types import TracebackType
from typing import Self, TypeVar

import grpc
import grpc.aio

from alerting.client import _requests
from alerting.client._config import (
    DEFAULT_RETRY,
    USE_CLIENT_DEFAULT,
    ChannelOption,
    ConnectConfig,
    RetryPolicy,
    Timeout,
    TLSConfig,
)
from alerting.client._pagination import async_pages
from alerting.client.errors import from_rpc_error
from alerting.v1 import ack_service_pb2 as ack_pb
from alerting.v1 import ack_service_pb2_grpc as ack_grpc
from alerting.v1 import alert_service_pb2 as alert_pb
from alerting.v1 import alert_service_pb2_grpc as alert_grpc
from alerting.v1 import channel_service_pb2 as channel_pb
from alerting.v1 import channel_service_pb2_grpc as channel_grpc
from alerting.v1 import cluster_service_pb2 as cluster_pb
from alerting.v1 import cluster_service_pb2_grpc as cluster_grpc
from alerting.v1 import config_service_pb2 as config_pb
from alerting.v1 import config_service_pb2_grpc as config_grpc
from alerting.v1 import escalation_policy_service_pb2 as escalation_pb
from alerting.v1 import escalation_policy_service_pb2_grpc as escalation_grpc
from alerting.v1 import metrics_service_pb2 as metrics_pb
from alerting.v1 import metrics_service_pb2_grpc as metrics_grpc
from alerting.v1 import routing_service_pb2 as routing_pb
from alerting.v1 import routing_service_pb2_grpc as routing_grpc
from alerting.v1 import rule_service_pb2 as rule_pb
from alerting.v1 import rule_service_pb2_grpc as rule_grpc
from alerting.v1 import schedule_service_pb2 as schedule_pb
from alerting.v1 import schedule_service_pb2_grpc as schedule_grpc
from alerting.v1 import silence_service_pb2 as silence_pb
from alerting.v1 import silence_service_pb2_grpc as silence_grpc
from alerting.v1 import time_interval_service_pb2 as time_interval_pb
from alerting.v1 import time_interval_service_pb2_grpc as time_interval_grpc
from alerting.v1 import user_service_pb2 as user_pb
from alerting.v1 import user_service_pb2_grpc as user_grpc

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class AsyncAlertingClient:
    """Asyncio client of the alerting service over one grpc.aio channel; same behaviour as AlertingClient.

    Create it inside a running event loop (`await AsyncAlertingClient.connect(...)` or
    `async with AsyncAlertingClient(...)`), since the aio channel binds to the loop.
    """

    def __init__(
        self,
        target: str,
        *,
        tls: bool | TLSConfig = False,
        token: str | None = None,
        timeout: float | None = 10.0,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        metadata: Sequence[tuple[str, str]] = (),
        options: Sequence[ChannelOption] = (),
    ) -> None:
        self._config = ConnectConfig(target, tls, token, timeout, retry, tuple(metadata), tuple(options))
        credentials = self._config.credentials()
        if credentials is None:
            self._channel = grpc.aio.insecure_channel(target, options=self._config.channel_options())
        else:
            self._channel = grpc.aio.secure_channel(
                target, credentials, options=self._config.channel_options()
            )
        self._metadata = self._config.call_metadata()
        self._rules = rule_grpc.RuleServiceStub(self._channel)
        self._alerts = alert_grpc.AlertServiceStub(self._channel)
        self._acks = ack_grpc.AckServiceStub(self._channel)
        self._channels = channel_grpc.ChannelServiceStub(self._channel)
        self._silences = silence_grpc.SilenceServiceStub(self._channel)
        self._routing = routing_grpc.RoutingServiceStub(self._channel)
        self._escalation = escalation_grpc.EscalationPolicyServiceStub(self._channel)
        self._time_intervals = time_interval_grpc.TimeIntervalServiceStub(self._channel)
        self._metrics = metrics_grpc.MetricsServiceStub(self._channel)
        self._cluster = cluster_grpc.ClusterServiceStub(self._channel)
        self._am_config = config_grpc.ConfigServiceStub(self._channel)
        self._users = user_grpc.UserServiceStub(self._channel)
        self._schedules = schedule_grpc.ScheduleServiceStub(self._channel)

    @classmethod
    async def connect(
        cls,
        target: str,
        *,
        tls: bool | TLSConfig = False,
        token: str | None = None,
        timeout: float | None = 10.0,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        metadata: Sequence[tuple[str, str]] = (),
        options: Sequence[ChannelOption] = (),
    ) -> Self:
        """A client for `target` ("host:port"); the channel connects lazily on the first call."""
        return cls(
            target, tls=tls, token=token, timeout=timeout, retry=retry, metadata=metadata, options=options
        )

    async def close(self) -> None:
        await self._channel.close(grace=None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _unary(
        self, method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp], request: Req, timeout: Timeout
    ) -> Resp:
        try:
            return await method(
                request, timeout=self._config.resolve_timeout(timeout), metadata=self._metadata
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from exc

    async def _list(
        self,
        method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp],
        request: Callable[..., Req],
        page_size: int,
        page_token: str,
        timeout: Timeout,
    ) -> Resp:
        """One page of a list that takes no filters."""
        return await self._unary(method, request(page_size=page_size, page_token=page_token), timeout)

    # Rules

    async def create_rule(self, rule: rule_pb.Rule, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> rule_pb.Rule:
        return (await self._unary(self._rules.CreateRule, rule_pb.CreateRuleRequest(rule=rule), timeout)).rule

    async def get_rule(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> rule_pb.Rule:
        return (await self._unary(self._rules.GetRule, rule_pb.GetRuleRequest(id=id), timeout)).rule

    async def list_rules(
        self, *, page_size: int = 0, page_token: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> rule_pb.ListRulesResponse:
        return await self._list(
            self._rules.ListRules, rule_pb.ListRulesRequest, page_size, page_token, timeout
        )

    def iter_rules(
        self, *, page_size: int = 0, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> AsyncIterator[rule_pb.Rule]:
        return async_pages(
            partial(self.list_rules, page_size=page_size, timeout=timeout),
            lambda page: page.rules,
        )

    async def update_rule(
        self, id: str, rule: rule_pb.Rule, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> rule_pb.Rule:
        return (
            await self._unary(self._rules.UpdateRule, rule_pb.UpdateRuleRequest(id=id, rule=rule), timeout)
        ).rule

    async def delete_rule(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> None:
        await self._unary(self._rules.DeleteRule, rule_pb.DeleteRuleRequest(id=id), timeout)

    async def import_rules(
        self, content: str, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> rule_pb.ImportRulesResponse:
        """Create or replace the rules of a Prometheus rule file (YAML text): the stored rules, and
        for each whether the import created, updated or left it unchanged."""
        return await self._unary(
            self._rules.ImportRules, rule_pb.ImportRulesRequest(content=content), timeout
        )

    async def export_rules(self, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> str:
        """Every rule as a Prometheus rule file (YAML text)."""
        return (await self._unary(self._rules.ExportRules, rule_pb.ExportRulesRequest(), timeout)).content

    # Alerts

    async def list_alerts(
        self,
        *,
        state: alert_pb.AlertState.ValueType | None = None,
        rule: str = "",
        filter: str = "",
        acknowledged: bool | None = None,
        page_size: int = 0,
        page_token: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> alert_pb.ListAlertsResponse:
        request = _requests.list_alerts(state, rule, filter, acknowledged, page_size, page_token)
        return await self._unary(self._alerts.ListAlerts, request, timeout)

    def iter_alerts(
        self,
        *,
        state: alert_pb.AlertState.ValueType | None = None,
        rule: str = "",
        filter: str = "",
        acknowledged: bool | None = None,
        page_size: int = 0,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> AsyncIterator[alert_pb.Alert]:
        return async_pages(
            partial(
                self.list_alerts,
                state=state,
                rule=rule,
                filter=filter,
                acknowledged=acknowledged,
                page_size=page_size,
                timeout=timeout,
            ),
            lambda page: page.alerts,
        )

    async def create_alerts(
        self, alerts: Sequence[alert_pb.PostableAlert], *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> list[str]:
        """Posts alerts from outside; returns their fingerprints in order."""
        request = alert_pb.CreateAlertsRequest(alerts=alerts)
        return list((await self._unary(self._alerts.CreateAlerts, request, timeout)).fingerprints)

    async def get_alert(self, fingerprint: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> alert_pb.Alert:
        request = alert_pb.GetAlertRequest(fingerprint=fingerprint)
        return (await self._unary(self._alerts.GetAlert, request, timeout)).alert

    async def list_alert_history(
        self,
        fingerprint: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> alert_pb.ListAlertHistoryResponse:
        request = alert_pb.ListAlertHistoryRequest(
            fingerprint=fingerprint, page_size=page_size, page_token=page_token
        )
        return await self._unary(self._alerts.ListAlertHistory, request, timeout)

    def iter_alert_history(
        self, fingerprint: str, *, page_size: int = 0, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> AsyncIterator[alert_pb.AlertHistoryEvent]:
        return async_pages(
            partial(self.list_alert_history, fingerprint, page_size=page_size, timeout=timeout),
            lambda page: page.events,
        )

    async def list_alert_groups(
        self, *, page_size: int = 0, page_token: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> alert_pb.ListAlertGroupsResponse:
        return await self._list(
            self._alerts.ListAlertGroups, alert_pb.ListAlertGroupsRequest, page_size, page_token, timeout
        )

    def iter_alert_groups(
        self, *, page_size: int = 0, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> AsyncIterator[alert_pb.AlertGroup]:
        return async_pages(
            partial(self.list_alert_groups, page_size=page_size, timeout=timeout),
            lambda page: page.groups,
        )

    async def watch_alerts(
        self,
        *,
        filter: str = "",
        states: Iterable[alert_pb.AlertState.ValueType] = (),
        since_revision: int = 0,
        timeout: float | None = None,
    ) -> AsyncGenerator[alert_pb.WatchAlertsResponse]:
        """The alert event stream; it has no deadline unless `timeout` is given.

        Closing the iterator (`aclose()`, or `contextlib.aclosing(...)`) cancels the stream.
        """
        request = _requests.watch_alerts(filter, states, since_revision)
        call = self._alerts.WatchAlerts(request, timeout=timeout, metadata=self._metadata)
        try:
            async for response in call:
                yield response
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from exc
        finally:
            call.cancel()

    # Acknowledgement

    async def acknowledge(
        self, fingerprint: str, *, by: str, comment: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> alert_pb.Alert:
        request = ack_pb.AcknowledgeRequest(fingerprint=fingerprint, by=by, comment=comment)
        return (await self._unary(self._acks.Acknowledge, request, timeout)).alert

    async def unacknowledge(
        self, fingerprint: str, *, by: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> alert_pb.Alert:
        request = ack_pb.UnacknowledgeRequest(fingerprint=fingerprint, by=by)
        return (await self._unary(self._acks.Unacknowledge, request, timeout)).alert

    async def get_ack_token(
        self, token: str, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> ack_pb.GetAckTokenResponse:
        """The alert a signed acknowledgement link names, and when the link expires."""
        request = ack_pb.GetAckTokenRequest(token=token)
        return await self._unary(self._acks.GetAckToken, request, timeout)

    async def acknowledge_by_token(
        self, token: str, *, by: str = "", comment: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> alert_pb.Alert:
        request = ack_pb.AcknowledgeByTokenRequest(token=token, by=by, comment=comment)
        return (await self._unary(self._acks.AcknowledgeByToken, request, timeout)).alert

    # Channels and deliveries

    async def create_channel(
        self, channel: channel_pb.Channel, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> channel_pb.Channel:
        request = channel_pb.CreateChannelRequest(channel=channel)
        return (await self._unary(self._channels.CreateChannel, request, timeout)).channel

    async def get_channel(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> channel_pb.Channel:
        return (
            await self._unary(self._channels.GetChannel, channel_pb.GetChannelRequest(id=id), timeout)
        ).channel

    async def list_channels(
        self, *, page_size: int = 0, page_token: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> channel_pb.ListChannelsResponse:
        return await self._list(
            self._channels.ListChannels, channel_pb.ListChannelsRequest, page_size, page_token, timeout
        )

    def iter_channels(
        self, *, page_size: int = 0, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> AsyncIterator[channel_pb.Channel]:
        return async_pages(
            partial(self.list_channels, page_size=page_size, timeout=timeout),
            lambda page: page.channels,
        )

    async def update_channel(
        self, id: str, channel: channel_pb.Channel, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> channel_pb.Channel:
        request = channel_pb.UpdateChannelRequest(id=id, channel=channel)
        return (await self._unary(self._channels.UpdateChannel, request, timeout)).channel

    async def delete_channel(
        self, id: str, *, cascade: bool = False, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> None:
        """Refused while routes or escalation levels use the channel, unless `cascade` removes those uses."""
        request = channel_pb.DeleteChannelRequest(id=id, cascade=cascade)
        await self._unary(self._channels.DeleteChannel, request, timeout)

    async def test_channel(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> channel_pb.Delivery:
        """Send a test notification through the channel now; returns its delivery."""
        return (
            await self._unary(self._channels.TestChannel, channel_pb.TestChannelRequest(id=id), timeout)
        ).delivery

    async def list_deliveries(
        self,
        *,
        channel_id: str = "",
        fingerprint: str = "",
        status: channel_pb.DeliveryStatus.ValueType | None = None,
        page_size: int = 0,
        page_token: str = "",
        newest_first: bool = False,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> channel_pb.ListDeliveriesResponse:
        request = _requests.list_deliveries(
            channel_id, fingerprint, status, page_size, page_token, newest_first
        )
        return await self._unary(self._channels.ListDeliveries, request, timeout)

    def iter_deliveries(
        self,
        *,
        channel_id: str = "",
        fingerprint: str = "",
        status: channel_pb.DeliveryStatus.ValueType | None = None,
        page_size: int = 0,
        newest_first: bool = False,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> AsyncIterator[channel_pb.Delivery]:
        return async_pages(
            partial(
                self.list_deliveries,
                channel_id=channel_id,
                fingerprint=fingerprint,
                status=status,
                page_size=page_size,
                newest_first=newest_first,
                timeout=timeout,
            ),
            lambda page: page.deliveries,
        )

    # Silences

    async def create_silence(
        self, silence: silence_pb.Silence, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> silence_pb.Silence:
        request = silence_pb.CreateSilenceRequest(silence=silence)
        return (await self._unary(self._silences.CreateSilence, request, timeout)).silence

    async def get_silence(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> silence_pb.Silence:
        return (
            await self._unary(self._silences.GetSilence, silence_pb.GetSilenceRequest(id=id), timeout)
        ).silence

    async def list_silences(
        self,
        *,
        state: silence_pb.SilenceState.ValueType | None = None,
        page_size: int = 0,
        page_token: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> silence_pb.ListSilencesResponse:
        request = _requests.list_silences(state, page_size, page_token)
        return await self._unary(self._silences.ListSilences, request, timeout)

    def iter_silences(
        self,
        *,
        state: silence_pb.SilenceState.ValueType | None = None,
        page_size: int = 0,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> AsyncIterator[silence_pb.Silence]:
        return async_pages(
            partial(self.list_silences, state=state, page_size=page_size, timeout=timeout),
            lambda page: page.silences,
        )

    async def update_silence(
        self, id: str, silence: silence_pb.Silence, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> silence_pb.Silence:
        """Alertmanager's update: in place, or a new silence (new id) when the matchers changed."""
        request = silence_pb.UpdateSilenceRequest(id=id, silence=silence)
        return (await self._unary(self._silences.UpdateSilence, request, timeout)).silence

    async def expire_silence(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> None:
        await self._unary(self._silences.ExpireSilence, silence_pb.ExpireSilenceRequest(id=id), timeout)

    # Routing tree and inhibition

    async def get_routing(self, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> routing_pb.Route:
        return (await self._unary(self._routing.GetRouting, routing_pb.GetRoutingRequest(), timeout)).route

    async def update_routing(
        self, route: routing_pb.Route, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> routing_pb.Route:
        request = routing_pb.UpdateRoutingRequest(route=route)
        return (await self._unary(self._routing.UpdateRouting, request, timeout)).route

    async def test_routes(
        self, labels: Mapping[str, str], *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> list[routing_pb.RouteMatch]:
        """The routes, in order, that an alert with these labels reaches."""
        request = routing_pb.TestRoutesRequest(labels=labels)
        return list((await self._unary(self._routing.TestRoutes, request, timeout)).matches)

    async def create_inhibit_rule(
        self, inhibit_rule: routing_pb.InhibitRule, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> routing_pb.InhibitRule:
        request = routing_pb.CreateInhibitRuleRequest(inhibit_rule=inhibit_rule)
        return (await self._unary(self._routing.CreateInhibitRule, request, timeout)).inhibit_rule

    async def get_inhibit_rule(
        self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> routing_pb.InhibitRule:
        request = routing_pb.GetInhibitRuleRequest(id=id)
        return (await self._unary(self._routing.GetInhibitRule, request, timeout)).inhibit_rule

    async def list_inhibit_rules(
        self, *, page_size: int = 0, page_token: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> routing_pb.ListInhibitRulesResponse:
        return await self._list(
            self._routing.ListInhibitRules, routing_pb.ListInhibitRulesRequest, page_size, page_token, timeout
        )

    def iter_inhibit_rules(
        self, *, page_size: int = 0, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> AsyncIterator[routing_pb.InhibitRule]:
        return async_pages(
            partial(self.list_inhibit_rules, page_size=page_size, timeout=timeout),
            lambda page: page.inhibit_rules,
        )

    async def delete_inhibit_rule(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> None:
        await self._unary(
            self._routing.DeleteInhibitRule, routing_pb.DeleteInhibitRuleRequest(id=id), timeout
        )

    # Escalation policies

    async def create_escalation_policy(
        self, escalation_policy: escalation_pb.EscalationPolicy, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> escalation_pb.EscalationPolicy:
        request = escalation_pb.CreateEscalationPolicyRequest(escalation_policy=escalation_policy)
        return (
            await self._unary(self._escalation.CreateEscalationPolicy, request, timeout)
        ).escalation_policy

    async def get_escalation_policy(
        self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> escalation_pb.EscalationPolicy:
        request = escalation_pb.GetEscalationPolicyRequest(id=id)
        return (await self._unary(self._escalation.GetEscalationPolicy, request, timeout)).escalation_policy

    async def list_escalation_policies(
        self, *, page_size: int = 0, page_token: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> escalation_pb.ListEscalationPoliciesResponse:
        return await self._list(
            self._escalation.ListEscalationPolicies,
            escalation_pb.ListEscalationPoliciesRequest,
            page_size,
            page_token,
            timeout,
        )

    def iter_escalation_policies(
        self, *, page_size: int = 0, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> AsyncIterator[escalation_pb.EscalationPolicy]:
        return async_pages(
            partial(self.list_escalation_policies, page_size=page_size, timeout=timeout),
            lambda page: page.escalation_policies,
        )

    async def update_escalation_policy(
        self,
        id: str,
        escalation_policy: escalation_pb.EscalationPolicy,
        *,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> escalation_pb.EscalationPolicy:
        request = escalation_pb.UpdateEscalationPolicyRequest(id=id, escalation_policy=escalation_policy)
        return (
            await self._unary(self._escalation.UpdateEscalationPolicy, request, timeout)
        ).escalation_policy

    async def delete_escalation_policy(
        self, id: str, *, cascade: bool = False, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> None:
        """Refused while routes or rules use the policy, unless `cascade` removes those uses."""
        request = escalation_pb.DeleteEscalationPolicyRequest(id=id, cascade=cascade)
        await self._unary(self._escalation.DeleteEscalationPolicy, request, timeout)

    # Time intervals

    async def create_time_interval(
        self, time_interval: time_interval_pb.TimeInterval, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> time_interval_pb.TimeInterval:
        """`time_interval.time_intervals` holds Alertmanager's documents (Structs), as in alertmanager.yml."""
        request = time_interval_pb.CreateTimeIntervalRequest(time_interval=time_interval)
        return (await self._unary(self._time_intervals.CreateTimeInterval, request, timeout)).time_interval

    async def get_time_interval(
        self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> time_interval_pb.TimeInterval:
        """By id or name."""
        request = time_interval_pb.GetTimeIntervalRequest(id=id)
        return (await self._unary(self._time_intervals.GetTimeInterval, request, timeout)).time_interval

    async def list_time_intervals(
        self, *, page_size: int = 0, page_token: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> time_interval_pb.ListTimeIntervalsResponse:
        return await self._list(
            self._time_intervals.ListTimeIntervals,
            time_interval_pb.ListTimeIntervalsRequest,
            page_size,
            page_token,
            timeout,
        )

    def iter_time_intervals(
        self, *, page_size: int = 0, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> AsyncIterator[time_interval_pb.TimeInterval]:
        return async_pages(
            partial(self.list_time_intervals, page_size=page_size, timeout=timeout),
            lambda page: page.time_intervals,
        )

    async def update_time_interval(
        self,
        id: str,
        time_interval: time_interval_pb.TimeInterval,
        *,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> time_interval_pb.TimeInterval:
        """Replaces the name and specs; a rename is refused while routes name the interval."""
        request = time_interval_pb.UpdateTimeIntervalRequest(id=id, time_interval=time_interval)
        return (await self._unary(self._time_intervals.UpdateTimeInterval, request, timeout)).time_interval

    async def delete_time_interval(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> None:
        """Refused while routes name the interval, or when a configuration file owns it."""
        request = time_interval_pb.DeleteTimeIntervalRequest(id=id)
        await self._unary(self._time_intervals.DeleteTimeInterval, request, timeout)

    # Users

    async def create_user(self, user: user_pb.User, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> user_pb.User:
        return (await self._unary(self._users.CreateUser, user_pb.CreateUserRequest(user=user), timeout)).user

    async def get_user(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> user_pb.User:
        return (await self._unary(self._users.GetUser, user_pb.GetUserRequest(id=id), timeout)).user

    async def list_users(
        self, *, page_size: int = 0, page_token: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> user_pb.ListUsersResponse:
        return await self._list(
            self._users.ListUsers, user_pb.ListUsersRequest, page_size, page_token, timeout
        )

    def iter_users(
        self, *, page_size: int = 0, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> AsyncIterator[user_pb.User]:
        return async_pages(
            partial(self.list_users, page_size=page_size, timeout=timeout), lambda page: page.users
        )

    async def update_user(
        self, id: str, user: user_pb.User, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> user_pb.User:
        request = user_pb.UpdateUserRequest(id=id, user=user)
        return (await self._unary(self._users.UpdateUser, request, timeout)).user

    async def delete_user(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> None:
        """Refused while an escalation level or a schedule names the user; their channels go with them."""
        await self._unary(self._users.DeleteUser, user_pb.DeleteUserRequest(id=id), timeout)

    # On-call schedules

    async def create_schedule(
        self, schedule: schedule_pb.Schedule, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> schedule_pb.Schedule:
        request = schedule_pb.CreateScheduleRequest(schedule=schedule)
        return (await self._unary(self._schedules.CreateSchedule, request, timeout)).schedule

    async def get_schedule(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> schedule_pb.Schedule:
        request = schedule_pb.GetScheduleRequest(id=id)
        return (await self._unary(self._schedules.GetSchedule, request, timeout)).schedule

    async def list_schedules(
        self, *, page_size: int = 0, page_token: str = "", timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> schedule_pb.ListSchedulesResponse:
        return await self._list(
            self._schedules.ListSchedules, schedule_pb.ListSchedulesRequest, page_size, page_token, timeout
        )

    def iter_schedules(
        self, *, page_size: int = 0, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> AsyncIterator[schedule_pb.Schedule]:
        return async_pages(
            partial(self.list_schedules, page_size=page_size, timeout=timeout), lambda page: page.schedules
        )

    async def update_schedule(
        self, id: str, schedule: schedule_pb.Schedule, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> schedule_pb.Schedule:
        request = schedule_pb.UpdateScheduleRequest(id=id, schedule=schedule)
        return (await self._unary(self._schedules.UpdateSchedule, request, timeout)).schedule

    async def delete_schedule(self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> None:
        """Refused while an escalation level names the schedule; its overrides go with it."""
        await self._unary(self._schedules.DeleteSchedule, schedule_pb.DeleteScheduleRequest(id=id), timeout)

    async def create_override(
        self, schedule_id: str, override: schedule_pb.Override, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> schedule_pb.Override:
        request = schedule_pb.CreateOverrideRequest(schedule_id=schedule_id, override=override)
        return (await self._unary(self._schedules.CreateOverride, request, timeout)).override

    async def list_overrides(
        self,
        schedule_id: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        page_size: int = 0,
        page_token: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> schedule_pb.ListOverridesResponse:
        request = schedule_pb.ListOverridesRequest(
            schedule_id=schedule_id, page_size=page_size, page_token=page_token
        )
        if start_ms is not None:
            request.start.FromMilliseconds(start_ms)
        if end_ms is not None:
            request.end.FromMilliseconds(end_ms)
        return await self._unary(self._schedules.ListOverrides, request, timeout)

    def iter_overrides(
        self,
        schedule_id: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        page_size: int = 0,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> AsyncIterator[schedule_pb.Override]:
        return async_pages(
            partial(
                self.list_overrides,
                schedule_id,
                start_ms=start_ms,
                end_ms=end_ms,
                page_size=page_size,
                timeout=timeout,
            ),
            lambda page: page.overrides,
        )

    async def delete_override(
        self, schedule_id: str, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> None:
        request = schedule_pb.DeleteOverrideRequest(schedule_id=schedule_id, id=id)
        await self._unary(self._schedules.DeleteOverride, request, timeout)

    async def get_on_call(
        self, id: str, *, at_ms: int | None = None, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> schedule_pb.GetOnCallResponse:
        """Who is on call in the schedule at `at_ms` (default: now), and until when."""
        request = schedule_pb.GetOnCallRequest(id=id)
        if at_ms is not None:
            request.at.FromMilliseconds(at_ms)
        return await self._unary(self._schedules.GetOnCall, request, timeout)

    async def get_final_schedule(
        self, id: str, *, start_ms: int, end_ms: int, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> list[schedule_pb.Shift]:
        request = schedule_pb.GetFinalScheduleRequest(id=id)
        request.start.FromMilliseconds(start_ms)
        request.end.FromMilliseconds(end_ms)
        return list((await self._unary(self._schedules.GetFinalSchedule, request, timeout)).shifts)

    async def get_calendar_link(
        self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> schedule_pb.GetCalendarLinkResponse:
        """The secret address of the schedule's iCalendar feed (for calendar apps): it is the credential."""
        request = schedule_pb.GetCalendarLinkRequest(id=id)
        return await self._unary(self._schedules.GetCalendarLink, request, timeout)

    async def reset_calendar_link(
        self, id: str, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> schedule_pb.ResetCalendarLinkResponse:
        """A new secret address for the schedule's feed; the links given before stop working."""
        request = schedule_pb.ResetCalendarLinkRequest(id=id)
        return await self._unary(self._schedules.ResetCalendarLink, request, timeout)

    async def get_calendar_feed(
        self, token: str, *, start_ms: int, end_ms: int, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> schedule_pb.GetCalendarFeedResponse:
        """The schedule and its shifts over [start_ms, end_ms) that a calendar link's token names."""
        request = schedule_pb.GetCalendarFeedRequest(token=token)
        request.start.FromMilliseconds(start_ms)
        request.end.FromMilliseconds(end_ms)
        return await self._unary(self._schedules.GetCalendarFeed, request, timeout)

    # Metrics

    async def write(
        self, samples: Iterable[metrics_pb.Sample], *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> metrics_pb.WriteResponse:
        """Write samples to the embedded store; the response counts accepted and rejected ones."""
        return await self._unary(self._metrics.Write, metrics_pb.WriteRequest(samples=samples), timeout)

    async def query(
        self,
        query: str,
        *,
        time_ms: int | None = None,
        datasource: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> metrics_pb.QueryResponse:
        """An instant PromQL query at `time_ms` (epoch ms; the server's now when None)."""
        return await self._unary(self._metrics.Query, _requests.query(query, time_ms, datasource), timeout)

    async def query_range(
        self,
        query: str,
        *,
        start_ms: int,
        end_ms: int,
        step_ms: int,
        datasource: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> metrics_pb.QueryRangeResponse:
        request = _requests.query_range(query, start_ms, end_ms, step_ms, datasource)
        return await self._unary(self._metrics.QueryRange, request, timeout)

    async def list_label_names(
        self,
        match: Iterable[str] = (),
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 0,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> metrics_pb.ListLabelNamesResponse:
        """Label names of the embedded store's series matching any of `match` (every series if none)
        with samples between `start_ms` and `end_ms` (epoch ms; None: unbounded)."""
        selection = _requests.selection(match, start_ms, end_ms, limit)
        request = metrics_pb.ListLabelNamesRequest(selection=selection)
        return await self._unary(self._metrics.ListLabelNames, request, timeout)

    async def list_label_values(
        self,
        name: str,
        match: Iterable[str] = (),
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 0,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> metrics_pb.ListLabelValuesResponse:
        """Values of label `name` in the series list_label_names looks at."""
        selection = _requests.selection(match, start_ms, end_ms, limit)
        request = metrics_pb.ListLabelValuesRequest(name=name, selection=selection)
        return await self._unary(self._metrics.ListLabelValues, request, timeout)

    async def list_series(
        self,
        match: Iterable[str],
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 0,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> metrics_pb.ListSeriesResponse:
        """Label sets of the embedded store's series matching any of `match` (at least one)."""
        selection = _requests.selection(match, start_ms, end_ms, limit)
        request = metrics_pb.ListSeriesRequest(selection=selection)
        return await self._unary(self._metrics.ListSeries, request, timeout)

    # Cluster

    async def get_cluster(self, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> list[cluster_pb.Replica]:
        """The replicas serving the API as one system, by id, with the leases each holds (one replica,
        holding none, on SQLite); `this_replica` marks the one that answered."""
        return list(
            (await self._unary(self._cluster.GetCluster, cluster_pb.GetClusterRequest(), timeout)).replicas
        )

    # Alertmanager configuration

    async def check_config(
        self, content: str, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> config_pb.CheckConfigResponse:
        """Validates an Alertmanager configuration (YAML text) without applying it: whether it loads,
        its problems by field and line, and what it holds."""
        return await self._unary(
            self._am_config.CheckConfig, config_pb.CheckConfigRequest(content=content), timeout
        )

    async def import_config(
        self, content: str, name: str = "", *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> config_pb.ImportConfigResponse:
        """Applies an Alertmanager configuration; a later import replaces what this one made."""
        request = config_pb.ImportConfigRequest(content=content, name=name)
        return await self._unary(self._am_config.ImportConfig, request, timeout)

    async def export_config(self, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> str:
        """What the server holds as an Alertmanager configuration (YAML text), secrets as "<secret>"."""
        return (
            await self._unary(self._am_config.ExportConfig, config_pb.ExportConfigRequest(), timeout)
        ).content

    async def reload_config(self, *, timeout: Timeout = USE_CLIENT_DEFAULT) -> config_pb.ReloadConfigResponse:
        """Reads the server's Alertmanager configuration file again."""
        return await self._unary(self._am_config.ReloadConfig, config_pb.ReloadConfigRequest(), timeout)

    async def get_config_status(
        self, *, timeout: Timeout = USE_CLIENT_DEFAULT
    ) -> config_pb.GetConfigStatusResponse:
        """Which Alertmanager configuration is loaded (redacted), when, and how the last attempt went."""
        return await self._unary(self._am_config.GetConfigStatus, config_pb.GetConfigStatusRequest(), timeout)
