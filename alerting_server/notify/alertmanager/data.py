"""A message as Alertmanager hands a notification to its integrations: alerts in its order
(types.AlertSlice: by `job`, then `instance`, then label set), truncated to `max_alerts` with the
template data computed over what is kept."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import replace

from alerting_server.notify.message import AlertData, Message


def _label_set_before(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """model.LabelSet.Before: fewer labels first, then by the sorted names' values."""
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted({*a, *b}):
        if name not in a:
            return True
        if name not in b:
            return False
        if a[name] != b[name]:
            return a[name] < b[name]
    return False


def _less(a: AlertData, b: AlertData) -> bool:
    for key in ("job", "instance"):
        ai, bi = a.labels.get(key), b.labels.get(key)
        if ai is None and bi is None:
            continue
        if ai is None:
            return False
        if bi is None:
            return True
        if ai != bi:
            return ai < bi
    return _label_set_before(a.labels, b.labels)


def _compare(a: AlertData, b: AlertData) -> int:
    if _less(a, b):
        return -1
    if _less(b, a):
        return 1
    return 0


def _common(maps: Iterable[Mapping[str, str]]) -> dict[str, str]:
    it = iter(maps)
    first = next(it, None)
    if first is None:
        return {}
    common = dict(first)
    for m in it:
        common = {k: v for k, v in common.items() if m.get(k) == v}
    return common


def alertmanager_message(message: Message, max_alerts: int = 0) -> Message:
    """`message` with Alertmanager's order of alerts, at most `max_alerts` of them (0: all)."""
    alerts = sorted(message.alerts, key=functools.cmp_to_key(_compare))
    truncated = 0
    if max_alerts > 0 and len(alerts) > max_alerts:
        truncated = len(alerts) - max_alerts
        alerts = alerts[:max_alerts]
    return replace(
        message,
        alerts=tuple(alerts),
        status="firing" if any(a.status == "firing" for a in alerts) else "resolved",
        common_labels=_common(a.labels for a in alerts),
        common_annotations=_common(a.annotations for a in alerts),
        truncated_alerts=message.truncated_alerts + truncated,
    )
