"""The exceptions the client raises: one per gRPC status code a caller may want to handle.

    AlertingError                 .code .message .field_violations
    ├── InvalidArgumentError      bad input; .field_violations names each bad field and why
    ├── NotFoundError
    ├── AlreadyExistsError
    ├── FailedPreconditionError   e.g. a watch resumed from a revision older than retention, or a
    │                             channel deleted while routes use it (.field_violations names them)
    ├── UnauthenticatedError      missing or bad bearer token
    ├── PermissionDeniedError     the token lacks the scope
    ├── ResourceExhaustedError    rate limited, or a watch subscriber that fell too far behind
    ├── UnimplementedError
    ├── UnavailableError          still unavailable after the channel's retries
    ├── DeadlineExceededError
    ├── CancelledError
    └── InternalError             INTERNAL, UNKNOWN, DATA_LOSS and any other code

Every one is built from a `grpc.RpcError` by `from_rpc_error`; the original is kept as
`__cause__`. Field violations come from the `google.rpc.BadRequest` detail of the rich status, and
from its `google.rpc.PreconditionFailure` detail (each violation's subject and description).
"""

from __future__ import annotations

from typing import cast

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


class AlertingError(Exception):
    """Base of every error the client raises for a failed call."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_violations: list[tuple[str, str]] = list(field_violations or [])

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        for field, description in self.field_violations:
            text += f"\n  {field}: {description}"
        return text


class InvalidArgumentError(AlertingError):
    pass


class NotFoundError(AlertingError):
    pass


class AlreadyExistsError(AlertingError):
    pass


class FailedPreconditionError(AlertingError):
    pass


class UnauthenticatedError(AlertingError):
    pass


class PermissionDeniedError(AlertingError):
    pass


class ResourceExhaustedError(AlertingError):
    pass


class UnimplementedError(AlertingError):
    pass


class UnavailableError(AlertingError):
    pass


class DeadlineExceededError(AlertingError):
    pass


class CancelledError(AlertingError):
    pass


class InternalError(AlertingError):
    pass


_BY_CODE: dict[grpc.StatusCode, type[AlertingError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNIMPLEMENTED: UnimplementedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.CANCELLED: CancelledError,
}


def from_rpc_error(error: grpc.RpcError) -> AlertingError:
    """The client exception for a failed call (sync `grpc.RpcError` or `grpc.aio.AioRpcError`)."""
    code = error.code()
    message = error.details() or ""
    return _BY_CODE.get(code, InternalError)(code, message, _field_violations(error))


def _field_violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    # The sync error is a grpc.Call; AioRpcError is not, but has the code(), details() and
    # trailing_metadata() that from_call reads. A bare RpcError has no metadata at all.
    if not hasattr(error, "trailing_metadata"):
        return []
    try:
        status = rpc_status.from_call(cast(grpc.Call, error))
    except ValueError:
        # The rich status disagrees with the call's code or message: trust neither detail.
        return []
    if status is None:
        return []
    violations: list[tuple[str, str]] = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        failure = error_details_pb2.PreconditionFailure()
        if detail.Unpack(bad_request):
            violations.extend((v.field, v.description) for v in bad_request.field_violations)
        elif detail.Unpack(failure):
            violations.extend((v.subject, v.description) for v in failure.violations)
    return violations
