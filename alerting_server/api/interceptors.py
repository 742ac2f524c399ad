"""Server interceptors: error mapping and bearer-token authentication.

Both wrap the handler's behaviour, so that domain errors raised anywhere below a servicer (or by
the auth check itself) leave as one well-formed gRPC status.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
from grpc import aio

from alerting_server import errors
from alerting_server.api.errors import internal_status, to_grpc_status
from alerting_server.auth import Authenticator, caller

log = logging.getLogger(__name__)

Behaviour = Callable[[Any, Any], Any]
Guard = Callable[[aio.ServicerContext[Any, Any]], None]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"

# The stubs make these generic; at run time they are not.
if TYPE_CHECKING:
    _Interceptor = aio.ServerInterceptor[Any, Any]
else:
    _Interceptor = aio.ServerInterceptor


async def _abort(context: aio.ServicerContext[Any, Any], exc: BaseException, method: str) -> None:
    # abort_with_status exists on grpc.aio contexts; the type stubs predate it.
    abort: Callable[[grpc.Status], Awaitable[None]] = getattr(context, "abort_with_status")  # noqa: B009
    if isinstance(exc, NotImplementedError):
        # The generated base servicer's answer for an RPC whose stage is not built yet.
        exc = errors.Unimplemented(f"{method} is not implemented yet")
    if isinstance(exc, errors.AlertingError):
        await abort(to_grpc_status(exc))
    log.error("unexpected error in %s", method, exc_info=exc)
    await abort(internal_status())


def _wrap(handler: Handler, method: str, guard: Guard | None) -> Handler:
    if handler.unary_unary is not None:
        inner_uu: Behaviour = handler.unary_unary

        async def unary_unary(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            try:
                if guard is not None:
                    guard(context)
                return await inner_uu(request, context)
            except aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, exc, method)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        inner_us: Behaviour = handler.unary_stream

        async def unary_stream(request: Any, context: aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            try:
                if guard is not None:
                    guard(context)
                async for item in inner_us(request, context):
                    yield item
            except aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, exc, method)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler


class ErrorInterceptor(_Interceptor):
    """Maps AlertingError to its status (BadRequest details included), and anything else to INTERNAL."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith("/alerting."):
            return handler
        return _wrap(handler, method, None)


class AuthInterceptor(_Interceptor):
    """Checks the bearer token and its scope for every alerting.v1 call (health and reflection stay open)."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._auth = authenticator

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith("/alerting."):
            return handler

        def guard(context: aio.ServicerContext[Any, Any]) -> None:
            metadata = dict(context.invocation_metadata() or ())
            header = metadata.get("authorization", "")
            caller.set(self._auth.check(header if isinstance(header, str) else header.decode(), method))

        return _wrap(handler, method, guard)
