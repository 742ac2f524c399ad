"""gRPC failures surface as the client's exception hierarchy, with BadRequest field violations."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from alerting.client import (
    AlertingClient,
    AlertingError,
    AlreadyExistsError,
    AsyncAlertingClient,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
)
from alerting.client.errors import from_rpc_error
from alerting.v1 import rule_service_pb2 as rule_pb

from .fakes import Context, FakeAlertingServer, UnaryHandler


async def reject_rule(request: Message, context: Context) -> Message:
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field="rule.query", description="unexpected '>'"),
            error_details_pb2.BadRequest.FieldViolation(field="rule.duration", description="not a duration"),
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(bad_request)
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message="invalid rule", details=[detail])
    # grpc-stubs do not declare abort_with_status on the aio context, which grpc.aio has.
    await context.abort_with_status(rpc_status.to_status(status))  # type: ignore[attr-defined]
    raise AssertionError("abort_with_status returned")


EXPECTED_VIOLATIONS = [("rule.query", "unexpected '>'"), ("rule.duration", "not a duration")]


async def test_sync_invalid_argument_carries_field_violations(fake: FakeAlertingServer) -> None:
    fake.unary["CreateRule"] = reject_rule
    with AlertingClient(fake.target) as client, pytest.raises(InvalidArgumentError) as raised:
        await asyncio.to_thread(client.create_rule, rule_pb.Rule(name="r", query="up >"))
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.message == "invalid rule"
    assert raised.value.field_violations == EXPECTED_VIOLATIONS
    assert isinstance(raised.value.__cause__, grpc.RpcError)


async def test_async_invalid_argument_carries_field_violations(fake: FakeAlertingServer) -> None:
    fake.unary["CreateRule"] = reject_rule
    async with AsyncAlertingClient(fake.target) as client:
        with pytest.raises(InvalidArgumentError) as raised:
            await client.create_rule(rule_pb.Rule(name="r", query="up >"))
    assert raised.value.message == "invalid rule"
    assert raised.value.field_violations == EXPECTED_VIOLATIONS


def _aborting(code: grpc.StatusCode, message: str) -> UnaryHandler:
    async def handler(request: Message, context: Context) -> Message:
        await context.abort(code, message)

    return handler


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        (grpc.StatusCode.NOT_FOUND, NotFoundError),
        (grpc.StatusCode.ALREADY_EXISTS, AlreadyExistsError),
        (grpc.StatusCode.INTERNAL, InternalError),
        (grpc.StatusCode.DATA_LOSS, InternalError),
    ],
)
async def test_plain_status_maps_to_its_subclass_without_violations(
    fake: FakeAlertingServer, code: grpc.StatusCode, error_type: type[AlertingError]
) -> None:
    fake.unary["GetRule"] = _aborting(code, "rule r9 not found")
    async with AsyncAlertingClient(fake.target) as client:
        with pytest.raises(error_type) as raised:
            await client.get_rule("r9")
    assert raised.value.code == code
    assert raised.value.message == "rule r9 not found"
    assert raised.value.field_violations == []


def test_str_lists_code_message_and_violations() -> None:
    error = InvalidArgumentError(grpc.StatusCode.INVALID_ARGUMENT, "invalid rule", EXPECTED_VIOLATIONS)
    assert str(error) == (
        "INVALID_ARGUMENT: invalid rule\n  rule.query: unexpected '>'\n  rule.duration: not a duration"
    )


def test_a_bare_rpc_error_without_metadata_still_maps() -> None:
    class Bare(grpc.RpcError):
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.UNAUTHENTICATED

        def details(self) -> str:
            return "missing token"

    error = from_rpc_error(Bare())
    assert type(error).__name__ == "UnauthenticatedError"
    assert (error.message, error.field_violations) == ("missing token", [])
