"""Users, schedules and overrides: every bad field of a request in one InvalidArgument."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Collection

from alerting_server.errors import InvalidArgument, Violations
from alerting_server.model import Override, RestrictionType, Schedule, User
from alerting_server.oncall import MAX_RANGE
from alerting_server.oncall.contacts import CONTACT_TYPES, address_field, channel_names, channels
from alerting_server.outbound import OutboundPolicy
from alerting_server.validation.names import check_name
from alerting_server.validation.resources import validate_channel

HOUR = 3_600_000
DAY = 24 * HOUR
WEEK = 7 * DAY
MAX_CONTACT_METHODS = 20
MAX_LAYERS = 20
MAX_LAYER_USERS = 100
MAX_RESTRICTIONS = 50
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def parse_time_of_day(text: str) -> int | None:
    """ "HH:MM" as milliseconds after midnight; None when it is not one."""
    match = _TIME_OF_DAY.fullmatch(text)
    if match is None:
        return None
    return (int(match.group(1)) * 60 + int(match.group(2))) * 60_000


def format_time_of_day(ms: int) -> str:
    minutes = ms // 60_000
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_time_zone(v: Violations, field: str, name: str) -> None:
    if not name:
        v.add(field, 'required: an IANA time zone such as "UTC" or "Europe/Berlin"')
        return
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        v.add(field, f'unknown time zone {name!r}: an IANA name such as "UTC" or "Europe/Berlin"')


def validate_user(user: User, outbound: OutboundPolicy | None = None) -> None:
    v = Violations()
    check_name(v, "name", user.name)
    if not _EMAIL.fullmatch(user.email):
        v.add("email", f"must be an e-mail address, got {user.email!r}")
    check_time_zone(v, "time_zone", user.time_zone)
    if len(user.contact_methods) > MAX_CONTACT_METHODS:
        v.add("contact_methods", f"at most {MAX_CONTACT_METHODS}, got {len(user.contact_methods)}")
    elif bad := [i for i, m in enumerate(user.contact_methods) if m.type not in CONTACT_TYPES]:
        for i in bad:
            v.add(f"contact_methods[{i}].type", "must be one of " + ", ".join(t.value for t in CONTACT_TYPES))
    elif user.name:
        for i, (name, method, channel) in enumerate(
            zip(channel_names(user), user.contact_methods, channels(user), strict=True)
        ):
            field = f"contact_methods[{i}]"
            if not method.address:
                v.add(f"{field}.address", "required")
                continue
            key = f"config.{address_field(method.type, method.address)}"
            try:
                validate_channel(channel, outbound)
            except InvalidArgument as exc:
                for item in exc.violations:
                    if item.field == "name":
                        v.add("name", f"makes the channel name {name!r}, which {item.description}")
                    elif item.field == key or item.field.startswith(f"{key}["):
                        v.add(f"{field}.address", item.description)
                    else:
                        v.add(f"{field}.{item.field}", item.description)
    v.raise_if_any()


def validate_schedule(schedule: Schedule, users: Collection[str]) -> None:
    """`users`: the ids of the users that exist."""
    v = Violations()
    check_name(v, "name", schedule.name)
    check_time_zone(v, "time_zone", schedule.time_zone)
    if not schedule.layers:
        v.add("layers", "at least one layer is required")
    elif len(schedule.layers) > MAX_LAYERS:
        v.add("layers", f"at most {MAX_LAYERS} layers, got {len(schedule.layers)}")
    for i, layer in enumerate(schedule.layers):
        field = f"layers[{i}]"
        if layer.start <= 0:
            v.add(f"{field}.start", "required: epoch milliseconds")
        if layer.end is not None and layer.end <= layer.start:
            v.add(f"{field}.end", "must be after start")
        if not HOUR <= layer.turn_length <= MAX_RANGE:
            v.add(f"{field}.rotation_turn_length", "must be between 1h and 366 days")
        if not layer.users:
            v.add(f"{field}.users", "at least one user is required")
        elif len(layer.users) > MAX_LAYER_USERS:
            v.add(f"{field}.users", f"at most {MAX_LAYER_USERS}, got {len(layer.users)}")
        for j, user in enumerate(layer.users):
            if user not in users:
                v.add(f"{field}.users[{j}]", f"no user with id or name {user!r}")
        if len(layer.restrictions) > MAX_RESTRICTIONS:
            v.add(f"{field}.restrictions", f"at most {MAX_RESTRICTIONS}, got {len(layer.restrictions)}")
        for j, restriction in enumerate(layer.restrictions):
            where = f"{field}.restrictions[{j}]"
            longest = DAY if restriction.type is RestrictionType.DAILY else WEEK
            if not 0 < restriction.duration <= longest:
                v.add(f"{where}.duration", f"must be more than 0 and at most {longest // HOUR}h")
            if restriction.type is RestrictionType.WEEKLY and restriction.start_day is None:
                v.add(f"{where}.start_day", f"required for a weekly restriction: one of {', '.join(DAYS)}")
    v.raise_if_any()


def validate_override(override: Override, users: Collection[str]) -> None:
    v = Violations()
    if not override.user:
        v.add("user", "required: a user id or name")
    elif override.user not in users:
        v.add("user", f"no user with id or name {override.user!r}")
    if override.start <= 0:
        v.add("start", "required: epoch milliseconds")
    if override.end <= override.start:
        v.add("end", "must be after start")
    v.raise_if_any()


def check_range(start: int, end: int) -> None:
    v = Violations()
    if start <= 0:
        v.add("start", "required: epoch milliseconds")
    if end <= start:
        v.add("end", "must be after start")
    elif end - start > MAX_RANGE:
        v.add("end", "at most 366 days after start")
    v.raise_if_any()
