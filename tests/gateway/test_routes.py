from __future__ import annotations

import pytest
from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped]
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor

from gateway.routes import default_files, discover_routes


def file_with(bindings: dict[str, http_pb2.HttpRule]) -> FileDescriptor:
    """A one-service proto file, built in its own pool, whose methods carry `bindings`."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="things.proto", package="things.v1", syntax="proto3", dependency=["google/api/annotations.proto"]
    )
    message = proto.message_type.add(name="Thing")
    message.field.add(name="name", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING)
    service = proto.service.add(name="ThingService")
    for name, rule in bindings.items():
        method = service.method.add(name=name, input_type=".things.v1.Thing", output_type=".things.v1.Thing")
        method.options.Extensions[annotations_pb2.http].CopyFrom(rule)
    pool = descriptor_pool.DescriptorPool()
    for dependency in (descriptor_pb2, http_pb2, annotations_pb2):
        pool.AddSerializedFile(dependency.DESCRIPTOR.serialized_pb)
    return pool.AddSerializedFile(proto.SerializeToString())


def test_templates_custom_verbs_and_additional_bindings() -> None:
    file = file_with(
        {
            "Get": http_pb2.HttpRule(get="/things/{name=**}"),
            "List": http_pb2.HttpRule(
                get="/things", additional_bindings=[http_pb2.HttpRule(get="/v2/things")]
            ),
            "Touch": http_pb2.HttpRule(post="/things/{name}:touch", body="*"),
            "Watch": http_pb2.HttpRule(get="/things/watch"),
        }
    )

    routes = discover_routes([file])

    assert [(r.http_method, r.path, r.method.name) for r in routes] == [
        ("GET", "/things", "List"),
        ("GET", "/things/watch", "Watch"),
        ("GET", "/v2/things", "List"),
        ("GET", "/things/{name:path}", "Get"),
        ("POST", "/things/{name}:touch", "Touch"),
    ]
    touch = routes[-1]
    assert (touch.path_params, touch.body, touch.grpc_path) == (
        ("name",),
        "*",
        "/things.v1.ThingService/Touch",
    )


def test_unknown_path_variable_is_refused() -> None:
    file = file_with({"Get": http_pb2.HttpRule(get="/things/{id}")})

    with pytest.raises(ValueError, match="path variable 'id' is not a request field"):
        discover_routes([file])


def test_every_annotated_rpc_of_the_api_is_a_route() -> None:
    routes = discover_routes(default_files())

    methods = {m.full_name for f in default_files() for s in f.services_by_name.values() for m in s.methods}
    assert {r.name for r in routes} == methods
    assert len(routes) == len(methods)
    assert "alerting.v1.AlertService.WatchAlerts" in methods
    assert [r.path for r in routes].index("/alerts/watch") < [r.path for r in routes].index(
        "/alerts/{fingerprint}"
    )
