"""The one table from domain errors to gRPC status codes, and the status it sends."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

from meshkit import errors

STATUS_CODES: dict[type[errors.DomainError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.Unimplemented: grpc.StatusCode.UNIMPLEMENTED,
}

STATUS_DETAILS_KEY = "grpc-status-details-bin"
# The details travel in a trailer, base64-encoded, and the HTTP/2 hop to the gateway caps it: measured through
# Envoy 1.40, about 36 KB of details passed and 54 KB were cut off as a protocol error (a 502). A refusal lists the
# violations that fit in this many bytes, and its message says how many there were.
MAX_DETAILS_BYTES = 32 * 1024


def status_code_for(error: errors.DomainError) -> grpc.StatusCode:
    """Most specific entry wins, so a subclass of NotFound is still NOT_FOUND."""
    for cls in type(error).__mro__:
        code = STATUS_CODES.get(cls)
        if code is not None:
            return code
    return grpc.StatusCode.UNKNOWN


def rich_status(error: errors.DomainError) -> tuple[grpc.StatusCode, str, bytes]:
    """Code, message and a serialized google.rpc.Status carrying machine-readable details.

    The gateway turns the details into the JSON error body's `details`, so an app
    learns which parameter was wrong without parsing the message.
    """
    code = status_code_for(error)
    message = str(error) or code.name.lower().replace("_", " ")
    bad_request = None
    if isinstance(error, errors.InvalidArgument):
        bad_request = _bad_request(error.violations)
        listed, total = len(bad_request.field_violations), len(error.violations)
        if listed < total:
            message += f" (the details list the first {listed} of {total})"
    status = status_pb2.Status(code=_rpc_code(code), message=message)
    if bad_request is not None:
        status.details.add().Pack(bad_request)
    return code, message, status.SerializeToString()


def _bad_request(violations: tuple[errors.FieldViolation, ...]) -> error_details_pb2.BadRequest:
    bad_request = error_details_pb2.BadRequest()
    size = 0
    for v in violations:
        entry = error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description, reason=v.reason)
        size += entry.ByteSize() + 4  # the entry's tag and length
        if size > MAX_DETAILS_BYTES:
            break
        bad_request.field_violations.append(entry)
    return bad_request


def _rpc_code(code: grpc.StatusCode) -> int:
    # google.rpc.Code and grpc.StatusCode share their numbers by design.
    value: int = code.value[0]
    return value
