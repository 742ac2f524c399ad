"""Alertmanager's template data model (template/template.go `Data`), built from a Message.

Field and method names are Go's, because that is what the templates people already have call:
`.CommonLabels.SortedPairs`, `.Alerts.Firing`, `.CommonLabels.Remove .GroupLabels.Names`, ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alerting_server.notify.message import AlertData, Message
from alerting_server.templating import GoTime, StrMap

# Go's zero time.Time (0001-01-01T00:00:00Z), the EndsAt of an alert that has not ended.
GO_ZERO_UNIX_NANO = -62_135_596_800 * 1_000_000_000

_REGEXP_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


@dataclass(frozen=True)
class Pair:
    go_type_name = "template.Pair"
    Name: str
    Value: str


class Pairs(list[Pair]):
    """template.Pairs: a list that also answers .Names and .Values."""

    go_type_name = "template.Pairs"
    go_methods = frozenset({"Names", "Values", "String"})

    def Names(self) -> list[str]:
        return [p.Name for p in self]

    def Values(self) -> list[str]:
        return [p.Value for p in self]

    def String(self) -> str:
        return ", ".join(f"{p.Name}={p.Value}" for p in self)


class KV(StrMap):
    """template.KV: a map[string]string with methods; a missing key reads as ""."""

    go_methods = frozenset({"SortedPairs", "Remove", "Names", "Values", "String"})

    def SortedPairs(self) -> Pairs:
        # alertname first, then the rest by name, as Alertmanager orders them.
        keys = sorted(self, key=lambda k: (k != "alertname", k))
        return Pairs(Pair(k, self[k]) for k in keys)

    def Remove(self, keys: list[str]) -> KV:
        drop = set(keys)
        return KV({k: v for k, v in self.items() if k not in drop})

    def Names(self) -> list[str]:
        return self.SortedPairs().Names()

    def Values(self) -> list[str]:
        return self.SortedPairs().Values()

    def String(self) -> str:
        return self.SortedPairs().String()


@dataclass(frozen=True)
class TemplateAlert:
    """template.Alert."""

    go_type_name = "template.Alert"
    Status: str
    Labels: KV
    Annotations: KV
    StartsAt: GoTime
    EndsAt: GoTime
    GeneratorURL: str
    Fingerprint: str


class Alerts(list[TemplateAlert]):
    """template.Alerts: a list that also answers .Firing and .Resolved."""

    go_type_name = "template.Alerts"
    go_methods = frozenset({"Firing", "Resolved"})

    def Firing(self) -> list[TemplateAlert]:
        return [a for a in self if a.Status == "firing"]

    def Resolved(self) -> list[TemplateAlert]:
        return [a for a in self if a.Status == "resolved"]


@dataclass(frozen=True)
class TemplateData:
    """template.Data: the dot of every notification template."""

    go_type_name = "*template.Data"
    Receiver: str
    Status: str
    Alerts: Alerts
    GroupLabels: KV
    CommonLabels: KV
    CommonAnnotations: KV
    ExternalURL: str


def template_data(message: Message) -> TemplateData:
    return TemplateData(
        # Alertmanager quotes the receiver name as a regexp (it is used in URLs of its UI).
        Receiver=_quote_meta(message.receiver),
        Status=message.status,
        Alerts=Alerts(_alert(a) for a in message.alerts),
        GroupLabels=KV(message.group_labels),
        CommonLabels=KV(message.common_labels),
        CommonAnnotations=KV(message.common_annotations),
        ExternalURL=message.external_url,
    )


def _alert(alert: AlertData) -> TemplateAlert:
    return TemplateAlert(
        Status=alert.status,
        Labels=KV(alert.labels),
        Annotations=KV(alert.annotations),
        StartsAt=_time(alert.starts_at),
        EndsAt=_time(alert.ends_at),
        GeneratorURL=alert.generator_url,
        Fingerprint=alert.fingerprint,
    )


def _time(epoch_ms: int | None) -> GoTime:
    return GoTime(GO_ZERO_UNIX_NANO if epoch_ms is None else epoch_ms * 1_000_000)


def _quote_meta(text: str) -> str:
    return _REGEXP_META.sub(r"\\\1", text)
