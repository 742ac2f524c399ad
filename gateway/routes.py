"""REST routes read from the `google.api.http` annotations of the gRPC service descriptors.

Nothing is hand-listed: every annotated RPC (and each of its additional bindings) is a route. Routes
come back ordered so that, segment by segment, a literal wins over a variable (`/alerts/watch` is
tried before `/alerts/{fingerprint}`), which is the order a first-match router needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped]
from google.protobuf import message_factory
from google.protobuf.descriptor import FileDescriptor, MethodDescriptor
from google.protobuf.message import Message

from alerting.services import FILES

_VARIABLE = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?:=([^}]*))?\}")
_PATTERNS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class RpcRoute:
    """One HTTP binding of one RPC."""

    method: MethodDescriptor
    http_method: str
    # Path template in Starlette/OpenAPI form: "/rules/{id}".
    path: str
    path_params: tuple[str, ...]
    # "" (no body), "*" (the whole request) or the name of the request field the body fills.
    body: str
    request_class: type[Message]
    response_class: type[Message]

    @property
    def name(self) -> str:
        """The RPC's full name, "alerting.v1.RuleService.CreateRule"."""
        return self.method.full_name

    @property
    def grpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def server_streaming(self) -> bool:
        return self.method.server_streaming


def default_files() -> list[FileDescriptor]:
    """The file descriptors of every `alerting.v1` service."""
    return list(FILES)


def discover_routes(files: Iterable[FileDescriptor]) -> list[RpcRoute]:
    """Every HTTP binding of every service in `files`, literal paths before templated ones."""
    routes = [
        _route(method, rule)
        for file in files
        for service in file.services_by_name.values()
        for method in service.methods
        for rule in _bindings(method)
    ]
    return sorted(routes, key=lambda r: (_specificity(r.path), r.path, r.http_method))


def _bindings(method: MethodDescriptor) -> Iterator[http_pb2.HttpRule]:
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return
    rule = options.Extensions[annotations_pb2.http]
    yield rule
    yield from rule.additional_bindings


def _route(method: MethodDescriptor, rule: http_pb2.HttpRule) -> RpcRoute:
    kind = rule.WhichOneof("pattern")
    if kind in _PATTERNS:
        http_method, template = kind.upper(), getattr(rule, kind)
    elif kind == "custom":
        http_method, template = rule.custom.kind.upper(), rule.custom.path
    else:
        raise ValueError(f"{method.full_name}: http rule without a pattern")
    params = []
    for match in _VARIABLE.finditer(template):
        if match.group(1) not in method.input_type.fields_by_name:
            raise ValueError(f"{method.full_name}: path variable {match.group(1)!r} is not a request field")
        params.append(match.group(1))
    if rule.body not in ("", "*") and rule.body not in method.input_type.fields_by_name:
        raise ValueError(f"{method.full_name}: body {rule.body!r} is not a request field")
    return RpcRoute(
        method=method,
        http_method=http_method,
        path=_VARIABLE.sub(_starlette_variable, template),
        path_params=tuple(params),
        body=rule.body,
        request_class=message_factory.GetMessageClass(method.input_type),
        response_class=message_factory.GetMessageClass(method.output_type),
    )


def _starlette_variable(match: re.Match[str]) -> str:
    # `{name=**}` (or any multi-segment pattern) may contain slashes; `{name}` and `{name=*}` may not.
    pattern = match.group(2)
    return f"{{{match.group(1)}}}" if pattern in (None, "*") else f"{{{match.group(1)}:path}}"


def _specificity(path: str) -> tuple[int, ...]:
    return tuple(int(segment.startswith("{")) for segment in path.strip("/").split("/"))
