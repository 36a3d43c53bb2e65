"""Errors the domain raises on purpose.

They carry no transport vocabulary: the gRPC layer maps them to status codes
through one table (`meshkit.grpc_errors`). Anything else that escapes a
handler is a bug and becomes INTERNAL without leaking its text.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGE_VIOLATIONS = 10


class DomainError(Exception):
    """Base class: a failure the caller should hear about, with a safe message."""


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str
    # The broken rule's id when a declared rule was broken (`int32.gte_lte`, `page.within_result_window`).
    reason: str = ""


class InvalidArgument(DomainError):
    """The request itself is wrong; retrying it unchanged cannot succeed."""

    def __init__(self, *violations: FieldViolation) -> None:
        if not violations:
            raise ValueError("InvalidArgument needs at least one violation")
        self.violations = violations
        # The message travels as a header (grpc-message): a batch breaking hundreds of rules lists them all in the
        # details, and only the first few here.
        shown = "; ".join(f"{v.field}: {v.description}" for v in violations[:MESSAGE_VIOLATIONS])
        more = len(violations) - MESSAGE_VIOLATIONS
        super().__init__(f"{shown}; and {more} more (every one is in the details)" if more > 0 else shown)

    @classmethod
    def of(cls, field: str, description: str) -> InvalidArgument:
        return cls(FieldViolation(field, description))


class NotFound(DomainError):
    """The named resource does not exist."""


class AlreadyExists(DomainError):
    """The resource the caller tried to create exists already."""


class FailedPrecondition(DomainError):
    """The system is not in a state in which the request can run."""


class Unauthenticated(DomainError):
    """The caller did not prove who it is."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class ResourceExhausted(DomainError):
    """A quota or limit was hit; retrying later may work."""


class Unavailable(DomainError):
    """A dependency (an engine, another service) cannot be reached now; retry later."""


class Unimplemented(DomainError):
    """The operation exists in the contract but is not served yet."""
