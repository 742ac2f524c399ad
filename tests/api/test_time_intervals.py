"""TimeIntervalService and the routes that name time intervals, in an in-process grpc.aio server with a
real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from grpc import aio

from alerting.v1 import (
    routing_service_pb2,
    routing_service_pb2_grpc,
    time_interval_service_pb2,
    time_interval_service_pb2_grpc,
)
from alerting_server.api import servicers
from alerting_server.api.interceptors import ErrorInterceptor
from alerting_server.model import Channel, ChannelType
from alerting_server.store import Store
from alerting_server.timeintervals import parse_time_interval
from tests.api.test_servicers import NOW, CountingListener, FixedClock, _preconditions, _violations

Env = tuple[aio.Channel, Store, CountingListener]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    await store.migrate()
    await store.channels.create(
        Channel(name="ops", type=ChannelType.WEBHOOK, config={"url": "http://x"}), NOW
    )
    clock, listener = FixedClock(NOW), CountingListener()
    server = aio.server(interceptors=[ErrorInterceptor()])
    time_interval_service_pb2_grpc.add_TimeIntervalServiceServicer_to_server(
        servicers.TimeIntervalServicer(store, clock, listener), server
    )
    routing_service_pb2_grpc.add_RoutingServiceServicer_to_server(
        servicers.RoutingServicer(store, clock, listener), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = aio.insecure_channel(f"127.0.0.1:{port}")
    yield channel, store, listener
    await channel.close(None)
    await server.stop(None)
    await store.close()


def interval(name: str, *specs: dict[str, Any]) -> time_interval_service_pb2.TimeInterval:
    message = time_interval_service_pb2.TimeInterval(name=name)
    for spec in specs:
        struct = struct_pb2.Struct()
        struct.update(spec)
        message.time_intervals.append(struct)
    return message


WEEKEND: dict[str, Any] = {"weekdays": ["saturday", "sunday"], "location": "Europe/Berlin"}
NIGHTS: dict[str, Any] = {
    "times": [{"start_time": "00:00", "end_time": "06:00"}],
    "days_of_month": [1, "-3:-1"],
}


def tree(
    mute_time_intervals: Sequence[str] = (), active_time_intervals: Sequence[str] = ()
) -> routing_service_pb2.Route:
    child = routing_service_pb2.Route(
        matchers=['team="db"'],
        mute_time_intervals=mute_time_intervals,
        active_time_intervals=active_time_intervals,
    )
    return routing_service_pb2.Route(receiver="ops", routes=[child])


async def test_create_get_list_update_delete(env: Env) -> None:
    channel, store, listener = env
    stub = time_interval_service_pb2_grpc.TimeIntervalServiceStub(channel)
    created = (
        await stub.CreateTimeInterval(
            time_interval_service_pb2.CreateTimeIntervalRequest(time_interval=interval("weekend", WEEKEND))
        )
    ).time_interval
    assert created.id
    assert created.created_at.ToMilliseconds() == NOW
    assert created.source == ""
    assert [dict(s) for s in created.time_intervals] == [WEEKEND]
    assert listener.reloads == 1

    by_name = await stub.GetTimeInterval(time_interval_service_pb2.GetTimeIntervalRequest(id="weekend"))
    assert by_name.time_interval == created
    listed = await stub.ListTimeIntervals(time_interval_service_pb2.ListTimeIntervalsRequest())
    assert list(listed.time_intervals) == [created]

    updated = (
        await stub.UpdateTimeInterval(
            time_interval_service_pb2.UpdateTimeIntervalRequest(
                id="weekend", time_interval=interval("weekend-nights", WEEKEND, NIGHTS)
            )
        )
    ).time_interval
    assert (updated.id, updated.name) == (created.id, "weekend-nights")
    # integers in the document come back as Alertmanager marshals them: text
    assert [dict(s) for s in updated.time_intervals][1]["days_of_month"] == ["1", "-3:-1"]
    assert [i.name for i in await store.time_intervals.all()] == ["weekend-nights"]

    await stub.DeleteTimeInterval(time_interval_service_pb2.DeleteTimeIntervalRequest(id=created.id))
    assert await store.time_intervals.all() == []
    assert listener.reloads == 3
    with pytest.raises(aio.AioRpcError) as info:
        await stub.GetTimeInterval(time_interval_service_pb2.GetTimeIntervalRequest(id=created.id))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_bad_input_names_every_field_and_stores_nothing(env: Env) -> None:
    channel, store, _ = env
    stub = time_interval_service_pb2_grpc.TimeIntervalServiceStub(channel)
    bad = interval(
        "",
        {"weekdays": ["friday:monday"], "times": [{"start_time": "10:00", "end_time": "09:00"}]},
        {"days_of_month": ["0"], "location": "Atlantis/Capital", "month": ["may"]},
    )
    with pytest.raises(aio.AioRpcError) as info:
        await stub.CreateTimeInterval(time_interval_service_pb2.CreateTimeIntervalRequest(time_interval=bad))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [field for field, _ in _violations(info.value)] == [
        "name",
        "time_intervals[0].times[0].end_time",
        "time_intervals[0].weekdays[0]",
        "time_intervals[1].month",
        "time_intervals[1].days_of_month[0]",
        "time_intervals[1].location",
    ]
    with pytest.raises(aio.AioRpcError) as info:
        await stub.CreateTimeInterval(time_interval_service_pb2.CreateTimeIntervalRequest())
    assert _violations(info.value) == [("time_interval", "required")]
    assert await store.time_intervals.all() == []


async def test_routes_name_time_intervals_that_exist_and_not_on_the_root(env: Env) -> None:
    channel, store, _ = env
    routing = routing_service_pb2_grpc.RoutingServiceStub(channel)
    await store.time_intervals.create(parse_time_interval("weekend", [WEEKEND]), NOW)

    with pytest.raises(aio.AioRpcError) as info:
        await routing.UpdateRouting(
            routing_service_pb2.UpdateRoutingRequest(
                route=tree(mute_time_intervals=["weekend", "holidays"], active_time_intervals=["office"])
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(info.value) == [
        ("routes[0].mute_time_intervals[1]", "undefined time interval 'holidays' used in route"),
        ("routes[0].active_time_intervals[0]", "undefined time interval 'office' used in route"),
    ]
    root = routing_service_pb2.Route(receiver="ops", mute_time_intervals=["weekend"])
    with pytest.raises(aio.AioRpcError) as info:
        await routing.UpdateRouting(routing_service_pb2.UpdateRoutingRequest(route=root))
    assert _violations(info.value) == [
        ("mute_time_intervals", "root route must not have any mute time intervals")
    ]
    assert await store.routing.get() is None

    await routing.UpdateRouting(
        routing_service_pb2.UpdateRoutingRequest(
            route=tree(mute_time_intervals=["weekend"], active_time_intervals=["weekend"])
        )
    )
    got = (await routing.GetRouting(routing_service_pb2.GetRoutingRequest())).route
    assert list(got.routes[0].mute_time_intervals) == ["weekend"]
    assert list(got.routes[0].active_time_intervals) == ["weekend"]
    assert list(got.problems) == []


async def test_one_in_use_is_not_deleted_nor_renamed_and_names_its_routes(env: Env) -> None:
    channel, store, _ = env
    stub = time_interval_service_pb2_grpc.TimeIntervalServiceStub(channel)
    routing = routing_service_pb2_grpc.RoutingServiceStub(channel)
    await store.time_intervals.create(parse_time_interval("weekend", [WEEKEND]), NOW)
    await routing.UpdateRouting(
        routing_service_pb2.UpdateRoutingRequest(route=tree(active_time_intervals=["weekend"]))
    )

    with pytest.raises(aio.AioRpcError) as info:
        await stub.DeleteTimeInterval(time_interval_service_pb2.DeleteTimeIntervalRequest(id="weekend"))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "time interval 'weekend' is in use" in (info.value.details() or "")
    assert _preconditions(info.value) == [
        (
            "route",
            "routing.routes[0].active_time_intervals[0]",
            'route {team="db"} (routes[0]) is active in it',
        )
    ]
    with pytest.raises(aio.AioRpcError) as info:
        await stub.UpdateTimeInterval(
            time_interval_service_pb2.UpdateTimeIntervalRequest(
                id="weekend", time_interval=interval("renamed")
            )
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [i.name for i in await store.time_intervals.all()] == ["weekend"]


async def test_one_a_file_owns_is_read_only_here(env: Env) -> None:
    channel, store, listener = env
    stub = time_interval_service_pb2_grpc.TimeIntervalServiceStub(channel)
    await store.time_intervals.replace_all(
        "/etc/alertmanager/alertmanager.yml", [parse_time_interval("weekend", [WEEKEND])], NOW
    )
    got = (
        await stub.GetTimeInterval(time_interval_service_pb2.GetTimeIntervalRequest(id="weekend"))
    ).time_interval
    assert got.source == "/etc/alertmanager/alertmanager.yml"

    for call in (
        stub.UpdateTimeInterval(
            time_interval_service_pb2.UpdateTimeIntervalRequest(
                id="weekend", time_interval=interval("weekend")
            )
        ),
        stub.DeleteTimeInterval(time_interval_service_pb2.DeleteTimeIntervalRequest(id="weekend")),
    ):
        with pytest.raises(aio.AioRpcError) as info:
            await call
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "owned by the configuration file /etc/alertmanager/alertmanager.yml" in (
            info.value.details() or ""
        )
    assert (await store.time_intervals.get_by_name("weekend")).specs == parse_time_interval(
        "w", [WEEKEND]
    ).specs
    assert listener.reloads == 0
    # a name the file has is taken for the API too
    with pytest.raises(aio.AioRpcError) as info:
        await stub.CreateTimeInterval(
            time_interval_service_pb2.CreateTimeIntervalRequest(time_interval=interval("weekend"))
        )
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_a_route_naming_an_interval_its_file_dropped_is_a_routing_problem(env: Env) -> None:
    channel, store, _ = env
    routing = routing_service_pb2_grpc.RoutingServiceStub(channel)
    path = "/etc/alertmanager/alertmanager.yml"
    await store.time_intervals.replace_all(path, [parse_time_interval("weekend", [WEEKEND])], NOW)
    await routing.UpdateRouting(
        routing_service_pb2.UpdateRoutingRequest(route=tree(mute_time_intervals=["weekend"]))
    )
    await store.time_intervals.replace_all(path, [], NOW)

    got = (await routing.GetRouting(routing_service_pb2.GetRoutingRequest())).route
    assert [(p.field, p.description) for p in got.problems] == [
        ("routes[0].mute_time_intervals[0]", "undefined time interval 'weekend' used in route")
    ]
