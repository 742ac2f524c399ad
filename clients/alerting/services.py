"""The services of the alerting.v1 API, read from the generated descriptors.

The one list that the server (health, reflection), the gateway (routes), the clients (retry
configuration) and the tests enumerate, so that a new service file is added in one place.
"""

from __future__ import annotations

from google.protobuf.descriptor import FileDescriptor, ServiceDescriptor

from alerting.v1 import (
    ack_service_pb2,
    alert_service_pb2,
    channel_service_pb2,
    cluster_service_pb2,
    config_service_pb2,
    escalation_policy_service_pb2,
    metrics_service_pb2,
    routing_service_pb2,
    rule_service_pb2,
    schedule_service_pb2,
    silence_service_pb2,
    time_interval_service_pb2,
    user_service_pb2,
)

FILES: tuple[FileDescriptor, ...] = tuple(
    module.DESCRIPTOR
    for module in (
        ack_service_pb2,
        alert_service_pb2,
        channel_service_pb2,
        cluster_service_pb2,
        config_service_pb2,
        escalation_policy_service_pb2,
        metrics_service_pb2,
        routing_service_pb2,
        rule_service_pb2,
        schedule_service_pb2,
        silence_service_pb2,
        time_interval_service_pb2,
        user_service_pb2,
    )
)
SERVICES: tuple[ServiceDescriptor, ...] = tuple(
    service for file in FILES for service in file.services_by_name.values()
)
SERVICE_NAMES: tuple[str, ...] = tuple(service.full_name for service in SERVICES)
