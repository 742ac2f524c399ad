"""The notification policy tree, stored whole as JSON in a single row."""

from __future__ import annotations

from collections.abc import Callable
from typing import NotRequired, TypedDict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.model import Route
from alerting_server.store.database import Database, upsert
from alerting_server.store.references import Known, known_in
from alerting_server.store.tables import routing as t

_ROW_ID = 1


# Functional syntax because `continue`, Alertmanager's spelling, is a Python keyword.
RouteJSON = TypedDict(
    "RouteJSON",
    {
        "receiver": str,
        "group_by": "list[str] | None",
        "group_wait": "int | None",
        "group_interval": "int | None",
        "repeat_interval": "int | None",
        "matchers": "list[str]",
        "continue": bool,
        "escalation_policy_id": str,
        "routes": "list[RouteJSON]",
        "mute_time_intervals": "NotRequired[list[str]]",
        "active_time_intervals": "NotRequired[list[str]]",
    },
)


def route_to_json(route: Route) -> RouteJSON:
    return {
        "receiver": route.receiver,
        "group_by": None if route.group_by is None else list(route.group_by),
        "group_wait": route.group_wait,
        "group_interval": route.group_interval,
        "repeat_interval": route.repeat_interval,
        "matchers": list(route.matchers),
        "continue": route.continue_,
        "escalation_policy_id": route.escalation_policy_id,
        "routes": [route_to_json(child) for child in route.routes],
        "mute_time_intervals": list(route.mute_time_intervals),
        "active_time_intervals": list(route.active_time_intervals),
    }


def route_from_json(data: RouteJSON) -> Route:
    group_by = data["group_by"]
    return Route(
        receiver=data["receiver"],
        group_by=None if group_by is None else tuple(group_by),
        group_wait=data["group_wait"],
        group_interval=data["group_interval"],
        repeat_interval=data["repeat_interval"],
        matchers=tuple(data["matchers"]),
        continue_=data["continue"],
        escalation_policy_id=data["escalation_policy_id"],
        routes=tuple(route_from_json(child) for child in data["routes"]),
        # Absent from trees stored before time intervals existed.
        mute_time_intervals=tuple(data.get("mute_time_intervals", ())),
        active_time_intervals=tuple(data.get("active_time_intervals", ())),
    )


async def tree_in(connection: AsyncConnection, *, lock: bool = False) -> Route | None:
    """The stored tree, or None before the first put; `lock`: until the transaction ends."""
    query = sa.select(t.c.tree).where(t.c.id == _ROW_ID)
    tree: RouteJSON | None = (
        await connection.execute(query.with_for_update() if lock else query)
    ).scalar_one_or_none()
    return None if tree is None else route_from_json(tree)


async def put_in(connection: AsyncConnection, route: Route, now: int) -> None:
    values = {"id": _ROW_ID, "tree": route_to_json(route), "updated_at": now}
    await connection.execute(upsert(connection, t), values)


async def source_in(connection: AsyncConnection) -> str:
    """What owns the stored tree: "" the API (or no tree yet), else a configuration file."""
    source: str | None = (
        await connection.execute(sa.select(t.c.source).where(t.c.id == _ROW_ID))
    ).scalar_one_or_none()
    return source or ""


class RoutingRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self) -> Route | None:
        """The stored tree, or None before the first put."""
        async with self._db.read() as connection:
            return await tree_in(connection)

    async def source(self) -> str:
        async with self._db.read() as connection:
            return await source_in(connection)

    async def put(self, route: Route, now: int, check: Callable[[Known], None] | None = None) -> Route:
        """`check` raises when the tree names what does not exist; it runs in the write's transaction
        so that what it names cannot be deleted before the tree is stored (store/references.py)."""
        async with self._db.write() as connection:
            if check is not None:
                check(await known_in(connection))
            await put_in(connection, route, now)
        return route
