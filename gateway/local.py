"""Calls into servicers of this process, for a gateway served beside its gRPC server.

A LocalServer stands beside the grpc.aio server: every service is added to both (the generated
add_*_to_server functions take it as a server), and it applies the same server interceptors in the
same order. A call skips the transport (HTTP/2 framing, the C core's threads, the socket) but not
the call's semantics: the request and the response go through the handler's own serializers, so
neither side shares a message object with the other; the interceptors and the handler see the
caller's metadata; and a status the handler aborts with, sets, or an exception it lets escape,
reaches the caller as the AioRpcError the channel would raise.

A server-streaming call (stream()) gives each message as its serialized bytes, as a channel's call
does when it has no response deserializer: the caller decodes it, or looks up what it made of those
bytes before (the SSE feed encodes each event once for all its subscribers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
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


class _StreamContext(_Context):
    """A streaming handler's context: it may also send its initial metadata, and be aborted from
    outside the handler (by another task), which ends the stream at its next read."""

    def __init__(self, metadata: Metadata) -> None:
        super().__init__(metadata, None)
        self.started = asyncio.Event()

    async def send_initial_metadata(self, metadata: Metadata) -> None:
        self.started.set()


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

    def stream(self, method: str, request: Message, *, metadata: Metadata = ()) -> LocalStream:
        """A server-streaming call of `method`: read() gives its messages serialized, then EOF."""
        return LocalStream(self, method, request, metadata)

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


class LocalStream:
    """The part of grpc.aio.UnaryStreamCall the SSE feed uses: wait_for_connection(), read(), cancel()."""

    def __init__(self, server: LocalServer, method: str, request: Message, metadata: Metadata) -> None:
        self._server = server
        self._method = method
        self._request = request
        self._context = _StreamContext(metadata)
        self._messages: AsyncIterator[Any] | None = None
        self._serialize: Callable[[Any], bytes] = _serialized
        # The first read, started by wait_for_connection() and taken by the next read().
        self._first: asyncio.Future[bytes | object] | None = None
        self._done = False

    async def wait_for_connection(self) -> None:
        """Returns once the handler sent its initial metadata or its first message, or ended;
        raises its error if it failed first."""
        self._first = asyncio.ensure_future(self._read())
        started = asyncio.ensure_future(self._context.started.wait())
        try:
            await asyncio.wait({self._first, started}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            started.cancel()
        if self._first.done():
            self._first.result()

    async def read(self) -> bytes | object:
        """The next message's bytes, or grpc.aio.EOF after the last one."""
        first, self._first = self._first, None
        if first is not None:
            return await first
        return await self._read()

    def cancel(self) -> bool:
        if self._done:
            return False
        self._done = True
        if self._first is not None:
            self._first.cancel()
        messages = self._messages
        running = getattr(messages, "ag_running", False)
        if messages is not None and hasattr(messages, "aclose") and not running:
            # Its finally clauses run (a watcher unsubscribes) as they would on the server.
            closing = asyncio.ensure_future(messages.aclose())
            closing.add_done_callback(_ignore_result)
        return True

    async def _read(self) -> bytes | object:
        if self._done:
            return _EOF
        context = self._context
        if context.code is not None and context.code != grpc.StatusCode.OK:
            # Aborted from outside the handler while it waited on its last message to be taken.
            self.cancel()
            raise _error(context.code, context.details, context.trailing_metadata)
        try:
            if self._messages is None:
                self._messages = await self._start()
            message = await anext(self._messages)
        except StopAsyncIteration:
            self._done = True
            if context.code is not None and context.code != grpc.StatusCode.OK:
                raise _error(context.code, context.details, context.trailing_metadata) from None
            return _EOF
        except aio.AioRpcError:
            self._done = True
            raise
        except aio.AbortError:
            self._done = True
            raise _error(
                context.code or grpc.StatusCode.UNKNOWN, context.details, context.trailing_metadata
            ) from None
        except Exception:
            self._done = True
            raise _error(grpc.StatusCode.UNKNOWN, "Unexpected error in RPC handling") from None
        if context.code is not None and context.code != grpc.StatusCode.OK:
            # Aborted from outside the handler while it made this message: the stream ends here.
            self.cancel()
            raise _error(context.code, context.details, context.trailing_metadata)
        return self._serialize(message)

    async def _start(self) -> AsyncIterator[Any]:
        details = _CallDetails(self._method, self._context.invocation_metadata())
        handler = await self._server._handler(details, 0)
        if handler is None or handler.unary_stream is None:
            raise _error(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
        if handler.response_serializer is not None:
            self._serialize = handler.response_serializer
        deserialize = handler.request_deserializer
        raw = self._request.SerializeToString()
        decoded = deserialize(raw) if deserialize is not None else self._request
        behaviour = cast("Callable[[Any, _StreamContext], AsyncIterator[Any]]", handler.unary_stream)
        return behaviour(decoded, self._context)


_EOF: object = aio.EOF  # type: ignore[attr-defined]  # missing from grpc-stubs


def _serialized(message: Any) -> bytes:
    raw: bytes = message.SerializeToString()
    return raw


def _ignore_result(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
