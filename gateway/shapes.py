"""What a REST response looks like for each RPC, shared by the handlers and the OpenAPI document.

AIP standard methods give the rule: Create answers 201; a response with no fields (Delete, Expire)
answers 204 without a body; a response whose only field is one message (Get, Update, Create,
TestChannel, Acknowledge) answers that resource unwrapped; any other response (List, Import, Write)
is the response object itself. A few RPCs answer a document rather than JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor

from alerting_common.jsonmap import descriptor_of, is_map
from gateway.routes import RpcRoute

# RPCs whose response is one string field served as a document of this media type.
RAW_RESPONSES: dict[str, str] = {
    "alerting.v1.RuleService.ExportRules": "application/yaml",
    "alerting.v1.ConfigService.ExportConfig": "application/yaml",
}


@dataclass(frozen=True)
class ResponseShape:
    status: int
    # The field served on its own: the unwrapped resource, or the raw document.
    field: FieldDescriptor | None
    # None when there is no body (204).
    media_type: str | None


def response_shape(route: RpcRoute) -> ResponseShape:
    fields = descriptor_of(route.response_class()).fields
    raw = RAW_RESPONSES.get(route.name)
    if raw is not None:
        return ResponseShape(200, fields[0], raw)
    if not fields:
        return ResponseShape(204, None, None)
    status = 201 if route.method.name.startswith("Create") else 200
    only = fields[0]
    if len(fields) == 1 and only.message_type is not None and not only.is_repeated and not is_map(only):
        return ResponseShape(status, only, "application/json")
    return ResponseShape(status, None, "application/json")


def raw_request_body(route: RpcRoute) -> FieldDescriptor | None:
    """The string field a `body: "<field>"` binding fills with the raw request body (ImportRules'
    YAML), or None when the body is JSON."""
    if route.body in ("", "*"):
        return None
    field = descriptor_of(route.request_class()).fields_by_name[route.body]
    return field if field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated else None
