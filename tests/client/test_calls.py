"""What every call carries and how the channel treats it: token, deadline, retry, pagination."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf.message import Message

from alerting.client import (
    AlertingClient,
    AsyncAlertingClient,
    DeadlineExceededError,
    RetryPolicy,
    UnavailableError,
)
from alerting.v1 import rule_service_pb2 as rule_pb

from .fakes import Context, FakeAlertingServer, UnaryHandler

FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)


async def test_bearer_token_reaches_the_server_on_every_call(fake: FakeAlertingServer) -> None:
    with AlertingClient(fake.target, token="s3cret") as client:
        await asyncio.to_thread(client.get_rule, "r1")
        await asyncio.to_thread(client.list_alerts)
    async with AsyncAlertingClient(fake.target, token="s3cret", metadata=[("x-request-id", "42")]) as aclient:
        await aclient.get_alert("fp1")
    assert [call.metadata["authorization"] for call in fake.calls] == ["Bearer s3cret"] * 3
    assert fake.calls[-1].metadata["x-request-id"] == "42"


async def test_no_token_sends_no_authorization(fake: FakeAlertingServer) -> None:
    async with AsyncAlertingClient(fake.target) as client:
        await client.get_rule("r1")
    assert "authorization" not in fake.calls[0].metadata


def _remembering_deadline(seen: list[float | None]) -> UnaryHandler:
    async def handler(request: Message, context: Context) -> Message:
        seen.append(context.time_remaining())
        return rule_pb.GetRuleResponse()

    return handler


async def test_client_default_deadline_and_per_call_override(fake: FakeAlertingServer) -> None:
    seen: list[float | None] = []
    fake.unary["GetRule"] = _remembering_deadline(seen)
    async with AsyncAlertingClient(fake.target, timeout=30.0) as client:
        await client.get_rule("r1")
        await client.get_rule("r1", timeout=2.0)
        await client.get_rule("r1", timeout=None)
    default, override, unbounded = seen
    # The server sees the deadline rounded by the wire encoding, hence the slack.
    assert default is not None
    assert 25.0 < default <= 31.0
    assert override is not None
    assert 0 < override <= 2.5
    # No deadline reads as None or as a remaining time of years.
    assert unbounded is None or unbounded > 3600


async def _never_answer(request: Message, context: Context) -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def test_sync_deadline_expires(fake: FakeAlertingServer) -> None:
    fake.unary["GetRule"] = _never_answer
    with AlertingClient(fake.target, timeout=0.05) as client, pytest.raises(DeadlineExceededError):
        await asyncio.to_thread(client.get_rule, "r1")


async def test_async_per_call_deadline_expires(fake: FakeAlertingServer) -> None:
    fake.unary["GetRule"] = _never_answer
    async with AsyncAlertingClient(fake.target, timeout=None) as client:
        with pytest.raises(DeadlineExceededError) as raised:
            await client.get_rule("r1", timeout=0.05)
    assert raised.value.code == grpc.StatusCode.DEADLINE_EXCEEDED


def _unavailable_twice(attempts: list[int]) -> UnaryHandler:
    async def handler(request: Message, context: Context) -> Message:
        attempts.append(1)
        if len(attempts) <= 2:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        return rule_pb.GetRuleResponse(rule=rule_pb.Rule(id="r1", name="ok"))

    return handler


async def test_sync_channel_retries_unavailable(fake: FakeAlertingServer) -> None:
    attempts: list[int] = []
    fake.unary["GetRule"] = _unavailable_twice(attempts)
    with AlertingClient(fake.target, retry=FAST_RETRY) as client:
        rule = await asyncio.to_thread(client.get_rule, "r1")
    assert rule.name == "ok"
    assert len(attempts) == 3


async def test_async_channel_retries_unavailable(fake: FakeAlertingServer) -> None:
    attempts: list[int] = []
    fake.unary["GetRule"] = _unavailable_twice(attempts)
    async with AsyncAlertingClient(fake.target, retry=FAST_RETRY) as client:
        rule = await client.get_rule("r1")
    assert rule.name == "ok"
    assert len(attempts) == 3


async def test_retries_give_up_after_max_attempts(fake: FakeAlertingServer) -> None:
    attempts: list[int] = []
    fake.unary["GetRule"] = _unavailable_twice(attempts)
    async with AsyncAlertingClient(
        fake.target, retry=RetryPolicy(max_attempts=2, initial_backoff=0.01)
    ) as client:
        with pytest.raises(UnavailableError, match="warming up"):
            await client.get_rule("r1")
    assert len(attempts) == 2


async def test_without_retry_policy_the_first_failure_surfaces(fake: FakeAlertingServer) -> None:
    attempts: list[int] = []
    fake.unary["GetRule"] = _unavailable_twice(attempts)
    async with AsyncAlertingClient(fake.target, retry=None) as client:
        with pytest.raises(UnavailableError):
            await client.get_rule("r1")
    assert len(attempts) == 1


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=1)
    with pytest.raises(ValueError, match="positive"):
        RetryPolicy(initial_backoff=0)


def _two_pages(pages_asked: list[str]) -> UnaryHandler:
    async def handler(request: Message, context: Context) -> Message:
        assert isinstance(request, rule_pb.ListRulesRequest)
        pages_asked.append(request.page_token)
        if request.page_token == "":
            return rule_pb.ListRulesResponse(
                rules=[rule_pb.Rule(id="r1"), rule_pb.Rule(id="r2")], next_page_token="p2"
            )
        return rule_pb.ListRulesResponse(rules=[rule_pb.Rule(id="r3")])

    return handler


async def test_sync_iter_follows_next_page_token(fake: FakeAlertingServer) -> None:
    pages_asked: list[str] = []
    fake.unary["ListRules"] = _two_pages(pages_asked)
    with AlertingClient(fake.target) as client:
        rules = await asyncio.to_thread(lambda: list(client.iter_rules(page_size=2)))
    assert [rule.id for rule in rules] == ["r1", "r2", "r3"]
    assert pages_asked == ["", "p2"]
    assert {call.request.page_size for call in fake.called("ListRules")} == {2}  # type: ignore[attr-defined]


async def test_async_iter_follows_next_page_token(fake: FakeAlertingServer) -> None:
    pages_asked: list[str] = []
    fake.unary["ListRules"] = _two_pages(pages_asked)
    async with AsyncAlertingClient(fake.target) as client:
        rules = [rule async for rule in client.iter_rules()]
    assert [rule.id for rule in rules] == ["r1", "r2", "r3"]
    assert pages_asked == ["", "p2"]
