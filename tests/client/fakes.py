"""A fake alerting server for client tests: every alerting.v1 RPC, answered by handlers the test sets.

It is a real grpc.aio server on 127.0.0.1:0; only the servicer behind it is fake. Each call is
recorded with its request and metadata. An RPC without a handler answers its empty response
message (or an empty stream), so a test only writes the behaviour it is about.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import grpc
import grpc.aio
from google.protobuf import any_pb2, message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from alerting.services import SERVICES

Context = grpc.aio.ServicerContext[Message, Message]
UnaryHandler = Callable[[Message, Context], Awaitable[Message]]
StreamHandler = Callable[[Message, Context], AsyncIterator[Message]]


@dataclass
class RecordedCall:
    method: str
    request: Message
    metadata: dict[str, str]


@dataclass
class FakeAlertingServer:
    """Handlers are keyed by the RPC's short name ("GetRule"), which is unique across alerting.v1."""

    unary: dict[str, UnaryHandler] = field(default_factory=dict)
    streams: dict[str, StreamHandler] = field(default_factory=dict)
    calls: list[RecordedCall] = field(default_factory=list)
    target: str = ""

    def respond(self, method: str, response: Message) -> None:
        async def handler(request: Message, context: Context) -> Message:
            return response

        self.unary[method] = handler

    def called(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def handlers(self) -> list[grpc.GenericRpcHandler[Message, Message]]:
        handlers = []
        for service in SERVICES:
            methods = {m.name: self._handler(m) for m in service.methods}
            handlers.append(grpc.method_handlers_generic_handler(service.full_name, methods))
        return handlers

    def _record(self, method: str, request: Message, context: Context) -> None:
        metadata = {key: str(value) for key, value in context.invocation_metadata() or ()}
        self.calls.append(RecordedCall(method, request, metadata))

    def _handler(self, method: MethodDescriptor) -> grpc.RpcMethodHandler[Message, Message]:
        request_type = message_factory.GetMessageClass(method.input_type)
        response_type = message_factory.GetMessageClass(method.output_type)
        name = method.name

        if method.server_streaming:

            async def stream(request: Message, context: Context) -> AsyncIterator[Message]:
                self._record(name, request, context)
                handler = self.streams.get(name)
                if handler is not None:
                    async for response in handler(request, context):
                        yield response

            return grpc.unary_stream_rpc_method_handler(
                stream,
                request_deserializer=request_type.FromString,
                response_serializer=response_type.SerializeToString,
            )

        async def unary(request: Message, context: Context) -> Message:
            self._record(name, request, context)
            handler = self.unary.get(name)
            return response_type() if handler is None else await handler(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary,
            request_deserializer=request_type.FromString,
            response_serializer=response_type.SerializeToString,
        )


async def start(
    fake: FakeAlertingServer, credentials: grpc.ServerCredentials | None = None
) -> grpc.aio.Server:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(fake.handlers())
    if credentials is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    fake.target = f"127.0.0.1:{port}"
    return server


def rejecting(message: str, violations: list[tuple[str, str]]) -> UnaryHandler:
    """A handler that fails with INVALID_ARGUMENT and a google.rpc.BadRequest, as the real API does."""

    async def handler(request: Message, context: Context) -> Message:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations
            ]
        )
        detail = any_pb2.Any()
        detail.Pack(bad_request)
        status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message, details=[detail])
        # grpc-stubs do not declare abort_with_status on the aio context, which grpc.aio has.
        await context.abort_with_status(rpc_status.to_status(status))  # type: ignore[attr-defined]
        raise AssertionError("abort_with_status returned")

    return handler


def aborting(code: grpc.StatusCode, message: str) -> UnaryHandler:
    async def handler(request: Message, context: Context) -> Message:
        await context.abort(code, message)

    return handler
