"""A real grpc.aio server on 127.0.0.1:0 with small fake servicers, for the gateway tests.

Handlers are registered from the service descriptors with generic handlers, so a fake implements only
the methods a test needs. Every call is recorded with its request and `authorization` metadata.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import grpc
import yaml
from google.protobuf import any_pb2, message_factory
from google.protobuf.descriptor import FileDescriptor
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_status import rpc_status

from alerting.v1 import (
    ack_service_pb2,
    alert_service_pb2,
    channel_service_pb2,
    cluster_service_pb2,
    metrics_service_pb2,
    routing_service_pb2,
    rule_service_pb2,
    silence_service_pb2,
)
from gateway.local import LocalServer

Context = grpc.aio.ServicerContext[Message, Message]

NOW_MS = 1_696_789_234_567
EXPORTED = "groups:\n- name: default\n  rules: []\n"


@dataclass
class Call:
    method: str
    request: Message
    authorization: str | None


@dataclass
class FakeServer:
    calls: list[Call] = field(default_factory=list)
    rules: dict[str, rule_service_pb2.Rule] = field(default_factory=dict)
    watch_events: list[alert_service_pb2.WatchAlertsResponse] = field(default_factory=list)
    # The status the watch stream ends with after its events; None ends it cleanly.
    watch_end: grpc.StatusCode | None = None
    route: routing_service_pb2.Route = field(default_factory=routing_service_pb2.Route)
    health: HealthServicer = field(default_factory=HealthServicer)
    port: int = 0
    # The same servicers for a gateway in this process (gateway/local.py).
    local: LocalServer = field(default_factory=LocalServer)
    _server: grpc.aio.Server | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def last(self, method: str) -> Message:
        return [c for c in self.calls if c.method == method][-1].request

    async def start(self) -> None:
        server = grpc.aio.server()
        self._register(server, rule_service_pb2.DESCRIPTOR, "RuleService")
        self._register(server, channel_service_pb2.DESCRIPTOR, "ChannelService")
        self._register(server, alert_service_pb2.DESCRIPTOR, "AlertService")
        self._register(server, ack_service_pb2.DESCRIPTOR, "AckService")
        self._register(server, routing_service_pb2.DESCRIPTOR, "RoutingService")
        self._register(server, silence_service_pb2.DESCRIPTOR, "SilenceService")
        self._register(server, metrics_service_pb2.DESCRIPTOR, "MetricsService")
        self._register(server, cluster_service_pb2.DESCRIPTOR, "ClusterService")
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        self.port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(None)

    def _register(self, server: grpc.aio.Server, file: FileDescriptor, name: str) -> None:
        service = file.services_by_name[name]
        handlers = {}
        for method in service.methods:
            implementation = getattr(self, method.name, None)
            if implementation is None:
                continue
            request_class = message_factory.GetMessageClass(method.input_type)
            response_class = message_factory.GetMessageClass(method.output_type)
            make = (
                grpc.unary_stream_rpc_method_handler
                if method.server_streaming
                else grpc.unary_unary_rpc_method_handler
            )
            handlers[method.name] = make(
                self._recorded(method.name, implementation, streaming=method.server_streaming),
                request_deserializer=request_class.FromString,
                response_serializer=response_class.SerializeToString,
            )
        generic = grpc.method_handlers_generic_handler(service.full_name, handlers)
        server.add_generic_rpc_handlers([generic])
        self.local.add_generic_rpc_handlers([generic])

    def _recorded(
        self, name: str, implementation: Callable[..., object], *, streaming: bool
    ) -> Callable[..., object]:
        def record(request: Message, context: Context) -> None:
            metadata = dict(context.invocation_metadata() or ())
            authorization = metadata.get("authorization")
            self.calls.append(Call(name, request, authorization if isinstance(authorization, str) else None))

        if streaming:

            async def stream(request: Message, context: Context) -> AsyncIterator[Message]:
                record(request, context)
                items = implementation(request, context)
                assert isinstance(items, AsyncIterator)
                async for item in items:
                    yield item

            return stream

        async def unary(request: Message, context: Context) -> object:
            record(request, context)
            result = implementation(request, context)
            assert isinstance(result, Awaitable)
            return await result

        return unary

    # --- RuleService ------------------------------------------------------------------------------

    async def CreateRule(
        self, request: rule_service_pb2.CreateRuleRequest, context: Context
    ) -> rule_service_pb2.CreateRuleResponse:
        if not request.rule.query:
            await abort_bad_request(context, "invalid rule", [("query", "must not be empty")])
        rule = rule_service_pb2.Rule()
        rule.CopyFrom(request.rule)
        rule.id = f"r{len(self.rules) + 1}"
        rule.health = rule_service_pb2.RULE_HEALTH_UNKNOWN
        rule.created_at.FromMilliseconds(NOW_MS)
        rule.updated_at.FromMilliseconds(NOW_MS)
        self.rules[rule.id] = rule
        return rule_service_pb2.CreateRuleResponse(rule=rule)

    async def GetRule(
        self, request: rule_service_pb2.GetRuleRequest, context: Context
    ) -> rule_service_pb2.GetRuleResponse:
        return rule_service_pb2.GetRuleResponse(rule=await self._rule(request.id, context))

    async def ListRules(
        self, request: rule_service_pb2.ListRulesRequest, context: Context
    ) -> rule_service_pb2.ListRulesResponse:
        start = int(request.page_token or "0")
        size = request.page_size or 50
        ids = sorted(self.rules)
        end = start + size
        return rule_service_pb2.ListRulesResponse(
            rules=[self.rules[i] for i in ids[start:end]], next_page_token=str(end) if end < len(ids) else ""
        )

    async def UpdateRule(
        self, request: rule_service_pb2.UpdateRuleRequest, context: Context
    ) -> rule_service_pb2.UpdateRuleResponse:
        old = await self._rule(request.id, context)
        rule = rule_service_pb2.Rule()
        rule.CopyFrom(request.rule)
        rule.id = old.id
        rule.created_at.CopyFrom(old.created_at)
        rule.updated_at.FromMilliseconds(NOW_MS + 1000)
        self.rules[rule.id] = rule
        return rule_service_pb2.UpdateRuleResponse(rule=rule)

    async def DeleteRule(
        self, request: rule_service_pb2.DeleteRuleRequest, context: Context
    ) -> rule_service_pb2.DeleteRuleResponse:
        await self._rule(request.id, context)
        del self.rules[request.id]
        return rule_service_pb2.DeleteRuleResponse()

    async def ImportRules(
        self, request: rule_service_pb2.ImportRulesRequest, context: Context
    ) -> rule_service_pb2.ImportRulesResponse:
        document = yaml.safe_load(request.content)
        names = [rule["alert"] for group in document["groups"] for rule in group["rules"]]
        return rule_service_pb2.ImportRulesResponse(rules=[rule_service_pb2.Rule(name=n) for n in names])

    async def ExportRules(
        self, request: rule_service_pb2.ExportRulesRequest, context: Context
    ) -> rule_service_pb2.ExportRulesResponse:
        return rule_service_pb2.ExportRulesResponse(content=EXPORTED)

    async def _rule(self, rule_id: str, context: Context) -> rule_service_pb2.Rule:
        if rule_id not in self.rules:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"rule {rule_id!r} not found")
        return self.rules[rule_id]

    # --- ChannelService ---------------------------------------------------------------------------

    async def CreateChannel(
        self, request: channel_service_pb2.CreateChannelRequest, context: Context
    ) -> channel_service_pb2.CreateChannelResponse:
        channel = channel_service_pb2.Channel()
        channel.CopyFrom(request.channel)
        channel.id = "c1"
        channel.created_at.FromMilliseconds(NOW_MS)
        return channel_service_pb2.CreateChannelResponse(channel=channel)

    async def TestChannel(
        self, request: channel_service_pb2.TestChannelRequest, context: Context
    ) -> channel_service_pb2.TestChannelResponse:
        delivery = channel_service_pb2.Delivery(
            id="d1", channel_id=request.id, status=channel_service_pb2.DELIVERY_STATUS_DELIVERED, attempts=1
        )
        delivery.delivered_at.FromMilliseconds(NOW_MS)
        return channel_service_pb2.TestChannelResponse(delivery=delivery)

    async def ListDeliveries(
        self, request: channel_service_pb2.ListDeliveriesRequest, context: Context
    ) -> channel_service_pb2.ListDeliveriesResponse:
        return channel_service_pb2.ListDeliveriesResponse()

    # --- AlertService and AckService --------------------------------------------------------------

    async def ListAlerts(
        self, request: alert_service_pb2.ListAlertsRequest, context: Context
    ) -> alert_service_pb2.ListAlertsResponse:
        return alert_service_pb2.ListAlertsResponse(alerts=[firing_alert()], next_page_token="next")

    async def GetAlert(
        self, request: alert_service_pb2.GetAlertRequest, context: Context
    ) -> alert_service_pb2.GetAlertResponse:
        return alert_service_pb2.GetAlertResponse(alert=firing_alert(request.fingerprint))

    async def WatchAlerts(
        self, request: alert_service_pb2.WatchAlertsRequest, context: Context
    ) -> AsyncIterator[alert_service_pb2.WatchAlertsResponse]:
        for event in self.watch_events:
            if event.revision > request.since_revision:
                yield event
        if self.watch_end is not None:
            await context.abort(self.watch_end, "subscriber too slow")

    async def Acknowledge(
        self, request: ack_service_pb2.AcknowledgeRequest, context: Context
    ) -> ack_service_pb2.AcknowledgeResponse:
        alert = firing_alert(request.fingerprint)
        alert.acknowledged = True
        alert.ack.by = request.by
        alert.ack.comment = request.comment
        alert.ack.at.FromMilliseconds(NOW_MS + 5000)
        return ack_service_pb2.AcknowledgeResponse(alert=alert)

    # --- RoutingService and SilenceService --------------------------------------------------------

    async def GetRouting(
        self, request: routing_service_pb2.GetRoutingRequest, context: Context
    ) -> routing_service_pb2.GetRoutingResponse:
        return routing_service_pb2.GetRoutingResponse(route=self.route)

    async def UpdateRouting(
        self, request: routing_service_pb2.UpdateRoutingRequest, context: Context
    ) -> routing_service_pb2.UpdateRoutingResponse:
        self.route = request.route
        return routing_service_pb2.UpdateRoutingResponse(route=request.route)

    async def CreateSilence(
        self, request: silence_service_pb2.CreateSilenceRequest, context: Context
    ) -> silence_service_pb2.CreateSilenceResponse:
        silence = silence_service_pb2.Silence()
        silence.CopyFrom(request.silence)
        silence.id = "s1"
        silence.state = silence_service_pb2.SILENCE_STATE_ACTIVE
        return silence_service_pb2.CreateSilenceResponse(silence=silence)

    async def GetSilence(
        self, request: silence_service_pb2.GetSilenceRequest, context: Context
    ) -> silence_service_pb2.GetSilenceResponse:
        # The id names the status to fail with: a table of error mappings in one method.
        await context.abort(grpc.StatusCode[request.id], f"failing with {request.id}")
        raise AssertionError("abort returns only by raising")

    async def ExpireSilence(
        self, request: silence_service_pb2.ExpireSilenceRequest, context: Context
    ) -> silence_service_pb2.ExpireSilenceResponse:
        return silence_service_pb2.ExpireSilenceResponse()

    # --- MetricsService ---------------------------------------------------------------------------

    async def Write(
        self, request: metrics_service_pb2.WriteRequest, context: Context
    ) -> metrics_service_pb2.WriteResponse:
        return metrics_service_pb2.WriteResponse(accepted=len(request.samples))

    async def Query(
        self, request: metrics_service_pb2.QueryRequest, context: Context
    ) -> metrics_service_pb2.QueryResponse:
        if request.query == "scalar(1)":
            return metrics_service_pb2.QueryResponse(
                result_type=metrics_service_pb2.RESULT_TYPE_SCALAR,
                scalar=metrics_service_pb2.Point(timestamp_ms=1_435_781_451_781, value=1.0),
            )
        if request.query == '"hello"':
            return metrics_service_pb2.QueryResponse(
                result_type=metrics_service_pb2.RESULT_TYPE_STRING,
                scalar=metrics_service_pb2.Point(timestamp_ms=1_435_781_451_000),
                string_value="hello",
            )
        if request.query.startswith("up"):
            series = metrics_service_pb2.Series(
                labels={"__name__": "up", "job": "prometheus"},
                points=[metrics_service_pb2.Point(timestamp_ms=1_435_781_451_781, value=1.0)],
            )
            return metrics_service_pb2.QueryResponse(
                result_type=metrics_service_pb2.RESULT_TYPE_VECTOR, series=[series], warnings=["slow"]
            )
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, '1:1: parse error: unexpected "("')
        raise AssertionError("abort returns only by raising")

    async def QueryRange(
        self, request: metrics_service_pb2.QueryRangeRequest, context: Context
    ) -> metrics_service_pb2.QueryRangeResponse:
        start = request.start.ToMilliseconds()
        step = request.step.ToMilliseconds()
        points = [
            metrics_service_pb2.Point(timestamp_ms=t, value=float(i))
            for i, t in enumerate(range(start, request.end.ToMilliseconds() + 1, step))
        ]
        series = metrics_service_pb2.Series(labels={"__name__": "up"}, points=points)
        return metrics_service_pb2.QueryRangeResponse(
            result_type=metrics_service_pb2.RESULT_TYPE_MATRIX, series=[series]
        )

    async def ListLabelNames(
        self, request: metrics_service_pb2.ListLabelNamesRequest, context: Context
    ) -> metrics_service_pb2.ListLabelNamesResponse:
        return metrics_service_pb2.ListLabelNamesResponse(names=["__name__", "job"])

    async def ListLabelValues(
        self, request: metrics_service_pb2.ListLabelValuesRequest, context: Context
    ) -> metrics_service_pb2.ListLabelValuesResponse:
        if request.name == "nope-":
            await abort_bad_request(context, "name: invalid label name", [("name", "invalid label name")])
        return metrics_service_pb2.ListLabelValuesResponse(
            values=["api", "db"], warnings=["results truncated due to limit"]
        )

    async def ListSeries(
        self, request: metrics_service_pb2.ListSeriesRequest, context: Context
    ) -> metrics_service_pb2.ListSeriesResponse:
        return metrics_service_pb2.ListSeriesResponse(
            series=[metrics_service_pb2.LabelSet(labels={"__name__": "up", "job": "api"})]
        )


def firing_alert(fingerprint: str = "5f3c1a") -> alert_service_pb2.Alert:
    alert = alert_service_pb2.Alert(
        fingerprint=fingerprint,
        rule="high_cpu_alert",
        state=alert_service_pb2.ALERT_STATE_FIRING,
        value=85.5,
        labels={"alertname": "high_cpu_alert", "severity": "warning", "host": "server01"},
        annotations={"summary": "High CPU"},
    )
    alert.started_at.FromMilliseconds(NOW_MS)
    alert.fired_at.FromMilliseconds(NOW_MS + 300_000)
    return alert


async def abort_bad_request(context: Context, message: str, violations: list[tuple[str, str]]) -> None:
    """Abort with INVALID_ARGUMENT carrying google.rpc.BadRequest field violations, as the server does."""
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(bad_request)
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message, details=[detail])
    await context.abort_with_status(rpc_status.to_status(status))  # type: ignore[attr-defined]  # not in grpc-stubs
