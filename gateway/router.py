"""Starlette's router with its routes indexed by the first segment of their path.

Starlette tries every route in order with its regular expression; with the gateway's hundred-odd
routes that scan was a quarter of a small request's handling (POST /api/v2/alerts with one alert).
A route can only match a path that starts with its literal beginning, so when that beginning holds a
whole first segment (`/rules/{id}`: `rules`), only paths with that first segment need to try it.
Routes whose first segment is not literal (`/{id}`, mounts at the root, hosts) are tried for every
path. The candidates are tried in the routes' own order, so the first full match wins as before and
a partial match (the path, not the method) still makes a 405; a path no candidate matches goes
through Starlette's own scan, which also makes the trailing-slash redirects and the 404.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send


def _first_segment(route: BaseRoute) -> str | None:
    """The first segment every path this route matches has, or None when it is not literal."""
    if isinstance(route, Route | WebSocketRoute | Mount):
        path = route.path
    else:
        return None
    literal, brace, _ = path.partition("{")
    if not literal.startswith("/"):
        return None
    end = literal.find("/", 1)
    if end == -1:
        # `/name` whole (or a mount at `/name`) is a segment; `/name{x}` is not.
        return None if brace or not literal[1:] else literal[1:]
    return literal[1:end]


class IndexedRouter(Router):
    def _index(self) -> tuple[dict[str, list[BaseRoute]], list[BaseRoute]]:
        # Built on first use, and again should routes be added after.
        if getattr(self, "_indexed", -1) != len(self.routes):
            by_segment: dict[str, list[BaseRoute]] = {}
            anywhere: list[BaseRoute] = []
            for route in self.routes:
                segment = _first_segment(route)
                if segment is None:
                    anywhere.append(route)
                    # Tried for every path: in each segment's list at its own place in the order.
                    for routes in by_segment.values():
                        routes.append(route)
                else:
                    by_segment.setdefault(segment, list(anywhere)).append(route)
            self._by_segment, self._anywhere = by_segment, anywhere
            self._indexed = len(self.routes)
        return self._by_segment, self._anywhere

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await super().app(scope, receive, send)
            return
        by_segment, anywhere = self._index()
        path = get_route_path(scope)
        candidates = by_segment.get(path[1:].partition("/")[0], anywhere)
        # The first full match, else the first partial one (the path without the method: a 405).
        chosen: BaseRoute | None = None
        chosen_scope: Scope = {}
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                chosen, chosen_scope = route, child_scope
                break
            if match is Match.PARTIAL and chosen is None:
                chosen, chosen_scope = route, child_scope
        if chosen is None:
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)
        scope["route"] = chosen
        scope.update(chosen_scope)
        await chosen.handle(scope, receive, send)
