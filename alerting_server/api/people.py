"""The gRPC servicers of users and on-call schedules: convert, validate, store, compute."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable

from alerting.v1 import (
    schedule_service_pb2,
    schedule_service_pb2_grpc,
    user_service_pb2,
    user_service_pb2_grpc,
)
from alerting_server import model
from alerting_server.api import convert
from alerting_server.api.servicers import (
    ConfigListener,
    Context,
    _page,
    _require,
    _require_message,
    _resolve,
)
from alerting_server.clock import Clock
from alerting_server.errors import FailedPrecondition, InvalidArgument, NotFound, Violations
from alerting_server.oncall import final_schedule, on_call
from alerting_server.oncall.calendar_links import CalendarLinks
from alerting_server.oncall.contacts import address_field, channel_config, contact_method
from alerting_server.outbound import OutboundPolicy
from alerting_server.store import Store
from alerting_server.store.references import Known
from alerting_server.validation import channels as channel_config_checks
from alerting_server.validation import people as validate
from alerting_server.validation.fields import SECRET_PLACEHOLDER

# --- users ---------------------------------------------------------------------------------


def user_from_pb(msg: user_service_pb2.User) -> model.User:
    v = Violations()
    methods = []
    for i, cm in enumerate(msg.contact_methods):
        if cm.type not in convert.CHANNEL_TYPE_FROM_PB:
            v.add(f"contact_methods[{i}].type", "required: one of email, slack, pagerduty, webhook")
            continue
        methods.append(
            model.ContactMethod(
                type=convert.CHANNEL_TYPE_FROM_PB[cm.type],
                address=cm.address,
                config=convert.struct_from_pb(cm.config),
                channel_id=cm.channel_id,
            )
        )
    v.raise_if_any()
    return model.User(name=msg.name, email=msg.email, time_zone=msg.time_zone, contact_methods=tuple(methods))


def _redacted(method: model.ContactMethod) -> model.ContactMethod:
    secrets = channel_config_checks.secret_fields(method.type)
    address = method.address
    if address and address_field(method.type, address) in secrets:
        address = SECRET_PLACEHOLDER
    return dataclasses.replace(
        method, address=address, config=channel_config_checks.redact(method.type, method.config)
    )


def user_to_pb(user: model.User) -> user_service_pb2.User:
    return user_service_pb2.User(
        id=user.id,
        name=user.name,
        email=user.email,
        time_zone=user.time_zone,
        contact_methods=[
            user_service_pb2.ContactMethod(
                type=convert.CHANNEL_TYPE_TO_PB[m.type],
                address=m.address,
                config=convert.struct_to_pb(m.config),
                channel_id=m.channel_id,
            )
            for m in map(_redacted, user.contact_methods)
        ],
        created_at=convert.ts_to_pb(user.created_at),
        updated_at=convert.ts_to_pb(user.updated_at),
    )


class UserServicer(user_service_pb2_grpc.UserServiceServicer):
    def __init__(
        self,
        store: Store,
        clock: Clock,
        listener: ConfigListener | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        # Told when the user's channels change (the alert pipeline delivers to them).
        self._listener = listener
        self._outbound = outbound

    async def _changed(self) -> None:
        if self._listener is not None:
            await self._listener.reload()

    async def CreateUser(
        self, request: user_service_pb2.CreateUserRequest, context: Context
    ) -> user_service_pb2.CreateUserResponse:
        user = user_from_pb(_require_message(request, "user"))
        for i, method in enumerate(user.contact_methods):
            if method.channel_id:
                raise InvalidArgument.field(f"contact_methods[{i}].channel_id", "output only: leave it unset")
        validate.validate_user(user, self._outbound)
        created = await self._store.users.create(user, self._clock.now_ms())
        await self._changed()
        return user_service_pb2.CreateUserResponse(user=user_to_pb(created))

    async def GetUser(
        self, request: user_service_pb2.GetUserRequest, context: Context
    ) -> user_service_pb2.GetUserResponse:
        user = await self._store.users.get(await _resolve(self._store.users, request.id))
        return user_service_pb2.GetUserResponse(user=user_to_pb(user))

    async def ListUsers(
        self, request: user_service_pb2.ListUsersRequest, context: Context
    ) -> user_service_pb2.ListUsersResponse:
        page = await self._store.users.list(_page(request, "users"))
        return user_service_pb2.ListUsersResponse(
            users=[user_to_pb(u) for u in page.items], next_page_token=page.next_page_token
        )

    async def UpdateUser(
        self, request: user_service_pb2.UpdateUserRequest, context: Context
    ) -> user_service_pb2.UpdateUserResponse:
        user_id = await _resolve(self._store.users, request.id)
        user = user_from_pb(_require_message(request, "user"))
        stored = await self._store.users.get(user_id)
        user = dataclasses.replace(user, id=user_id, contact_methods=self._with_secrets(user, stored))
        validate.validate_user(user, self._outbound)
        updated = await self._store.users.update(user_id, user, self._clock.now_ms())
        await self._changed()
        return user_service_pb2.UpdateUserResponse(user=user_to_pb(updated))

    @staticmethod
    def _with_secrets(user: model.User, stored: model.User) -> tuple[model.ContactMethod, ...]:
        """The contact methods with the secrets of the channels they keep swapped back in for "<secret>"."""
        kept = {m.channel_id: m for m in stored.contact_methods}
        out = []
        for i, method in enumerate(user.contact_methods):
            if not method.channel_id:
                out.append(method)
                continue
            old = kept.get(method.channel_id)
            if old is None:
                raise InvalidArgument.field(
                    f"contact_methods[{i}].channel_id", f"not a channel of user {stored.name!r}"
                )
            if old.type is not method.type:
                out.append(dataclasses.replace(method, channel_id=""))
                continue
            if method.address == SECRET_PLACEHOLDER:
                # Kept as it was (a Slack address that is a webhook URL is not told apart when redacted).
                method = dataclasses.replace(method, address=old.address)
            new_config = channel_config(method)
            try:
                merged = channel_config_checks.merge_secrets(method.type, new_config, channel_config(old))
            except InvalidArgument as exc:
                raise exc.prefixed(f"contact_methods[{i}]") from None
            channel = model.Channel(name="", type=method.type, config=merged, id=method.channel_id)
            out.append(contact_method(channel))
        return tuple(out)

    async def DeleteUser(
        self, request: user_service_pb2.DeleteUserRequest, context: Context
    ) -> user_service_pb2.DeleteUserResponse:
        await self._store.users.delete(await _resolve(self._store.users, request.id))
        await self._changed()
        return user_service_pb2.DeleteUserResponse()


# --- schedules -----------------------------------------------------------------------------

_RESTRICTION_TYPE = {
    schedule_service_pb2.RESTRICTION_TYPE_DAILY: model.RestrictionType.DAILY,
    schedule_service_pb2.RESTRICTION_TYPE_WEEKLY: model.RestrictionType.WEEKLY,
}
_RESTRICTION_TYPE_TO_PB = {v: k for k, v in _RESTRICTION_TYPE.items()}


def _time_of_day(v: Violations, field: str, text: str) -> int:
    ms = validate.parse_time_of_day(text)
    if ms is None:
        v.add(field, f'must be a local time "HH:MM" (00:00 to 23:59), got {text!r}')
        return 0
    return ms


def schedule_from_pb(msg: schedule_service_pb2.Schedule) -> model.Schedule:
    """The schedule; the parts that do not parse (times of day, days, types) are InvalidArgument."""
    v = Violations()
    layers = []
    for i, layer in enumerate(msg.layers):
        field = f"layers[{i}]"
        restrictions = []
        for j, r in enumerate(layer.restrictions):
            where = f"{field}.restrictions[{j}]"
            kind = _RESTRICTION_TYPE.get(r.type)
            if kind is None:
                v.add(f"{where}.type", "required: daily or weekly")
                continue
            start_day = None
            if kind is model.RestrictionType.WEEKLY:
                if r.start_day.lower() in validate.DAYS:
                    start_day = validate.DAYS.index(r.start_day.lower())
                elif r.start_day:
                    v.add(f"{where}.start_day", f"must be one of {', '.join(validate.DAYS)}")
            elif r.start_day:
                v.add(f"{where}.start_day", "only a weekly restriction has a start day")
            restrictions.append(
                model.Restriction(
                    kind,
                    _time_of_day(v, f"{where}.start_time", r.start_time),
                    convert.dur_from_pb(r, "duration") or 0,
                    start_day,
                )
            )
        handoff = None
        if layer.handoff_time:
            handoff = _time_of_day(v, f"{field}.handoff_time", layer.handoff_time)
        layers.append(
            model.Layer(
                name=layer.name,
                start=convert.ts_from_pb(layer, "start") or 0,
                end=convert.ts_from_pb(layer, "end"),
                turn_length=convert.dur_from_pb(layer, "rotation_turn_length") or 0,
                handoff_time=handoff,
                users=tuple(layer.users),
                restrictions=tuple(restrictions),
            )
        )
    v.raise_if_any()
    return model.Schedule(name=msg.name, time_zone=msg.time_zone, layers=tuple(layers))


def schedule_to_pb(schedule: model.Schedule) -> schedule_service_pb2.Schedule:
    return schedule_service_pb2.Schedule(
        id=schedule.id,
        name=schedule.name,
        time_zone=schedule.time_zone,
        layers=[
            schedule_service_pb2.ScheduleLayer(
                name=layer.name,
                start=convert.ts_to_pb(layer.start),
                end=convert.ts_to_pb(layer.end),
                rotation_turn_length=convert.dur_to_pb(layer.turn_length),
                handoff_time=""
                if layer.handoff_time is None
                else validate.format_time_of_day(layer.handoff_time),
                users=list(layer.users),
                restrictions=[
                    schedule_service_pb2.Restriction(
                        type=_RESTRICTION_TYPE_TO_PB[r.type],
                        start_day="" if r.start_day is None else validate.DAYS[r.start_day],
                        start_time=validate.format_time_of_day(r.start_time),
                        duration=convert.dur_to_pb(r.duration),
                    )
                    for r in layer.restrictions
                ],
            )
            for layer in schedule.layers
        ],
        created_at=convert.ts_to_pb(schedule.created_at),
        updated_at=convert.ts_to_pb(schedule.updated_at),
    )


def override_to_pb(o: model.Override) -> schedule_service_pb2.Override:
    return schedule_service_pb2.Override(
        id=o.id,
        user=o.user,
        start=convert.ts_to_pb(o.start),
        end=convert.ts_to_pb(o.end),
        created_at=convert.ts_to_pb(o.created_at),
    )


class ScheduleServicer(schedule_service_pb2_grpc.ScheduleServiceServicer):
    def __init__(
        self,
        store: Store,
        clock: Clock,
        listener: ConfigListener | None = None,
        calendar_links: CalendarLinks | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._calendar_links = calendar_links
        # Told when schedules or overrides change (escalation resolves schedules when a level is reached).
        self._listener = listener

    async def _changed(self) -> None:
        if self._listener is not None:
            await self._listener.reload()

    async def _user_id(self, ref: str) -> str:
        """The id of the user `ref` names by id or name; one that names nobody is left for the check
        in the write's transaction to refuse with its field."""
        if ref:
            with contextlib.suppress(NotFound):
                return await self._store.users.resolve(ref)
        return ref

    async def _with_user_ids(self, schedule: model.Schedule) -> model.Schedule:
        layers = [
            dataclasses.replace(layer, users=tuple([await self._user_id(u) for u in layer.users]))
            for layer in schedule.layers
        ]
        return dataclasses.replace(schedule, layers=tuple(layers))

    @staticmethod
    def _check(schedule: model.Schedule) -> Callable[[Known], None]:
        return lambda known: validate.validate_schedule(schedule, known.users)

    async def CreateSchedule(
        self, request: schedule_service_pb2.CreateScheduleRequest, context: Context
    ) -> schedule_service_pb2.CreateScheduleResponse:
        schedule = await self._with_user_ids(schedule_from_pb(_require_message(request, "schedule")))
        created = await self._store.schedules.create(
            schedule, self._clock.now_ms(), check=self._check(schedule)
        )
        await self._changed()
        return schedule_service_pb2.CreateScheduleResponse(schedule=schedule_to_pb(created))

    async def GetSchedule(
        self, request: schedule_service_pb2.GetScheduleRequest, context: Context
    ) -> schedule_service_pb2.GetScheduleResponse:
        schedule = await self._store.schedules.get(await _resolve(self._store.schedules, request.id))
        return schedule_service_pb2.GetScheduleResponse(schedule=schedule_to_pb(schedule))

    async def ListSchedules(
        self, request: schedule_service_pb2.ListSchedulesRequest, context: Context
    ) -> schedule_service_pb2.ListSchedulesResponse:
        page = await self._store.schedules.list(_page(request, "schedules"))
        return schedule_service_pb2.ListSchedulesResponse(
            schedules=[schedule_to_pb(s) for s in page.items], next_page_token=page.next_page_token
        )

    async def UpdateSchedule(
        self, request: schedule_service_pb2.UpdateScheduleRequest, context: Context
    ) -> schedule_service_pb2.UpdateScheduleResponse:
        schedule_id = await _resolve(self._store.schedules, request.id)
        schedule = await self._with_user_ids(schedule_from_pb(_require_message(request, "schedule")))
        updated = await self._store.schedules.update(
            schedule_id, schedule, self._clock.now_ms(), check=self._check(schedule)
        )
        await self._changed()
        return schedule_service_pb2.UpdateScheduleResponse(schedule=schedule_to_pb(updated))

    async def DeleteSchedule(
        self, request: schedule_service_pb2.DeleteScheduleRequest, context: Context
    ) -> schedule_service_pb2.DeleteScheduleResponse:
        await self._store.schedules.delete(await _resolve(self._store.schedules, request.id))
        await self._changed()
        return schedule_service_pb2.DeleteScheduleResponse()

    async def CreateOverride(
        self, request: schedule_service_pb2.CreateOverrideRequest, context: Context
    ) -> schedule_service_pb2.CreateOverrideResponse:
        schedule_id = await _resolve(self._store.schedules, request.schedule_id)
        msg = _require_message(request, "override")
        override = model.Override(
            user=await self._user_id(msg.user),
            start=convert.ts_from_pb(msg, "start") or 0,
            end=convert.ts_from_pb(msg, "end") or 0,
            schedule_id=schedule_id,
        )
        created = await self._store.schedules.add_override(
            override,
            self._clock.now_ms(),
            check=lambda known: validate.validate_override(override, known.users),
        )
        await self._changed()
        return schedule_service_pb2.CreateOverrideResponse(override=override_to_pb(created))

    async def ListOverrides(
        self, request: schedule_service_pb2.ListOverridesRequest, context: Context
    ) -> schedule_service_pb2.ListOverridesResponse:
        schedule_id = await _resolve(self._store.schedules, request.schedule_id)
        page = await self._store.schedules.list_overrides(
            schedule_id,
            _page(request, "overrides"),
            start=convert.ts_from_pb(request, "start"),
            end=convert.ts_from_pb(request, "end"),
        )
        return schedule_service_pb2.ListOverridesResponse(
            overrides=[override_to_pb(o) for o in page.items], next_page_token=page.next_page_token
        )

    async def DeleteOverride(
        self, request: schedule_service_pb2.DeleteOverrideRequest, context: Context
    ) -> schedule_service_pb2.DeleteOverrideResponse:
        schedule_id = await _resolve(self._store.schedules, request.schedule_id)
        await self._store.schedules.delete_override(schedule_id, _require(request.id, "id"))
        await self._changed()
        return schedule_service_pb2.DeleteOverrideResponse()

    async def _names(self) -> dict[str, str]:
        return {u.id: u.name for u in await self._store.users.all()}

    async def GetOnCall(
        self, request: schedule_service_pb2.GetOnCallRequest, context: Context
    ) -> schedule_service_pb2.GetOnCallResponse:
        schedule = await self._store.schedules.get(await _resolve(self._store.schedules, request.id))
        at = convert.ts_from_pb(request, "at")
        if at is None:
            at = self._clock.now_ms()
        overrides = await self._store.schedules.overrides(schedule.id, start=at)
        answer = on_call(schedule, overrides, at)
        names = await self._names()
        return schedule_service_pb2.GetOnCallResponse(
            users=[schedule_service_pb2.OnCallUser(id=u, name=names.get(u, "")) for u in answer.users],
            until=convert.ts_to_pb(answer.until),
        )

    async def GetFinalSchedule(
        self, request: schedule_service_pb2.GetFinalScheduleRequest, context: Context
    ) -> schedule_service_pb2.GetFinalScheduleResponse:
        schedule = await self._store.schedules.get(await _resolve(self._store.schedules, request.id))
        return schedule_service_pb2.GetFinalScheduleResponse(shifts=await self._shifts(schedule, request))

    async def _shifts(
        self,
        schedule: model.Schedule,
        request: schedule_service_pb2.GetFinalScheduleRequest | schedule_service_pb2.GetCalendarFeedRequest,
    ) -> list[schedule_service_pb2.Shift]:
        start = convert.ts_from_pb(request, "start") or 0
        end = convert.ts_from_pb(request, "end") or 0
        validate.check_range(start, end)
        overrides = await self._store.schedules.overrides(schedule.id, start=start, end=end)
        names = await self._names()
        return [
            schedule_service_pb2.Shift(
                user=s.user,
                user_name=names.get(s.user, ""),
                start=convert.ts_to_pb(s.start),
                end=convert.ts_to_pb(s.end),
            )
            for s in final_schedule(schedule, overrides, start, end)
        ]

    def _links(self) -> CalendarLinks:
        if self._calendar_links is None:
            raise FailedPrecondition("calendar links are not available on this server")
        return self._calendar_links

    async def GetCalendarLink(
        self, request: schedule_service_pb2.GetCalendarLinkRequest, context: Context
    ) -> schedule_service_pb2.GetCalendarLinkResponse:
        schedule_id = await _resolve(self._store.schedules, request.id)
        links = self._links()
        epoch = await self._store.schedules.calendar_link_epoch(schedule_id)
        return schedule_service_pb2.GetCalendarLinkResponse(
            url=links.url(schedule_id, epoch), token=links.token(schedule_id, epoch)
        )

    async def ResetCalendarLink(
        self, request: schedule_service_pb2.ResetCalendarLinkRequest, context: Context
    ) -> schedule_service_pb2.ResetCalendarLinkResponse:
        schedule_id = await _resolve(self._store.schedules, request.id)
        links = self._links()  # Refused before any change on a server without calendar links.
        epoch = await self._store.schedules.reset_calendar_link(schedule_id)
        return schedule_service_pb2.ResetCalendarLinkResponse(
            url=links.url(schedule_id, epoch), token=links.token(schedule_id, epoch)
        )

    async def GetCalendarFeed(
        self, request: schedule_service_pb2.GetCalendarFeedRequest, context: Context
    ) -> schedule_service_pb2.GetCalendarFeedResponse:
        schedule_id, epoch = self._links().verify(request.token)
        if epoch != await self._store.schedules.calendar_link_epoch(schedule_id):
            # Gone for good, as a deleted schedule's link is: a calendar app stops asking.
            raise NotFound("this calendar link was reset; the schedule's new link replaces it")
        schedule = await self._store.schedules.get(schedule_id)
        return schedule_service_pb2.GetCalendarFeedResponse(
            schedule=schedule_to_pb(schedule), shifts=await self._shifts(schedule, request)
        )
