"""The notification log: what was last sent per group and receiver, and the decision to send again.

Follows Alertmanager's nflog and `DedupStage.needsUpdate` (notify/notify.go): an entry keeps
the set of firing and the set of resolved alert hashes of the last notification and when it
went out. The next flush of the group notifies when

1. nothing was sent before and something fires                 (FIRST_NOTIFICATION);
2. an alert fires that the last notification did not list       (NEW_ALERTS, or FIRST_NOTIFICATION
   when the last one had resolved everything);
3. nothing fires any more but the last notification had firing alerts (ALL_RESOLVED);
4. an alert resolved that the last notification did not list as resolved (NEW_RESOLVED);
5. none of the above but more than `repeat_interval` has passed since the last notification
   (REPEAT; strictly more, as Alertmanager's `Before`).

Alerts that fired and resolved between two notifications are not worth one on their own (3).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class NotifyReason(enum.Enum):
    NONE = "none"
    FIRST_NOTIFICATION = "first notification"
    NEW_ALERTS = "new alerts added"
    NEW_RESOLVED = "some alerts resolved"
    ALL_RESOLVED = "all alerts resolved"
    REPEAT = "repeat interval elapsed"

    def __bool__(self) -> bool:
        return self is not NotifyReason.NONE


@dataclass(frozen=True)
class LogEntry:
    """The last notification of one group to one receiver."""

    firing: frozenset[str]
    resolved: frozenset[str]
    sent_at: int

    def to_data(self) -> dict[str, object]:
        return {"firing": sorted(self.firing), "resolved": sorted(self.resolved), "sent_at": self.sent_at}

    @staticmethod
    def from_data(data: Mapping[str, object]) -> LogEntry:
        firing, resolved, sent_at = data["firing"], data["resolved"], data["sent_at"]
        if not isinstance(firing, list) or not isinstance(resolved, list) or not isinstance(sent_at, int):
            raise ValueError(f"malformed notification log entry: {data!r}")
        return LogEntry(frozenset(map(str, firing)), frozenset(map(str, resolved)), sent_at)


def needs_update(
    entry: LogEntry | None, firing: frozenset[str], resolved: frozenset[str], repeat_interval: int, now: int
) -> NotifyReason:
    if entry is None:
        return NotifyReason.FIRST_NOTIFICATION if firing else NotifyReason.NONE
    if not firing <= entry.firing:
        return NotifyReason.NEW_ALERTS if entry.firing else NotifyReason.FIRST_NOTIFICATION
    if not firing:
        return NotifyReason.ALL_RESOLVED if entry.firing else NotifyReason.NONE
    # Alertmanager asks the receiver's send_resolved here; a notification at this stage goes to
    # every channel of a receiver, so it is always built and the channel drops what it does not want.
    if not resolved <= entry.resolved:
        return NotifyReason.NEW_RESOLVED
    if entry.sent_at < now - repeat_interval:
        return NotifyReason.REPEAT
    return NotifyReason.NONE


class NotificationLog:
    """Entries keyed by (group id, receiver); entries older than `retention` are forgotten."""

    def __init__(self, retention: int) -> None:
        self.retention = retention
        self._entries: dict[tuple[str, str], LogEntry] = {}
        # What changed since `take_changes`, so that only that is written back.
        self._logged: set[tuple[str, str]] = set()
        self._forgotten: set[tuple[str, str]] = set()

    def get(self, group_id: str, receiver: str) -> LogEntry | None:
        return self._entries.get((group_id, receiver))

    def log(self, group_id: str, receiver: str, entry: LogEntry) -> None:
        self._entries[(group_id, receiver)] = entry
        self._logged.add((group_id, receiver))
        self._forgotten.discard((group_id, receiver))

    def gc(self, now: int) -> None:
        expired = [k for k, e in self._entries.items() if e.sent_at + self.retention <= now]
        for key in expired:
            del self._entries[key]
            self._logged.discard(key)
            self._forgotten.add(key)

    def take_changes(self) -> tuple[dict[tuple[str, str], LogEntry], set[tuple[str, str]]]:
        """Entries logged and keys forgotten since the last call."""
        logged = {k: self._entries[k] for k in self._logged}
        forgotten = self._forgotten
        self._logged, self._forgotten = set(), set()
        return logged, forgotten

    def to_data(self) -> list[dict[str, object]]:
        return [{"group_id": g, "receiver": r, **e.to_data()} for (g, r), e in sorted(self._entries.items())]

    def load(self, data: Sequence[Mapping[str, object]]) -> None:
        self._entries = {(str(d["group_id"]), str(d["receiver"])): LogEntry.from_data(d) for d in data}
