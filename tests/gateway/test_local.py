"""LocalServer answers as a channel to the same server would: statuses, metadata, interceptors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from grpc import aio

from alerting.v1 import silence_service_pb2
from gateway.local import LocalServer

GET = "/alerting.v1.SilenceService/GetSilence"
Request = silence_service_pb2.GetSilenceRequest
Response = silence_service_pb2.Silence
Behaviour = Callable[[Any, Any], Awaitable[Any]]


def serving(behaviour: Behaviour, interceptors: tuple[Any, ...] = ()) -> LocalServer:
    local = LocalServer(interceptors)
    handler = grpc.unary_unary_rpc_method_handler(
        behaviour, request_deserializer=Request.FromString, response_serializer=Response.SerializeToString
    )
    local.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("alerting.v1.SilenceService", {"GetSilence": handler})]
    )
    return local


async def failure(local: LocalServer, **kwargs: Any) -> aio.AioRpcError:
    with pytest.raises(aio.AioRpcError) as caught:
        await local.unary(GET, Request(id="x"), Response, **kwargs)
    return caught.value


async def test_the_answer_is_a_copy_and_so_is_the_request() -> None:
    seen: list[Any] = []
    answer = Response(id="s1", comment="c")

    async def get(request: Any, context: Any) -> Any:
        seen.append(request)
        return answer

    request = Request(id="s1")
    response = await serving(get).unary(GET, request, Response)
    assert response == answer
    assert response is not answer
    assert seen == [request]
    assert seen[0] is not request


async def test_abort_reaches_the_caller_with_its_trailing_metadata() -> None:
    async def get(request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such silence", (("k-bin", b"\x01"),))

    error = await failure(serving(get))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "no such silence"
    trailing: list[Any] = list(error.trailing_metadata() or ())
    assert trailing == [("k-bin", b"\x01")]


async def test_a_code_set_without_abort_ends_the_call_with_it() -> None:
    async def get(request: Any, context: Any) -> Any:
        context.set_code(grpc.StatusCode.FAILED_PRECONDITION)
        context.set_details("not now")
        return Response()

    error = await failure(serving(get))
    assert (error.code(), error.details()) == (grpc.StatusCode.FAILED_PRECONDITION, "not now")


async def test_an_escaping_exception_is_unknown_without_its_text() -> None:
    async def get(request: Any, context: Any) -> Any:
        raise RuntimeError("secret detail")

    error = await failure(serving(get))
    assert error.code() == grpc.StatusCode.UNKNOWN
    assert "secret" not in (error.details() or "")


async def test_the_timeout_is_a_deadline() -> None:
    async def get(request: Any, context: Any) -> Any:
        await asyncio.sleep(10)

    error = await failure(serving(get), timeout_s=0.01)
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_an_unknown_method_is_unimplemented() -> None:
    async def get(request: Any, context: Any) -> Any:
        return Response()

    with pytest.raises(aio.AioRpcError) as caught:
        await serving(get).unary("/alerting.v1.SilenceService/Nope", Request(), Response)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


class _Recording:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        self.log.append(f"{self.name} {details.method} {dict(details.invocation_metadata)}")
        return await continuation(details)


async def test_interceptors_run_first_to_last_and_see_the_metadata() -> None:
    log: list[str] = []

    async def get(request: Any, context: Any) -> Any:
        log.append(f"handler {dict(context.invocation_metadata())}")
        return Response()

    local = serving(get, (_Recording("outer", log), _Recording("inner", log)))
    await local.unary(GET, Request(), Response, metadata=(("authorization", "Bearer t"),))
    token = "{'authorization': 'Bearer t'}"
    assert log == [f"outer {GET} {token}", f"inner {GET} {token}", f"handler {token}"]
