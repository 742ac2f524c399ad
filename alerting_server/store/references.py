"""Who uses a channel, an escalation policy, a time interval, a user or a schedule, and what the
configuration looks like without it.

Routes name channels (`receiver`, by id or name), policies (`escalation_policy_id`) and time
intervals (`mute_time_intervals`, `active_time_intervals`, by name; a delete of one in use is
refused, without cascade); escalation levels name channels, users and schedules; rules name
policies; schedules name users. A user or a schedule in use is never deleted (there is no cascade: a
level that pages nobody would be silence). A delete refuses while any of these is
left (FailedPrecondition naming each), or with `cascade` rewrites them in its own transaction:
a route inherits its parent's receiver or policy, as an unset field does in Alertmanager; a level
drops the channel, and a level left with none goes, as PagerDuty drops a deleted target from an
escalation rule; a rule escalates as its routes say. What cascade cannot rewrite without leaving
something invalid (the root route's receiver, a policy's last channel) is refused all the same.

Races: the repositories lock the row they delete before they read its users, and writers of a
reference lock what they reference (`known_in`, FOR SHARE on PostgreSQL; SQLite runs one write
transaction at a time), so a reference is either committed before the check reads it or finds
its target gone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import FailedPrecondition, PreconditionViolation
from alerting_server.model import EscalationPolicy, Route, Rule, Schedule
from alerting_server.store.tables import channels, escalation_policies, schedules, time_intervals, users


@dataclass(frozen=True)
class Known:
    """What references may name, read (and on PostgreSQL share-locked) in the writer's transaction."""

    channels: frozenset[str]  # ids and names, and the receivers channels are integrations of
    policies: frozenset[str]  # ids
    time_intervals: frozenset[str] = frozenset()  # names
    users: frozenset[str] = frozenset()  # ids and names
    schedules: frozenset[str] = frozenset()  # ids and names


async def known_in(connection: AsyncConnection) -> Known:
    channel_rows = await connection.execute(
        sa.select(channels.c.id, channels.c.name, channels.c.receiver).with_for_update(read=True)
    )
    policy_rows = await connection.execute(sa.select(escalation_policies.c.id).with_for_update(read=True))
    interval_rows = await connection.execute(sa.select(time_intervals.c.name).with_for_update(read=True))
    user_rows = await connection.execute(sa.select(users.c.id, users.c.name).with_for_update(read=True))
    schedule_rows = await connection.execute(
        sa.select(schedules.c.id, schedules.c.name).with_for_update(read=True)
    )
    return Known(
        channels=frozenset(name for row in channel_rows for name in row if name),
        policies=frozenset(policy_rows.scalars()),
        time_intervals=frozenset(interval_rows.scalars()),
        users=frozenset(name for row in user_rows for name in row),
        schedules=frozenset(name for row in schedule_rows for name in row),
    )


def _nodes(route: Route, prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Every node of the tree with its field path prefix (`""`, `routes[0].`, `routes[0].routes[2].`)."""
    yield prefix, route
    for i, child in enumerate(route.routes):
        yield from _nodes(child, f"{prefix}routes[{i}].")


def _describe_route(prefix: str, route: Route) -> str:
    if not prefix:
        return "the root route"
    return f"route {{{', '.join(route.matchers)}}} ({prefix.rstrip('.')})"


def _route_uses(
    tree: Route | None, names: Collection[str], field: str, verb: str
) -> list[PreconditionViolation]:
    if tree is None:
        return []
    return [
        PreconditionViolation("route", f"routing.{prefix}{field}", f"{_describe_route(prefix, node)} {verb}")
        for prefix, node in _nodes(tree)
        if getattr(node, field) in names
    ]


def channel_uses(
    names: Collection[str], tree: Route | None, policies: Sequence[EscalationPolicy]
) -> list[PreconditionViolation]:
    """The routes and escalation levels that name the channel (`names`: its id and its name)."""
    uses = _route_uses(tree, names, "receiver", "sends to it")
    for policy in policies:
        for i, level in enumerate(policy.levels):
            if any(c in names for c in level.channels):
                uses.append(
                    PreconditionViolation(
                        "escalation_policy",
                        f"escalation_policies/{policy.id}.levels[{i}].channels",
                        f"level {i} of escalation policy {policy.name!r} notifies it",
                    )
                )
    return uses


def level_uses(
    names: Collection[str], policies: Sequence[EscalationPolicy], field: str, what: str
) -> list[PreconditionViolation]:
    """The escalation levels whose `field` ("users" or "schedules") names one of `names`."""
    return [
        PreconditionViolation(
            "escalation_policy",
            f"escalation_policies/{policy.id}.levels[{i}].{field}",
            f"level {i} of escalation policy {policy.name!r} pages {what}",
        )
        for policy in policies
        for i, level in enumerate(policy.levels)
        if any(n in names for n in getattr(level, field))
    ]


def schedule_user_uses(
    user_id: str, in_schedules: Sequence[Schedule], overrides: Sequence[tuple[str, str]]
) -> list[PreconditionViolation]:
    """The schedule layers and overrides (override id, schedule name) that put the user on call."""
    uses = [
        PreconditionViolation(
            "schedule",
            f"schedules/{schedule.id}.layers[{i}].users",
            f"layer {i} ({layer.name!r}) of schedule {schedule.name!r} rotates them",
        )
        for schedule in in_schedules
        for i, layer in enumerate(schedule.layers)
        if user_id in layer.users
    ]
    uses.extend(
        PreconditionViolation(
            "override", f"overrides/{override_id}", f"override {override_id} of schedule {name!r} is theirs"
        )
        for override_id, name in overrides
    )
    return uses


def policy_uses(
    names: Collection[str], tree: Route | None, rules: Sequence[Rule]
) -> list[PreconditionViolation]:
    """The routes and rules that name the policy (`names`: its id and its name)."""
    uses = _route_uses(tree, names, "escalation_policy_id", "escalates with it")
    uses.extend(
        PreconditionViolation(
            "rule",
            f"rules/{rule.id}.escalation_policy_id",
            f"rule {rule.name!r} (id {rule.id}, group {rule.group!r}) escalates with it",
        )
        for rule in rules
    )
    return uses


def time_interval_uses(name: str, tree: Route | None) -> list[PreconditionViolation]:
    """The routes that mute or activate their notifications with the time interval `name`."""
    if tree is None:
        return []
    uses = []
    for prefix, node in _nodes(tree):
        for field, verb in (
            ("mute_time_intervals", "is muted by it"),
            ("active_time_intervals", "is active in it"),
        ):
            names: tuple[str, ...] = getattr(node, field)
            if name in names:
                uses.append(
                    PreconditionViolation(
                        "route",
                        f"routing.{prefix}{field}[{names.index(name)}]",
                        f"{_describe_route(prefix, node)} {verb}",
                    )
                )
    return uses


def in_use(what: str, uses: list[PreconditionViolation], *, cascade: bool = True) -> FailedPrecondition:
    users = "; ".join(u.description for u in uses)
    remedy = ", or delete with cascade=true to remove the references" if cascade else ""
    return FailedPrecondition(f"{what} is in use: {users}. Change those first{remedy}", uses)


def still_used(what: str, uses: list[PreconditionViolation]) -> FailedPrecondition:
    """For what has no cascading delete (users, schedules)."""
    users = "; ".join(u.description for u in uses)
    return FailedPrecondition(f"{what} is in use: {users}. Change those first", uses)


def cannot_cascade(what: str, blockers: list[PreconditionViolation]) -> FailedPrecondition:
    reasons = "; ".join(b.description for b in blockers)
    return FailedPrecondition(f"{what} cannot be deleted even with cascade: {reasons}", blockers)


def without_receiver(tree: Route, names: Collection[str]) -> Route:
    """The tree with every child route that sends to `names` inheriting its parent's receiver."""
    return replaced(tree, "receiver", names, "")


def without_policy(tree: Route, names: Collection[str]) -> Route:
    return replaced(tree, "escalation_policy_id", names, "")


def replaced(route: Route, field: str, names: Collection[str], value: str) -> Route:
    """The tree with `value` in `field` of every route whose `field` is one of `names`."""
    changes: dict[str, object] = {
        "routes": tuple(replaced(child, field, names, value) for child in route.routes)
    }
    if getattr(route, field) in names:
        changes[field] = value
    return dataclasses.replace(route, **changes)  # type: ignore[arg-type]


def policy_without_channel(policy: EscalationPolicy, names: Collection[str]) -> EscalationPolicy | None:
    """The policy without the channel in its levels; None when no level would be left."""
    levels = tuple(
        dataclasses.replace(level, channels=tuple(c for c in level.channels if c not in names))
        for level in policy.levels
    )
    kept = tuple(level for level in levels if level.targets)
    return dataclasses.replace(policy, levels=kept) if kept else None
