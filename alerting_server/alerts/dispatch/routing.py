"""The notification policy tree, compiled from `model.Route` and matched as Alertmanager's dispatch/route.go.

Unset fields inherit from the parent; the root inherits Alertmanager's defaults (group_wait 30s,
group_interval 5m, repeat_interval 4h, no grouping). `group_by` of None or () inherits, as an
empty list does in Alertmanager's config; `("...",)` groups by every label. A route's
`mute_time_intervals` and `active_time_intervals` are its own: a child does not inherit them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from alerting_server.matching import Matcher, matches_all, parse_matcher
from alerting_server.model import Route

DEFAULT_GROUP_WAIT = 30_000
DEFAULT_GROUP_INTERVAL = 5 * 60_000
DEFAULT_REPEAT_INTERVAL = 4 * 3_600_000
GROUP_BY_ALL = "..."

_MATCH_OP_ORDER = {"=": 0, "!=": 1, "=~": 2, "!~": 3}


@dataclass(frozen=True)
class RouteOpts:
    """What a matching route decides for an alert, inheritance already applied."""

    receiver: str
    group_by: frozenset[str]
    group_by_all: bool
    group_wait: int
    group_interval: int
    repeat_interval: int
    escalation_policy_id: str
    # Not inherited (Alertmanager's dispatch/route.go sets them from the route's own config).
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels that name the alert's aggregation group on this route."""
        if self.group_by_all:
            return dict(labels)
        return {n: v for n, v in labels.items() if n in self.group_by}


@dataclass(frozen=True)
class RouteMatch:
    """One route an alert reaches. `route_id` is unique in the tree; `route_key` is Alertmanager's Key();
    `path` is where the route sits, as a field path of the tree ("" the root, `routes[0].routes[1]`)."""

    route_id: str
    route_key: str
    opts: RouteOpts
    path: str = ""

    @property
    def receiver(self) -> str:
        return self.opts.receiver


class RouteNode:
    """A compiled route; build the tree with `compile_routes`."""

    opts: RouteOpts
    key: str
    id: str
    path: str

    def __init__(self, route: Route, parent: RouteNode | None, position: int | None) -> None:
        base = parent.opts if parent is not None else _DEFAULT_OPTS
        group_by, group_by_all = base.group_by, base.group_by_all
        if route.group_by:
            if GROUP_BY_ALL in route.group_by:
                group_by_all = True
            else:
                group_by, group_by_all = frozenset(route.group_by), False
        self.opts = RouteOpts(
            receiver=route.receiver or base.receiver,
            group_by=group_by,
            group_by_all=group_by_all,
            group_wait=base.group_wait if route.group_wait is None else route.group_wait,
            group_interval=base.group_interval if route.group_interval is None else route.group_interval,
            repeat_interval=base.repeat_interval if route.repeat_interval is None else route.repeat_interval,
            escalation_policy_id=route.escalation_policy_id or base.escalation_policy_id,
            mute_time_intervals=route.mute_time_intervals,
            active_time_intervals=route.active_time_intervals,
        )
        self.matchers: tuple[Matcher, ...] = tuple(
            sorted(
                (parse_matcher(m) for m in route.matchers),
                key=lambda m: (m.name, m.value, _MATCH_OP_ORDER[m.op]),
            )
        )
        self.continue_ = route.continue_
        matchers_text = "{" + ",".join(str(m) for m in self.matchers) + "}"
        self.key = matchers_text if parent is None else f"{parent.key}/{matchers_text}"
        self.id = self.key if position is None else f"{self.key}/{position}"
        here = "" if position is None else f"routes[{position}]"
        self.path = f"{parent.path}.{here}" if parent is not None and parent.path else here
        self.match_result = RouteMatch(self.id, self.key, self.opts, self.path)
        self.children: tuple[RouteNode, ...] = tuple(
            RouteNode(child, self, i) for i, child in enumerate(route.routes)
        )

    def match(self, labels: Mapping[str, str]) -> list[RouteMatch]:
        """Depth-first, left to right; a matching child without `continue` stops its siblings.

        A node whose children all miss is itself the match.
        """
        if not matches_all(self.matchers, labels):
            return []
        found: list[RouteMatch] = []
        for child in self.children:
            matches = child.match(labels)
            found.extend(matches)
            if matches and not child.continue_:
                break
        return found or [self.match_result]

    def walk(self) -> list[RouteNode]:
        """Every node, depth first, root included."""
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes


def compile_routes(root: Route) -> RouteNode:
    """MatcherError (a ValueError) if a matcher does not parse; validation should have caught it."""
    return RouteNode(root, None, None)


def format_labels(labels: Mapping[str, str]) -> str:
    """Go's `model.LabelSet.String()`: `{a="1", b="2"}`, the form Alertmanager's group keys use."""
    return "{" + ", ".join(f"{n}={json.dumps(labels[n], ensure_ascii=False)}" for n in sorted(labels)) + "}"


_DEFAULT_OPTS = RouteOpts(
    receiver="",
    group_by=frozenset(),
    group_by_all=False,
    group_wait=DEFAULT_GROUP_WAIT,
    group_interval=DEFAULT_GROUP_INTERVAL,
    repeat_interval=DEFAULT_REPEAT_INTERVAL,
    escalation_policy_id="",
)
