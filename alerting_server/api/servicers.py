"""The gRPC servicers of the resources: validate, store, convert. Behaviour lives in the stages."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Collection
from typing import Any, Protocol, TypeVar

from alerting.v1 import (
    ack_service_pb2,
    ack_service_pb2_grpc,
    alert_service_pb2,
    channel_service_pb2,
    channel_service_pb2_grpc,
    escalation_policy_service_pb2,
    escalation_policy_service_pb2_grpc,
    routing_service_pb2,
    routing_service_pb2_grpc,
    rule_service_pb2,
    rule_service_pb2_grpc,
    silence_service_pb2,
    silence_service_pb2_grpc,
    time_interval_service_pb2,
    time_interval_service_pb2_grpc,
)
from alerting_server import model
from alerting_server.ack import Acknowledgements
from alerting_server.alerts.dispatch.routing import compile_routes
from alerting_server.api import convert
from alerting_server.auth import caller
from alerting_server.clock import Clock
from alerting_server.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
    Unimplemented,
    Violations,
)
from alerting_server.model.rule import RuleHealthRow
from alerting_server.outbound import OutboundPolicy
from alerting_server.pagination import PageRequest
from alerting_server.rules.rulefile import dump_rule_file, file_field, parse_rule_file
from alerting_server.store import Store
from alerting_server.store.deliveries import list_kind
from alerting_server.store.references import Known
from alerting_server.validation import channels as channel_config
from alerting_server.validation import resources as validate

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

Context = Any  # grpc.aio.ServicerContext; servicers never touch it beyond what the interceptors do


class ConfigListener(Protocol):
    """Told after a write that changes how alerts are routed or muted (the alert pipeline)."""

    async def reload(self) -> None: ...


def _owned(what: str, source: str) -> None:
    """What a configuration file owns is changed in the file: the API refuses to change it."""
    if source:
        raise FailedPrecondition(
            f"{what} is owned by {source}; change the file and reload",
            [PreconditionViolation("config_file", source, f"{what} is loaded from {source}")],
        )


def _require(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument.field(field, "required")
    return value


class Named(Protocol[T_co]):
    """A repository of resources that callers may name by id or by name."""

    async def resolve(self, ref: str) -> str: ...

    async def get(self, id: str, /) -> T_co: ...


async def _resolve(repository: Named[object], ref: str) -> str:
    """The id of the resource `ref` names: people and routes call resources by name, as they are shown."""
    return await repository.resolve(_require(ref, "id"))


async def _get(repository: Named[T], ref: str) -> T:
    return await repository.get(await _resolve(repository, ref))


class _ListRequest(Protocol):
    @property
    def page_size(self) -> int: ...

    @property
    def page_token(self) -> str: ...


def _page(request: _ListRequest, kind: str) -> PageRequest:
    return PageRequest.parse(request.page_size, request.page_token, kind)


def _require_message(request: Any, field: str) -> Any:
    if not request.HasField(field):
        raise InvalidArgument.field(field, "required")
    return getattr(request, field)


async def _policy_id(store: Store, reference: str) -> str:
    """The id of the escalation policy a reference names by id or name. One that names nothing is left
    as it is, for the check in the write's transaction to refuse with its field."""
    if reference:
        with contextlib.suppress(NotFound):
            return await store.escalation_policies.resolve(reference)
    return reference


class RulesListener(Protocol):
    """The rule engine: told after every rule write so that the change takes effect at once."""

    async def reload(self, groups: Collection[str] | None = None) -> None: ...

    def status(self, rule_id: str) -> RuleHealthRow | None:
        """The rule's health as of its latest evaluation, newer than the store's."""
        ...


class RuleServicer(rule_service_pb2_grpc.RuleServiceServicer):
    def __init__(self, store: Store, clock: Clock, listener: RulesListener | None = None) -> None:
        self._store = store
        self._clock = clock
        self._listener = listener

    async def _changed(self, groups: Collection[str]) -> None:
        """The rules of these groups changed (committed): only they are rebuilt. A call cancelled meanwhile
        (its deadline passed) does not stop the rebuild, or the engine would not run what the store holds."""
        if self._listener is not None:
            await asyncio.shield(self._listener.reload(groups))

    def _live(self, rule: model.Rule) -> model.Rule:
        row = self._listener.status(rule.id) if self._listener is not None else None
        if row is None:
            return rule
        return dataclasses.replace(
            rule,
            health=row.health,
            last_evaluation=row.last_evaluation,
            last_error=row.last_error,
            last_evaluation_duration=row.last_evaluation_duration,
        )

    async def _with_references(self, rule: model.Rule) -> model.Rule:
        """The rule with its escalation policy named by id, which stays right when the policy is renamed."""
        policy_id = await _policy_id(self._store, rule.escalation_policy_id)
        return dataclasses.replace(rule, escalation_policy_id=policy_id)

    @staticmethod
    def _check_references(rule: model.Rule) -> Callable[[Known], None]:
        def check(known: Known) -> None:
            if rule.escalation_policy_id and rule.escalation_policy_id not in known.policies:
                raise InvalidArgument.field(
                    "escalation_policy_id",
                    f"no escalation policy with id or name {rule.escalation_policy_id!r}",
                )

        return check

    async def CreateRule(
        self, request: rule_service_pb2.CreateRuleRequest, context: Context
    ) -> rule_service_pb2.CreateRuleResponse:
        rule = convert.rule_from_pb(_require_message(request, "rule"))
        # Parsing its query and templates: off the event loop, as every parse is.
        await asyncio.to_thread(validate.validate_rule, rule)
        rule = await self._with_references(rule)
        created = await self._store.rules.create(
            rule, self._clock.now_ms(), check=self._check_references(rule)
        )
        await self._changed({created.group})
        return rule_service_pb2.CreateRuleResponse(rule=convert.rule_to_pb(created))

    async def GetRule(
        self, request: rule_service_pb2.GetRuleRequest, context: Context
    ) -> rule_service_pb2.GetRuleResponse:
        rule = await _get(self._store.rules, request.id)
        return rule_service_pb2.GetRuleResponse(rule=convert.rule_to_pb(self._live(rule)))

    async def ListRules(
        self, request: rule_service_pb2.ListRulesRequest, context: Context
    ) -> rule_service_pb2.ListRulesResponse:
        page = await self._store.rules.list(_page(request, "rules"))
        return rule_service_pb2.ListRulesResponse(
            rules=[convert.rule_to_pb(self._live(r)) for r in page.items],
            next_page_token=page.next_page_token,
        )

    async def UpdateRule(
        self, request: rule_service_pb2.UpdateRuleRequest, context: Context
    ) -> rule_service_pb2.UpdateRuleResponse:
        rule_id = await _resolve(self._store.rules, request.id)
        rule = convert.rule_from_pb(_require_message(request, "rule"))
        await asyncio.to_thread(validate.validate_rule, rule)
        rule = await self._with_references(rule)
        before = await self._store.rules.get(rule_id)
        updated = await self._store.rules.update(
            rule_id, rule, self._clock.now_ms(), check=self._check_references(rule)
        )
        # A rule moved to another group leaves its old one.
        await self._changed({before.group, updated.group})
        return rule_service_pb2.UpdateRuleResponse(rule=convert.rule_to_pb(updated))

    async def DeleteRule(
        self, request: rule_service_pb2.DeleteRuleRequest, context: Context
    ) -> rule_service_pb2.DeleteRuleResponse:
        rule = await _get(self._store.rules, request.id)
        await self._store.rules.delete(rule.id)
        await self._changed({rule.group})
        return rule_service_pb2.DeleteRuleResponse()

    async def ImportRules(
        self, request: rule_service_pb2.ImportRulesRequest, context: Context
    ) -> rule_service_pb2.ImportRulesResponse:
        # Parsing and checking a large file takes seconds: off the event loop, which meanwhile serves
        # the rest (and the transactions in flight that hold the store's write lock).
        rules = await asyncio.to_thread(_checked_rule_file, _require(request.content, "content"))
        stored = await self._store.rules.replace_groups(rules, self._clock.now_ms())
        await self._changed({r.group for r in rules})
        return rule_service_pb2.ImportRulesResponse(
            rules=[convert.rule_to_pb(r.rule) for r in stored],
            actions=[convert.RULE_IMPORT_ACTION_TO_PB[r.applied] for r in stored],
        )

    async def ExportRules(
        self, request: rule_service_pb2.ExportRulesRequest, context: Context
    ) -> rule_service_pb2.ExportRulesResponse:
        return rule_service_pb2.ExportRulesResponse(content=dump_rule_file(await self._store.rules.all()))


def _checked_rule_file(content: str) -> list[model.Rule]:
    groups = parse_rule_file(content)
    rules: list[model.Rule] = []
    violations = Violations()
    for gi, group in enumerate(groups):
        for ri, rule in enumerate(group.rules):
            try:
                validate.validate_rule(rule)
            except InvalidArgument as exc:
                for v in exc.violations:
                    violations.add(f"content.groups[{gi}].rules[{ri}].{file_field(v.field)}", v.description)
            rules.append(rule)
    violations.raise_if_any()
    return rules


class ChannelTester(Protocol):
    """Sends a test notification through a channel now (the delivery pipeline)."""

    async def test(self, channel_id: str) -> model.Delivery: ...


class ChannelServicer(channel_service_pb2_grpc.ChannelServiceServicer):
    def __init__(
        self,
        store: Store,
        clock: Clock,
        listener: ConfigListener,
        tester: ChannelTester | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._listener = listener
        self._tester = tester
        self._outbound = outbound

    @staticmethod
    def _from_pb(msg: channel_service_pb2.Channel) -> model.Channel:
        if msg.type not in convert.CHANNEL_TYPE_FROM_PB:
            names = ", ".join(t.value for t in convert.CHANNEL_TYPE_FROM_PB.values())
            raise InvalidArgument.field("type", f"required: one of {names}")
        return model.Channel(
            name=msg.name,
            type=convert.CHANNEL_TYPE_FROM_PB[msg.type],
            config=convert.struct_from_pb(msg.config),
        )

    @staticmethod
    def _to_pb(channel: model.Channel) -> channel_service_pb2.Channel:
        redacted = model.Channel(
            name=channel.name,
            type=channel.type,
            config=channel_config.redact(channel.type, channel.config),
            id=channel.id,
            receiver=channel.receiver,
            source=channel.source,
            created_at=channel.created_at,
            updated_at=channel.updated_at,
        )
        return convert.channel_to_pb(redacted)

    async def CreateChannel(
        self, request: channel_service_pb2.CreateChannelRequest, context: Context
    ) -> channel_service_pb2.CreateChannelResponse:
        channel = self._from_pb(_require_message(request, "channel"))
        if channel.name:
            validate.validate_channel(channel, self._outbound)
            created = await self._store.channels.create(channel, self._clock.now_ms())
        else:
            # No name: one derived from the type and destination, made unique by the store.
            base = channel_config.derived_name(channel.type, channel.config)
            validate.validate_channel(dataclasses.replace(channel, name=base), self._outbound)
            created = await self._store.channels.create_named_after(channel, base, self._clock.now_ms())
        await self._listener.reload()
        return channel_service_pb2.CreateChannelResponse(channel=self._to_pb(created))

    async def GetChannel(
        self, request: channel_service_pb2.GetChannelRequest, context: Context
    ) -> channel_service_pb2.GetChannelResponse:
        channel = await _get(self._store.channels, request.id)
        return channel_service_pb2.GetChannelResponse(channel=self._to_pb(channel))

    async def ListChannels(
        self, request: channel_service_pb2.ListChannelsRequest, context: Context
    ) -> channel_service_pb2.ListChannelsResponse:
        page = await self._store.channels.list(_page(request, "channels"))
        return channel_service_pb2.ListChannelsResponse(
            channels=[self._to_pb(c) for c in page.items], next_page_token=page.next_page_token
        )

    async def UpdateChannel(
        self, request: channel_service_pb2.UpdateChannelRequest, context: Context
    ) -> channel_service_pb2.UpdateChannelResponse:
        channel_id = await _resolve(self._store.channels, request.id)
        channel = self._from_pb(_require_message(request, "channel"))
        stored = await self._store.channels.get(channel_id)
        _owned(f"channel {stored.name!r}", stored.source)
        if stored.type is channel.type:
            config = channel_config.merge_secrets(channel.type, channel.config, stored.config)
            channel = model.Channel(name=channel.name, type=channel.type, config=config)
        validate.validate_channel(channel, self._outbound)
        updated = await self._store.channels.update(channel_id, channel, self._clock.now_ms())
        await self._listener.reload()
        return channel_service_pb2.UpdateChannelResponse(channel=self._to_pb(updated))

    async def DeleteChannel(
        self, request: channel_service_pb2.DeleteChannelRequest, context: Context
    ) -> channel_service_pb2.DeleteChannelResponse:
        stored = await _get(self._store.channels, request.id)
        _owned(f"channel {stored.name!r}", stored.source)
        await self._store.channels.delete(
            stored.id,
            cascade=request.cascade,
            now=self._clock.now_ms(),
        )
        await self._listener.reload()
        return channel_service_pb2.DeleteChannelResponse()

    async def TestChannel(
        self, request: channel_service_pb2.TestChannelRequest, context: Context
    ) -> channel_service_pb2.TestChannelResponse:
        channel_id = await _resolve(self._store.channels, request.id)
        if self._tester is None:
            raise Unimplemented("this server runs without a delivery pipeline")
        delivery = await self._tester.test(channel_id)
        return channel_service_pb2.TestChannelResponse(delivery=convert.delivery_to_pb(delivery))

    async def ListDeliveries(
        self, request: channel_service_pb2.ListDeliveriesRequest, context: Context
    ) -> channel_service_pb2.ListDeliveriesResponse:
        status = convert.DELIVERY_STATUS_FROM_PB.get(request.status)
        channel_id = request.channel_id or None
        if channel_id is not None:
            # Deliveries outlive their channel: the id of a deleted one still filters.
            with contextlib.suppress(NotFound):
                channel_id = await self._store.channels.resolve(channel_id)
        page = await self._store.deliveries.list(
            _page(request, list_kind(request.newest_first)),
            channel_id=channel_id,
            fingerprint=request.fingerprint or None,
            status=status,
            newest_first=request.newest_first,
        )
        return channel_service_pb2.ListDeliveriesResponse(
            deliveries=[convert.delivery_to_pb(d) for d in page.items], next_page_token=page.next_page_token
        )


def _by_caller(silence: model.Silence) -> model.Silence:
    """A silence that does not say who made it is by the token it was made with, if any (CI jobs and
    containers often know no user name)."""
    token = caller.get()
    if silence.created_by or token is None:
        return silence
    return dataclasses.replace(silence, created_by=token.name)


class SilenceServicer(silence_service_pb2_grpc.SilenceServiceServicer):
    def __init__(self, store: Store, clock: Clock, listener: ConfigListener) -> None:
        self._store = store
        self._clock = clock
        self._listener = listener

    async def CreateSilence(
        self, request: silence_service_pb2.CreateSilenceRequest, context: Context
    ) -> silence_service_pb2.CreateSilenceResponse:
        now = self._clock.now_ms()
        silence = _by_caller(convert.silence_from_pb(_require_message(request, "silence"), now))
        validate.validate_silence(silence, now)
        created = await self._store.silences.create(silence, now)
        await self._listener.reload()
        return silence_service_pb2.CreateSilenceResponse(silence=convert.silence_to_pb(created, now))

    async def GetSilence(
        self, request: silence_service_pb2.GetSilenceRequest, context: Context
    ) -> silence_service_pb2.GetSilenceResponse:
        silence = await self._store.silences.get(_require(request.id, "id"))
        return silence_service_pb2.GetSilenceResponse(
            silence=convert.silence_to_pb(silence, self._clock.now_ms())
        )

    async def ListSilences(
        self, request: silence_service_pb2.ListSilencesRequest, context: Context
    ) -> silence_service_pb2.ListSilencesResponse:
        now = self._clock.now_ms()
        page = await self._store.silences.list(
            _page(request, "silences"),
            state=convert.SILENCE_STATE_FROM_PB.get(request.state),
            now=now,
        )
        return silence_service_pb2.ListSilencesResponse(
            silences=[convert.silence_to_pb(s, now) for s in page.items], next_page_token=page.next_page_token
        )

    async def UpdateSilence(
        self, request: silence_service_pb2.UpdateSilenceRequest, context: Context
    ) -> silence_service_pb2.UpdateSilenceResponse:
        silence_id = _require(request.id, "id")
        now = self._clock.now_ms()
        silence = _by_caller(convert.silence_from_pb(_require_message(request, "silence"), now))
        validate.validate_silence(silence, now)
        updated = await self._store.silences.update(silence_id, silence, now)
        await self._listener.reload()
        return silence_service_pb2.UpdateSilenceResponse(silence=convert.silence_to_pb(updated, now))

    async def ExpireSilence(
        self, request: silence_service_pb2.ExpireSilenceRequest, context: Context
    ) -> silence_service_pb2.ExpireSilenceResponse:
        await self._store.silences.expire(_require(request.id, "id"), self._clock.now_ms())
        await self._listener.reload()
        return silence_service_pb2.ExpireSilenceResponse()


class RoutingServicer(routing_service_pb2_grpc.RoutingServiceServicer):
    def __init__(self, store: Store, clock: Clock, listener: ConfigListener) -> None:
        self._store = store
        self._clock = clock
        self._listener = listener

    async def GetRouting(
        self, request: routing_service_pb2.GetRoutingRequest, context: Context
    ) -> routing_service_pb2.GetRoutingResponse:
        route = await self._store.routing.get()
        if route is None:
            raise NotFound("no routing tree has been set: PUT /routing")
        channels = await self._store.channels.all()
        policies = await self._store.escalation_policies.all()
        intervals = await self._store.time_intervals.all()
        # A loaded Alertmanager configuration's receivers are names a route may send to too (those
        # with no integration on purpose).
        receivers = {
            c.receiver for c in channels if c.receiver
        } | await self._store.config_files.empty_receivers()
        problems = validate.route_problems(
            route,
            {c.id for c in channels} | {c.name for c in channels} | receivers,
            {p.id for p in policies},
            {i.name for i in intervals},
        )
        tree = convert.route_to_pb(route)
        tree.source = await self._store.routing.source()
        tree.problems.extend(
            routing_service_pb2.RoutingProblem(field=p.field, description=p.description) for p in problems
        )
        return routing_service_pb2.GetRoutingResponse(route=tree)

    async def UpdateRouting(
        self, request: routing_service_pb2.UpdateRoutingRequest, context: Context
    ) -> routing_service_pb2.UpdateRoutingResponse:
        route = await self._with_policy_ids(convert.route_from_pb(_require_message(request, "route")))
        _owned("the routing tree", await self._store.routing.source())
        stored = await self._store.routing.put(
            route,
            self._clock.now_ms(),
            check=lambda known: validate.validate_route(
                route, known.channels, known.policies, known.time_intervals
            ),
        )
        await self._listener.reload()
        return routing_service_pb2.UpdateRoutingResponse(route=convert.route_to_pb(stored))

    async def _with_policy_ids(self, route: model.Route) -> model.Route:
        """The tree with its escalation policies named by id, which stays right when a policy is renamed."""
        policy_id = await _policy_id(self._store, route.escalation_policy_id)
        children = tuple([await self._with_policy_ids(child) for child in route.routes])
        return dataclasses.replace(route, escalation_policy_id=policy_id, routes=children)

    async def TestRoutes(
        self, request: routing_service_pb2.TestRoutesRequest, context: Context
    ) -> routing_service_pb2.TestRoutesResponse:
        tree = compile_routes(await self._store.routing.get() or model.Route())
        names = {c.id: c.name for c in await self._store.channels.all()}
        return routing_service_pb2.TestRoutesResponse(
            matches=[
                routing_service_pb2.RouteMatch(
                    route_key=m.route_key,
                    path=m.path,
                    receiver=names.get(m.opts.receiver, m.opts.receiver),
                    group_by=["..."] if m.opts.group_by_all else sorted(m.opts.group_by),
                    group_wait=convert.dur_to_pb(m.opts.group_wait),
                    group_interval=convert.dur_to_pb(m.opts.group_interval),
                    repeat_interval=convert.dur_to_pb(m.opts.repeat_interval),
                    escalation_policy_id=m.opts.escalation_policy_id,
                )
                for m in tree.match(dict(request.labels))
            ]
        )

    async def CreateInhibitRule(
        self, request: routing_service_pb2.CreateInhibitRuleRequest, context: Context
    ) -> routing_service_pb2.CreateInhibitRuleResponse:
        rule = convert.inhibit_rule_from_pb(_require_message(request, "inhibit_rule"))
        validate.validate_inhibit_rule(rule)
        created = await self._store.inhibit_rules.create(rule, self._clock.now_ms())
        await self._listener.reload()
        return routing_service_pb2.CreateInhibitRuleResponse(inhibit_rule=convert.inhibit_rule_to_pb(created))

    async def GetInhibitRule(
        self, request: routing_service_pb2.GetInhibitRuleRequest, context: Context
    ) -> routing_service_pb2.GetInhibitRuleResponse:
        rule = await self._store.inhibit_rules.get(_require(request.id, "id"))
        return routing_service_pb2.GetInhibitRuleResponse(inhibit_rule=convert.inhibit_rule_to_pb(rule))

    async def ListInhibitRules(
        self, request: routing_service_pb2.ListInhibitRulesRequest, context: Context
    ) -> routing_service_pb2.ListInhibitRulesResponse:
        page = await self._store.inhibit_rules.list(_page(request, "inhibit_rules"))
        return routing_service_pb2.ListInhibitRulesResponse(
            inhibit_rules=[convert.inhibit_rule_to_pb(r) for r in page.items],
            next_page_token=page.next_page_token,
        )

    async def DeleteInhibitRule(
        self, request: routing_service_pb2.DeleteInhibitRuleRequest, context: Context
    ) -> routing_service_pb2.DeleteInhibitRuleResponse:
        rule = await self._store.inhibit_rules.get(_require(request.id, "id"))
        _owned(f"inhibit rule {rule.id}", rule.source)
        await self._store.inhibit_rules.delete(rule.id)
        await self._listener.reload()
        return routing_service_pb2.DeleteInhibitRuleResponse()


class EscalationPolicyServicer(escalation_policy_service_pb2_grpc.EscalationPolicyServiceServicer):
    def __init__(self, store: Store, clock: Clock, listener: ConfigListener | None = None) -> None:
        self._store = store
        self._clock = clock
        # Told when a cascading delete changed the routing tree.
        self._listener = listener

    @staticmethod
    def _check(policy: model.EscalationPolicy) -> Callable[[Known], None]:
        return lambda known: validate.validate_escalation_policy(
            policy, known.channels, known.users, known.schedules
        )

    async def CreateEscalationPolicy(
        self, request: escalation_policy_service_pb2.CreateEscalationPolicyRequest, context: Context
    ) -> escalation_policy_service_pb2.CreateEscalationPolicyResponse:
        policy = convert.policy_from_pb(_require_message(request, "escalation_policy"))
        created = await self._store.escalation_policies.create(
            policy, self._clock.now_ms(), check=self._check(policy)
        )
        return escalation_policy_service_pb2.CreateEscalationPolicyResponse(
            escalation_policy=convert.policy_to_pb(created)
        )

    async def GetEscalationPolicy(
        self, request: escalation_policy_service_pb2.GetEscalationPolicyRequest, context: Context
    ) -> escalation_policy_service_pb2.GetEscalationPolicyResponse:
        policy = await _get(self._store.escalation_policies, request.id)
        return escalation_policy_service_pb2.GetEscalationPolicyResponse(
            escalation_policy=convert.policy_to_pb(policy)
        )

    async def ListEscalationPolicies(
        self, request: escalation_policy_service_pb2.ListEscalationPoliciesRequest, context: Context
    ) -> escalation_policy_service_pb2.ListEscalationPoliciesResponse:
        page = await self._store.escalation_policies.list(_page(request, "escalation_policies"))
        return escalation_policy_service_pb2.ListEscalationPoliciesResponse(
            escalation_policies=[convert.policy_to_pb(p) for p in page.items],
            next_page_token=page.next_page_token,
        )

    async def UpdateEscalationPolicy(
        self, request: escalation_policy_service_pb2.UpdateEscalationPolicyRequest, context: Context
    ) -> escalation_policy_service_pb2.UpdateEscalationPolicyResponse:
        policy_id = await _resolve(self._store.escalation_policies, request.id)
        policy = convert.policy_from_pb(_require_message(request, "escalation_policy"))
        updated = await self._store.escalation_policies.update(
            policy_id, policy, self._clock.now_ms(), check=self._check(policy)
        )
        return escalation_policy_service_pb2.UpdateEscalationPolicyResponse(
            escalation_policy=convert.policy_to_pb(updated)
        )

    async def DeleteEscalationPolicy(
        self, request: escalation_policy_service_pb2.DeleteEscalationPolicyRequest, context: Context
    ) -> escalation_policy_service_pb2.DeleteEscalationPolicyResponse:
        await self._store.escalation_policies.delete(
            await _resolve(self._store.escalation_policies, request.id),
            cascade=request.cascade,
            now=self._clock.now_ms(),
        )
        if request.cascade and self._listener is not None:
            await self._listener.reload()
        return escalation_policy_service_pb2.DeleteEscalationPolicyResponse()


class TimeIntervalServicer(time_interval_service_pb2_grpc.TimeIntervalServiceServicer):
    """Alertmanager's time intervals. Those a configuration file owns (`source`) are read-only here."""

    def __init__(self, store: Store, clock: Clock, listener: ConfigListener) -> None:
        self._store = store
        self._clock = clock
        self._listener = listener

    async def CreateTimeInterval(
        self, request: time_interval_service_pb2.CreateTimeIntervalRequest, context: Context
    ) -> time_interval_service_pb2.CreateTimeIntervalResponse:
        interval = convert.time_interval_from_pb(_require_message(request, "time_interval"))
        created = await self._store.time_intervals.create(interval, self._clock.now_ms())
        await self._listener.reload()
        return time_interval_service_pb2.CreateTimeIntervalResponse(
            time_interval=convert.time_interval_to_pb(created)
        )

    async def GetTimeInterval(
        self, request: time_interval_service_pb2.GetTimeIntervalRequest, context: Context
    ) -> time_interval_service_pb2.GetTimeIntervalResponse:
        interval = await _get(self._store.time_intervals, request.id)
        return time_interval_service_pb2.GetTimeIntervalResponse(
            time_interval=convert.time_interval_to_pb(interval)
        )

    async def ListTimeIntervals(
        self, request: time_interval_service_pb2.ListTimeIntervalsRequest, context: Context
    ) -> time_interval_service_pb2.ListTimeIntervalsResponse:
        page = await self._store.time_intervals.list(_page(request, "time_intervals"))
        return time_interval_service_pb2.ListTimeIntervalsResponse(
            time_intervals=[convert.time_interval_to_pb(i) for i in page.items],
            next_page_token=page.next_page_token,
        )

    async def UpdateTimeInterval(
        self, request: time_interval_service_pb2.UpdateTimeIntervalRequest, context: Context
    ) -> time_interval_service_pb2.UpdateTimeIntervalResponse:
        interval_id = await _resolve(self._store.time_intervals, request.id)
        interval = convert.time_interval_from_pb(_require_message(request, "time_interval"))
        updated = await self._store.time_intervals.update(interval_id, interval, self._clock.now_ms())
        await self._listener.reload()
        return time_interval_service_pb2.UpdateTimeIntervalResponse(
            time_interval=convert.time_interval_to_pb(updated)
        )

    async def DeleteTimeInterval(
        self, request: time_interval_service_pb2.DeleteTimeIntervalRequest, context: Context
    ) -> time_interval_service_pb2.DeleteTimeIntervalResponse:
        await self._store.time_intervals.delete(await _resolve(self._store.time_intervals, request.id))
        await self._listener.reload()
        return time_interval_service_pb2.DeleteTimeIntervalResponse()


class Receivers(Protocol):
    def receivers(self, alert: model.Alert) -> list[str]: ...


class AckServicer(ack_service_pb2_grpc.AckServiceServicer):
    def __init__(self, acks: Acknowledgements, alerts: Receivers) -> None:
        self._acks = acks
        self._alerts = alerts

    def _to_pb(self, alert: model.Alert) -> alert_service_pb2.Alert:
        return convert.alert_to_pb(alert, self._alerts.receivers(alert))

    async def Acknowledge(
        self, request: ack_service_pb2.AcknowledgeRequest, context: Context
    ) -> ack_service_pb2.AcknowledgeResponse:
        alert = await self._acks.acknowledge(request.fingerprint, request.by, request.comment)
        return ack_service_pb2.AcknowledgeResponse(alert=self._to_pb(alert))

    async def Unacknowledge(
        self, request: ack_service_pb2.UnacknowledgeRequest, context: Context
    ) -> ack_service_pb2.UnacknowledgeResponse:
        alert = await self._acks.unacknowledge(request.fingerprint, request.by)
        return ack_service_pb2.UnacknowledgeResponse(alert=self._to_pb(alert))

    async def GetAckToken(
        self, request: ack_service_pb2.GetAckTokenRequest, context: Context
    ) -> ack_service_pb2.GetAckTokenResponse:
        link, alert = await self._acks.linked(request.token)
        return ack_service_pb2.GetAckTokenResponse(
            alert=self._to_pb(alert), expires_at=convert.ts_to_pb(link.expires_at), person=link.person
        )

    async def AcknowledgeByToken(
        self, request: ack_service_pb2.AcknowledgeByTokenRequest, context: Context
    ) -> ack_service_pb2.AcknowledgeByTokenResponse:
        alert = await self._acks.acknowledge_by_link(request.token, request.by, request.comment)
        return ack_service_pb2.AcknowledgeByTokenResponse(alert=self._to_pb(alert))
