"""Unary calls into servicers of this process, for a gateway served beside its gRPC server.

A LocalServer stands beside the grpc.aio server: every service is added to both (the generated
add_*_to_server functions take it as a server), and it applies the same server interceptors in the
same order. A call skips the transport (HTTP/2 framing, the C core's threads, the socket) but not
the call's semantics: the request and the response go through the handler's own serializers, so
neither side shares a message object with the other; the interceptors and the handler see the
caller's metadata; and a status the handler aborts with, sets, or an exception it lets escape,
reaches the caller as the AioRpcError the channel would raise.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import grpc
from google.protobuf.message import Message
from grpc import aio

Metadata = tuple[tuple[str, str | bytes], ...]
Interceptor = Any  # grpc.aio.ServerInterceptor (generic only in the stubs)
M = TypeVar("M", bound=Message)


class _CallDetails(grpc.HandlerCallDetails):
    def __init__(self, method: str, metadata: Metadata) -> None:
        self.method = method
        self.invocation_metadata = metadata


class _Context:
    """The part of grpc.aio.ServicerContext a unary handler and an interceptor may use."""

    def __init__(self, metadata: Metadata, deadline: float | None) -> None:
        self._metadata = metadata
        self._deadline = deadline
        self.code: grpc.StatusCode | None = None
        self.details = ""
        self.trailing_metadata: Metadata = ()

    def invocation_metadata(self) -> Metadata:
        return self._metadata

    def peer(self) -> str:
        return "local"

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else max(self._deadline - time.monotonic(), 0.0)

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = code

    def set_details(self, details: str) -> None:
        self.details = details

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        self.trailing_metadata = tuple(metadata)

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Metadata = ()) -> None:
        if code == grpc.StatusCode.OK:
            code = grpc.StatusCode.UNKNOWN  # As grpc.aio: aborting with OK is an error.
        self.code, self.details = code, details
        if trailing_metadata:
            self.trailing_metadata = tuple(trailing_metadata)
        raise aio.AbortError()

    async def abort_with_status(self, status: grpc.Status) -> None:
        await self.abort(status.code, status.details, status.trailing_metadata)


def _error(code: grpc.StatusCode, details: str, trailing: Metadata = ()) -> aio.AioRpcError:
    return aio.AioRpcError(code, aio.Metadata(), aio.Metadata(*trailing), details, None)


class LocalServer:
    def __init__(self, interceptors: Sequence[Interceptor] = ()) -> None:
        self._interceptors = tuple(interceptors)
        self._generic: list[grpc.GenericRpcHandler[Any, Any]] = []

    # --- what add_*_to_server calls ---------------------------------------------------------

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler[Any, Any]]) -> None:
        self._generic.extend(handlers)

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        """The generated code registers the same handlers generically too; those are the ones used."""

    # --- calls ------------------------------------------------------------------------------

    async def unary(
        self,
        method: str,
        request: Message,
        response_class: type[M],
        *,
        metadata: Metadata = (),
        timeout_s: float | None = None,
    ) -> M:
        """The response of `method` to `request`, or the AioRpcError a channel would raise."""
        details = _CallDetails(method, metadata)
        context = _Context(metadata, None if timeout_s is None else time.monotonic() + timeout_s)
        deadline = asyncio.timeout(timeout_s)
        try:
            async with deadline:
                handler = await self._handler(details, 0)
                if handler is None or handler.unary_unary is None:
                    raise _error(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
                behaviour = cast("Callable[[Any, _Context], Awaitable[Any]]", handler.unary_unary)
                deserialize = handler.request_deserializer
                decoded = deserialize(request.SerializeToString()) if deserialize is not None else request
                response = await behaviour(decoded, context)
        except aio.AioRpcError:
            raise
        except aio.AbortError:
            raise _error(
                context.code or grpc.StatusCode.UNKNOWN, context.details, context.trailing_metadata
            ) from None
        except Exception as e:
            if isinstance(e, TimeoutError) and deadline.expired():
                raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded") from None
            # What the server answers when a handler raises: UNKNOWN, without the exception's text.
            raise _error(grpc.StatusCode.UNKNOWN, "Unexpected error in RPC handling") from None
        if context.code is not None and context.code != grpc.StatusCode.OK:
            raise _error(context.code, context.details, context.trailing_metadata)
        serialize = handler.response_serializer
        raw = serialize(response) if serialize is not None else response.SerializeToString()
        return response_class.FromString(raw)

    async def _handler(self, details: _CallDetails, index: int) -> Any:
        # The first interceptor is the outermost, as the server applies them.
        if index == len(self._interceptors):
            for generic in self._generic:
                handler = generic.service(details)
                if handler is not None:
                    return handler
            return None

        async def continuation(d: grpc.HandlerCallDetails) -> Any:
            assert isinstance(d, _CallDetails)
            return await self._handler(d, index + 1)

        return await self._interceptors[index].intercept_service(continuation, details)
