"""gRPC failures surface as the client's exception hierarchy, with BadRequest field violations."""

from __future__ import annotations

import asyncio

import grpc
import pytest

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

from .fakes import FakeAlertingServer, aborting, rejecting

EXPECTED_VIOLATIONS = [("rule.query", "unexpected '>'"), ("rule.duration", "not a duration")]
reject_rule = rejecting("invalid rule", EXPECTED_VIOLATIONS)


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
    fake.unary["GetRule"] = aborting(code, "rule r9 not found")
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
