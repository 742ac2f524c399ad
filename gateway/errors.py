"""The one mapping from gRPC status to HTTP, and the REST error body of API.md.

{"error": {"code": "INVALID_ARGUMENT", "message": "...", "details": [{"field": "...", "description": "..."}]}}

`details` are the `google.rpc.BadRequest` field violations the server put in the rich status
(`grpc-status-details-bin` trailing metadata), and its `google.rpc.PreconditionFailure` violations
(their subject as `field`: what stands in the way). Errors raised by the gateway itself (bad JSON, bad
query parameter, body too large) use the same body.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import grpc
from google.rpc import error_details_pb2, status_pb2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from alerting_common.jsonmap import JSON, JSONObject, MappingError

log = logging.getLogger(__name__)

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 412,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
# The server's text for these may describe its internals; the caller gets a generic message.
_OPAQUE = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS})
_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class Violation:
    field: str
    description: str


class GatewayError(Exception):
    """An error answered to the REST caller."""

    def __init__(self, status: int, code: str, message: str, details: Sequence[Violation] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = tuple(details)

    def body(self) -> JSONObject:
        details: list[JSON] = [{"field": v.field, "description": v.description} for v in self.details]
        return {"error": {"code": self.code, "message": self.message, "details": details}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def invalid_argument(field: str, description: str) -> GatewayError:
    return GatewayError(400, "INVALID_ARGUMENT", f"{field}: {description}", [Violation(field, description)])


def from_mapping_error(error: MappingError) -> GatewayError:
    return invalid_argument(error.field, error.description)


def internal_error() -> GatewayError:
    return GatewayError(500, "INTERNAL", "internal error")


def from_rpc_error(error: grpc.aio.AioRpcError) -> GatewayError:
    """The REST error of a failed call, with the violations of its rich status."""
    code = error.code()
    if code in _OPAQUE:
        log.error("backend call failed: %s: %s", code.name, error.details())
        return GatewayError(500, code.name, "internal error")
    return GatewayError(
        HTTP_STATUS.get(code, 500), code.name, error.details() or code.name.lower(), _violations(error)
    )


def _violations(error: grpc.aio.AioRpcError) -> list[Violation]:
    violations: list[Violation] = []
    # The stubs type this as the sync API's metadata; at runtime it is aio Metadata: (key, value) pairs.
    metadata = cast("Iterable[tuple[str, str | bytes]]", error.trailing_metadata() or ())
    for key, value in metadata:
        if key != _DETAILS_KEY or not isinstance(value, bytes):
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                violations.extend(Violation(v.field, v.description) for v in bad_request.field_violations)
            elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
                failure = error_details_pb2.PreconditionFailure()
                detail.Unpack(failure)
                violations.extend(Violation(v.subject, v.description) for v in failure.violations)
    return violations


Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(endpoint: Endpoint) -> Endpoint:
    """Every failure of `endpoint` as a REST error body; never a stack trace to the caller."""

    @functools.wraps(endpoint)
    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except GatewayError as exc:
            return exc.response()
        except MappingError as exc:
            return from_mapping_error(exc).response()
        except grpc.aio.AioRpcError as exc:
            return from_rpc_error(exc).response()
        except Exception:
            log.exception("unexpected error serving %s %s", request.method, request.url.path)
            return internal_error().response()

    return run
