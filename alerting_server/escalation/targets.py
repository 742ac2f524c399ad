"""Whom an escalation level pages: its channels, its users (the channels of their contact methods), and
for each schedule whoever is on call in it at the moment the level is reached."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from alerting_server.alerts.dispatch.receivers import Receivers
from alerting_server.model import Channel, Override, Schedule, User
from alerting_server.oncall import on_call


@dataclass(frozen=True)
class Recipient:
    channel: Channel
    # The person the channel reaches ("": a channel of the level's own); their link names them.
    person: str = ""


@dataclass
class Resolved:
    recipients: list[Recipient] = field(default_factory=list)
    # What the alert's history says besides whom it paged: unknown targets, gaps in schedules.
    notes: list[str] = field(default_factory=list)


class People:
    """Users and schedules by id and by name, with the overrides of each schedule."""

    def __init__(
        self,
        users: Iterable[User] = (),
        schedules: Iterable[Schedule] = (),
        overrides: Iterable[Override] = (),
    ) -> None:
        users = list(users)
        schedules = list(schedules)
        self._users = {u.id: u for u in users} | {u.name: u for u in users}
        self._schedules = {s.id: s for s in schedules} | {s.name: s for s in schedules}
        self._overrides: dict[str, list[Override]] = {}
        for o in overrides:
            self._overrides.setdefault(o.schedule_id, []).append(o)

    def resolve(
        self,
        channels: Sequence[str],
        users: Sequence[str],
        schedules: Sequence[str],
        receivers: Receivers,
        where: str,
        now: int,
    ) -> Resolved:
        out = Resolved()
        seen: set[str] = set()

        def add(channel: Channel, person: str) -> None:
            if channel.id not in seen:
                seen.add(channel.id)
                out.recipients.append(Recipient(channel, person))

        missing = [name for name in channels if receivers.channels(name) is None]
        if missing:
            out.notes.append(f"no such channel: {', '.join(missing)}")
        for name in channels:
            for channel in receivers.resolve(name, where):
                add(channel, "")
        people = [self._users.get(ref) for ref in users]
        unknown = [ref for ref, user in zip(users, people, strict=True) if user is None]
        if unknown:
            out.notes.append(f"no such user: {', '.join(unknown)}")
        paged = [u for u in people if u is not None]
        for ref in schedules:
            schedule = self._schedules.get(ref)
            if schedule is None:
                out.notes.append(f"no such schedule: {ref}")
                continue
            answer = on_call(schedule, self._overrides.get(schedule.id, ()), now)
            if not answer.users:
                out.notes.append(f"nobody is on call in schedule {schedule.name!r}")
                continue
            on_duty = [self._users[u] for u in answer.users if u in self._users]
            names = ", ".join(u.name for u in on_duty)
            out.notes.append(f"on call in schedule {schedule.name!r}: {names}")
            paged.extend(on_duty)
        for user in paged:
            reached = [receivers.get(m.channel_id) for m in user.contact_methods]
            if not any(reached):
                out.notes.append(f"user {user.name!r} has no contact method")
            for contact in reached:
                if contact is not None:
                    add(contact, user.name)
        return out
