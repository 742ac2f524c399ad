"""Which policy an alert follows: its rule's, else the first of its routes that names one."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol, TypeVar

from alerting_server.errors import NotFound
from alerting_server.model import Alert, EscalationPolicy, Rule

log = logging.getLogger(__name__)


class PolicyFinder(Protocol):
    async def for_alert(self, alert: Alert, route_policy_ids: Sequence[str]) -> EscalationPolicy | None: ...


T_co = TypeVar("T_co", covariant=True)


class _Getter(Protocol[T_co]):
    async def get(self, id: str, /) -> T_co: ...


class PolicyStore(Protocol):
    """Where rules and escalation policies are kept (store.Store)."""

    @property
    def rules(self) -> _Getter[Rule]: ...

    @property
    def escalation_policies(self) -> _Getter[EscalationPolicy]: ...


class StorePolicies:
    """Reads the policy when the alert fires; the caller keeps it as the escalation's snapshot."""

    def __init__(self, store: PolicyStore) -> None:
        self._store = store

    async def for_alert(self, alert: Alert, route_policy_ids: Sequence[str]) -> EscalationPolicy | None:
        ids: list[str] = []
        if alert.rule_id:
            # A rule deleted since it produced the alert has no say; its routes still count.
            with contextlib.suppress(NotFound):
                ids.append((await self._store.rules.get(alert.rule_id)).escalation_policy_id)
        ids.extend(route_policy_ids)
        for policy_id in ids:
            if not policy_id:
                continue
            try:
                return await self._store.escalation_policies.get(policy_id)
            except NotFound:
                log.warning("escalation policy %r of alert %s does not exist", policy_id, alert.fingerprint)
        return None
