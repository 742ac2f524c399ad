"""A rename follows its references. Routes and escalation levels may name a channel, a user or a
schedule by name; when it is renamed they name the new name, in the rename's own transaction, so that
a page does not stop reaching its target because its target was renamed. References by id are
unaffected; a name that is also a receiver (channels that share `receiver`) stays: it names the
receiver, which the rename does not change."""

from __future__ import annotations

import dataclasses
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import FailedPrecondition, PreconditionViolation
from alerting_server.model import EscalationPolicy
from alerting_server.store import escalation_policies, references, routing
from alerting_server.store.tables import channels

LevelField = Literal["channels", "users", "schedules"]


def _renamed_in_levels(policy: EscalationPolicy, field: LevelField, old: str, new: str) -> EscalationPolicy:
    levels = tuple(
        dataclasses.replace(
            level,
            **{field: tuple(new if ref == old else ref for ref in getattr(level, field))},  # type: ignore[arg-type]
        )
        for level in policy.levels
    )
    return dataclasses.replace(policy, levels=levels)


async def follow_rename(connection: AsyncConnection, field: LevelField, old: str, new: str, now: int) -> None:
    """Rewrites the references to `old` (the name of a channel, user or schedule, as `field` of an
    escalation level says) to `new`."""
    if old == new:
        return
    if field == "channels":
        receivers = await connection.execute(
            sa.select(sa.func.count()).select_from(channels).where(channels.c.receiver == old)
        )
        if receivers.scalar_one():
            return
        tree = await routing.tree_in(connection, lock=True)
        renamed = None if tree is None else references.replaced(tree, "receiver", {old}, new)
        if renamed is not None and renamed != tree:
            if await routing.source_in(connection):
                raise FailedPrecondition(
                    f"channel {old!r} is the receiver of routes a configuration file owns: "
                    "rename it in the file",
                    [PreconditionViolation("route", "routing", f"routes of the file send to {old!r}")],
                )
            await routing.put_in(connection, renamed, now)
    for policy in await escalation_policies.policies_in(connection):
        changed = _renamed_in_levels(policy, field, old, new)
        if changed != policy:
            await escalation_policies.save_in(connection, dataclasses.replace(changed, updated_at=now))
