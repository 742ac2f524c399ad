"""The one error hierarchy of the server.

    AlertingError
    ├── InvalidArgument      bad input; carries field violations (google.rpc.BadRequest)
    ├── NotFound
    ├── AlreadyExists
    ├── FailedPrecondition   the state forbids it; may name what stands in the way (PreconditionFailure)
    ├── Unauthenticated
    ├── PermissionDenied
    ├── ResourceExhausted
    ├── Unimplemented
    └── Unavailable

The gRPC layer maps each class to its status code (api/errors.py); the gateway maps the
code to HTTP. Domain code raises these and never imports grpc.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: a dotted path (`rule.annotations.summary`) and why it is wrong."""

    field: str
    description: str


class AlertingError(Exception):
    """Base of every error the API reports to a caller."""

    code = "UNKNOWN"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(AlertingError):
    code = "INVALID_ARGUMENT"

    def __init__(self, violations: list[FieldViolation] | FieldViolation, message: str = "") -> None:
        if isinstance(violations, FieldViolation):
            violations = [violations]
        self.violations = list(violations)
        if not message:
            message = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(message)

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])

    def prefixed(self, prefix: str) -> InvalidArgument:
        """The same violations with every field path under `prefix`."""
        return InvalidArgument(
            [
                FieldViolation(f"{prefix}.{v.field}" if v.field else prefix, v.description)
                for v in self.violations
            ]
        )


class NotFound(AlertingError):
    code = "NOT_FOUND"


class AlreadyExists(AlertingError):
    code = "ALREADY_EXISTS"


@dataclass(frozen=True)
class PreconditionViolation:
    """One thing in the way: its kind (`route`, `rule`, `escalation_policy`), which one (a field path
    such as `routing.routes[0].receiver`), and why it is in the way."""

    type: str
    subject: str
    description: str


class FailedPrecondition(AlertingError):
    code = "FAILED_PRECONDITION"

    def __init__(self, message: str, violations: list[PreconditionViolation] | None = None) -> None:
        super().__init__(message)
        self.violations = list(violations or ())


class Unauthenticated(AlertingError):
    code = "UNAUTHENTICATED"


class PermissionDenied(AlertingError):
    code = "PERMISSION_DENIED"


class ResourceExhausted(AlertingError):
    code = "RESOURCE_EXHAUSTED"


class Unimplemented(AlertingError):
    code = "UNIMPLEMENTED"


class Unavailable(AlertingError):
    code = "UNAVAILABLE"


class Violations:
    """Collects field violations so that one response names every bad field."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def extend(self, error: InvalidArgument, prefix: str = "") -> None:
        self.items.extend(error.prefixed(prefix).violations if prefix else error.violations)

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidArgument(self.items)
