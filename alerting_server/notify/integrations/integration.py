"""What the rest of the server knows of a channel type: its config's fields (which are secrets,
which one says where it sends), its typed config, its notifier, its templates and its limits."""

from __future__ import annotations

import builtins
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

import httpx

from alerting_server.clock import Clock
from alerting_server.errors import Violations
from alerting_server.model import ChannelType
from alerting_server.notify.alertmanager.templates import TemplateSet, default_set
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.notifier import Notifier
from alerting_server.outbound import OutboundPolicy
from alerting_server.validation.fields import FieldSpec


class Config(Protocol):
    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        """The typed config of a dict that validation accepted, defaults filled in."""
        ...


C = TypeVar("C", bound=Config)


@dataclass(frozen=True)
class Connections:
    """What notifiers send through. `tls_context` is what SMTP connections trust (None: the system's
    CAs); `outbound` is where SMTP may connect, HTTP being held to the policy of `http`'s transport."""

    http: httpx.AsyncClient
    clock: Clock
    outbound: OutboundPolicy
    tls_context: ssl.SSLContext | None = None
    # The notification templates (Alertmanager's defaults and the user's files) that channels'
    # templates may call; None: the defaults alone.
    templates: TemplateSet | None = None

    def template_set(self) -> TemplateSet:
        return self.templates if self.templates is not None else default_set()


def _no_check(v: Violations, config: Mapping[str, Any], path: str) -> None:
    pass


@dataclass(frozen=True)
class Integration(Generic[C]):
    type: ChannelType
    schema: Mapping[str, FieldSpec]
    config: builtins.type[C]
    notifier: Callable[[C, Connections], Notifier]
    # The field naming where the channel sends, and its value when unset.
    destination: str
    limits: ChannelLimits
    # Alertmanager's default for send_resolved.
    send_resolved: bool
    destination_default: str = ""
    # The fields that are Go templates overriding the notifier's own texts.
    templates: tuple[str, ...] = ()
    # What the fields' own checks cannot see: how fields go together.
    check: Callable[[Violations, Mapping[str, Any], str], None] = _no_check

    def secret_fields(self) -> frozenset[str]:
        return frozenset(name for name, spec in self.schema.items() if spec.secret)

    def notifier_for(self, config: Mapping[str, Any], connections: Connections) -> Notifier:
        return self.notifier(self.config.parse(config), connections)


def headers(config: Mapping[str, Any]) -> dict[str, str]:
    """The `headers` field of a config, which validation checked to map names to strings."""
    return {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
