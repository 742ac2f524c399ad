"""GET /schedules/{id}.ics (with a token) and GET /calendar/{token}.ics (the secret address of
GetCalendarLink, which is its own credential): a schedule's shifts as an iCalendar feed that calendar
apps subscribe to.

The feed covers from PAST before now to AHEAD after it (the final schedule, overrides included), one
event per shift; a shift's UID stays the same while the shift does, so a refreshed subscription updates
the events it already has instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence

import icalendar
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from alerting.v1 import schedule_service_pb2
from alerting_common.jsonmap import JSONObject
from gateway.backend import Backend
from gateway.errors import guarded
from gateway.routes import RpcRoute

PATH = "/schedules/{id}.ics"
LINK_PATH = "/calendar/{token}.ics"
DAY_MS = 86_400_000
PAST = 30 * DAY_MS
AHEAD = 180 * DAY_MS
GET_RPC = "alerting.v1.ScheduleService.GetSchedule"
FINAL_RPC = "alerting.v1.ScheduleService.GetFinalSchedule"
FEED_RPC = "alerting.v1.ScheduleService.GetCalendarFeed"
MEDIA_TYPE = "text/calendar; charset=utf-8"

OPENAPI_PATHS: dict[str, JSONObject] = {
    PATH: {
        "get": {
            "operationId": "GetScheduleCalendar",
            "summary": "The schedule's shifts from 30 days ago to 180 days ahead, as an iCalendar feed",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "RFC 5545 calendar", "content": {"text/calendar": {}}},
                "404": {"description": "no such schedule"},
            },
        }
    },
    LINK_PATH: {
        "get": {
            "operationId": "GetCalendarFeedCalendar",
            "summary": "The feed of GET /schedules/{id}.ics at the secret address GetCalendarLink gives; "
            "the address is the credential",
            "security": [],
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "RFC 5545 calendar", "content": {"text/calendar": {}}},
                "400": {"description": "not a calendar link, or an altered one"},
                "404": {"description": "the schedule is gone"},
            },
        }
    },
}


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def render(
    schedule: schedule_service_pb2.Schedule, shifts: Sequence[schedule_service_pb2.Shift], now_ms: int
) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//alerting//on-call schedules//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"On call: {schedule.name}")
    calendar.add("x-wr-timezone", schedule.time_zone)
    for shift in shifts:
        start, end = shift.start.ToMilliseconds(), shift.end.ToMilliseconds()
        event = icalendar.Event()
        event.add("uid", f"{schedule.id}-{shift.user}-{start}@alerting")
        event.add("dtstamp", _utc(now_ms))
        event.add("dtstart", _utc(start))
        event.add("dtend", _utc(end))
        event.add("summary", f"On call: {shift.user_name or shift.user} ({schedule.name})")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def calendar_routes(
    backend: Backend, routes: Sequence[RpcRoute], clock: Callable[[], int] = _now_ms
) -> list[BaseRoute]:
    """The feed's route; none when the API served has no ScheduleService."""
    by_name = {route.name: route for route in routes}
    if not {GET_RPC, FINAL_RPC, FEED_RPC} <= set(by_name):
        return []
    get_route, final_route, feed_route = by_name[GET_RPC], by_name[FINAL_RPC], by_name[FEED_RPC]

    def span(
        request: schedule_service_pb2.GetFinalScheduleRequest | schedule_service_pb2.GetCalendarFeedRequest,
        now: int,
    ) -> None:
        # Whole days, so that a feed fetched twice in a day lists the same shifts.
        day = now - now % DAY_MS
        request.start.FromMilliseconds(day - PAST)
        request.end.FromMilliseconds(day + AHEAD)

    def calendar(body: bytes) -> Response:
        return Response(body, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-cache"})

    @guarded
    async def endpoint(request: Request) -> Response:
        ref = request.path_params["id"]
        got = await backend.unary(get_route, schedule_service_pb2.GetScheduleRequest(id=ref), request)
        assert isinstance(got, schedule_service_pb2.GetScheduleResponse)
        now = clock()
        final = schedule_service_pb2.GetFinalScheduleRequest(id=got.schedule.id)
        span(final, now)
        answer = await backend.unary(final_route, final, request)
        assert isinstance(answer, schedule_service_pb2.GetFinalScheduleResponse)
        return calendar(render(got.schedule, answer.shifts, now))

    @guarded
    async def by_link(request: Request) -> Response:
        now = clock()
        feed = schedule_service_pb2.GetCalendarFeedRequest(token=request.path_params["token"])
        span(feed, now)
        answer = await backend.unary(feed_route, feed, request)
        assert isinstance(answer, schedule_service_pb2.GetCalendarFeedResponse)
        return calendar(render(answer.schedule, answer.shifts, now))

    return [
        Route(PATH, endpoint, methods=["GET"], name="schedule-calendar"),
        Route(LINK_PATH, by_link, methods=["GET"], name="calendar-link"),
    ]
