"""The gRPC side of the gateway: one channel shared by every route, opened on first use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import grpc
from google.protobuf.message import Message
from starlette.requests import Request

from gateway.local import LocalServer
from gateway.routes import RpcRoute

ChannelOptions = Sequence[tuple[str, str | int]]


class StreamCall(Protocol):
    """A server-streaming call whose read() gives each message serialized (bytes), then EOF."""

    async def wait_for_connection(self) -> None: ...

    async def read(self) -> object: ...

    def cancel(self) -> bool: ...


class Backend:
    """Generic unary and server-streaming calls of routes, with the caller's credentials."""

    def __init__(
        self,
        target: str,
        *,
        channel: grpc.aio.Channel | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        timeout: float | None = 30.0,
        channel_options: ChannelOptions = (),
        local: LocalServer | None = None,
    ) -> None:
        self._target = target
        self._channel = channel
        self._owned = channel is None
        self._credentials = credentials
        self._timeout = timeout
        self._options = list(channel_options)
        # Servicers of this process: unary calls skip the transport (gateway/local.py).
        self._local = local
        # Multi-callables by gRPC method path, made once per channel.
        self._unary: dict[str, grpc.aio.UnaryUnaryMultiCallable[Message, Message]] = {}
        self._streams: dict[str, grpc.aio.UnaryStreamMultiCallable[Message, bytes]] = {}

    @property
    def channel(self) -> grpc.aio.Channel:
        # Opened lazily: an aio channel belongs to the event loop it is created in, and the app
        # object is built before any loop runs.
        if self._channel is None:
            if self._credentials is None:
                self._channel = grpc.aio.insecure_channel(self._target, options=self._options)
            else:
                self._channel = grpc.aio.secure_channel(
                    self._target, self._credentials, options=self._options
                )
        return self._channel

    async def close(self) -> None:
        if self._owned and self._channel is not None:
            await self._channel.close(None)
            self._channel = None
            self._unary.clear()
            self._streams.clear()

    async def unary(self, route: RpcRoute, message: Message, request: Request) -> Message:
        if self._local is not None:
            return await self._local.unary(
                route.grpc_path,
                message,
                route.response_class,
                metadata=tuple(call_metadata(request)),
                timeout_s=self._timeout,
            )
        call = self._unary.get(route.grpc_path)
        if call is None:
            call = self._unary[route.grpc_path] = self.channel.unary_unary(
                route.grpc_path,
                request_serializer=route.request_class.SerializeToString,
                response_deserializer=route.response_class.FromString,
            )
        response: Message = await call(message, timeout=self._timeout, metadata=call_metadata(request))
        return response

    def stream(self, route: RpcRoute, message: Message, request: Request) -> StreamCall:
        """The messages come as their bytes: the caller decodes them, or reuses what it made of the
        same bytes for another caller (gateway/sse.py)."""
        metadata = call_metadata(request)
        if self._local is not None:
            return self._local.stream(route.grpc_path, message, metadata=tuple(metadata))
        call = self._streams.get(route.grpc_path)
        if call is None:
            call = self._streams[route.grpc_path] = self.channel.unary_stream(
                route.grpc_path,
                request_serializer=route.request_class.SerializeToString,
                response_deserializer=None,
            )
        return call(message, metadata=metadata)


def call_metadata(request: Request) -> list[tuple[str, str]]:
    """gRPC metadata carried over from the HTTP request: the bearer token."""
    authorization = request.headers.get("authorization")
    return [("authorization", authorization)] if authorization else []
