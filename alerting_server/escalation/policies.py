"""Which policy an alert follows: its rule's, else the first of its routes that names one."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from alerting_server.errors import NotFound
from alerting_server.model import Alert, EscalationPolicy
from alerting_server.store import Store

log = logging.getLogger(__name__)


class PolicyFinder(Protocol):
    async def for_alert(self, alert: Alert, route_policy_ids: Sequence[str]) -> EscalationPolicy | None: ...


class StorePolicies:
    """Reads the policy when the alert fires; the caller keeps it as the escalation's snapshot."""

    def __init__(self, store: Store) -> None:
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
