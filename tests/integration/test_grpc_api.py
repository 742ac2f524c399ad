"""The gRPC API through the typed client, health and reflection, against the real server process."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import duration_pb2, struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from alerting.client import AlertingClient, InvalidArgumentError, NotFoundError
from alerting.services import SERVICE_NAMES
from alerting.v1 import channel_service_pb2, rule_service_pb2
from tests.integration.server import ServerProcess


def test_health_is_serving_for_the_server_and_every_service(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.grpc_target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", *SERVICE_NAMES):
            response = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING, name
        with pytest.raises(grpc.RpcError) as info:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_every_service(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.grpc_target) as channel:
        services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    assert set(SERVICE_NAMES) <= services
    assert "grpc.health.v1.Health" in services


def test_rule_crud_through_the_typed_client(grpc_client: AlertingClient) -> None:
    rule = rule_service_pb2.Rule(
        name="high_cpu_alert",
        query="avg(cpu_usage) > 80",
        duration=duration_pb2.Duration(seconds=300),
        severity="warning",
        annotations={"summary": "CPU is {{ $value }}"},
    )
    created = grpc_client.create_rule(rule)
    assert created.id
    assert created.health == rule_service_pb2.RULE_HEALTH_UNKNOWN
    got = grpc_client.get_rule(created.id)
    # The engine evaluates a new rule at once: what it says of that evaluation may show already.
    got.health = created.health
    for evaluated in ("last_evaluation", "last_error", "last_evaluation_duration"):
        got.ClearField(evaluated)
    assert got == created
    assert [r.id for r in grpc_client.iter_rules()] == [created.id]
    changed = rule_service_pb2.Rule()
    changed.CopyFrom(rule)
    changed.query = "avg(cpu_usage) > 95"
    updated = grpc_client.update_rule(created.id, changed)
    assert updated.query == "avg(cpu_usage) > 95"
    assert updated.created_at == created.created_at
    grpc_client.delete_rule(created.id)
    with pytest.raises(NotFoundError):
        grpc_client.get_rule(created.id)


def test_invalid_argument_carries_bad_request_field_violations(grpc_client: AlertingClient) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        grpc_client.create_rule(rule_service_pb2.Rule(name="", query="sum(", annotations={"a": "{{ end }}"}))
    fields = {field for field, _ in info.value.field_violations}
    assert {"name", "query", "annotations.a"} <= fields
    assert list(grpc_client.iter_rules()) == []


def test_channel_config_is_validated_and_redacted(grpc_client: AlertingClient) -> None:
    config = struct_pb2.Struct()
    config.update({"routing_key": "R0123456789abcdef0123456789abcdef"})
    created = grpc_client.create_channel(
        channel_service_pb2.Channel(
            name="pager", type=channel_service_pb2.CHANNEL_TYPE_PAGERDUTY, config=config
        )
    )
    assert created.config["routing_key"] == "<secret>"
    with pytest.raises(InvalidArgumentError) as info:
        grpc_client.create_channel(channel_service_pb2.Channel(name="x", config=config))
    assert (
        "type",
        "required: one of email, slack, pagerduty, webhook, opsgenie, victorops, pushover",
    ) in info.value.field_violations
