from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from meshkit import errors
from meshkit.grpc_errors import MAX_DETAILS_BYTES, STATUS_CODES, rich_status, status_code_for


@pytest.mark.parametrize("error_type", sorted(STATUS_CODES, key=str))
def test_every_domain_error_has_its_own_code(error_type: type[errors.DomainError]) -> None:
    error = errors.InvalidArgument.of("f", "bad") if error_type is errors.InvalidArgument else error_type("boom")
    assert status_code_for(error) is STATUS_CODES[error_type]


def test_table_covers_every_domain_error() -> None:
    defined = {
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.DomainError) and cls is not errors.DomainError
    }
    assert defined == set(STATUS_CODES)


def test_a_subclass_maps_like_its_parent() -> None:
    class MovieNotFound(errors.NotFound):
        pass

    assert status_code_for(MovieNotFound("tt0")) is grpc.StatusCode.NOT_FOUND


def test_invalid_argument_carries_field_violations_in_the_status_details() -> None:
    error = errors.InvalidArgument(
        errors.FieldViolation("limit", "must be between 1 and 100", reason="int32.gte_lte"),
        errors.FieldViolation("page", "must be 1 or more"),
    )
    code, message, details = rich_status(error)
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert message == "limit: must be between 1 and 100; page: must be 1 or more"
    status = status_pb2.Status.FromString(details)
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert status.message == message
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [(v.field, v.description, v.reason) for v in bad_request.field_violations] == [
        ("limit", "must be between 1 and 100", "int32.gte_lte"),
        ("page", "must be 1 or more", ""),
    ]


def test_an_error_without_text_still_gets_a_message() -> None:
    _, message, _ = rich_status(errors.Unavailable())
    assert message == "unavailable"


def test_invalid_argument_needs_a_violation() -> None:
    with pytest.raises(ValueError, match="at least one"):
        errors.InvalidArgument()


def test_many_violations_are_counted_in_the_message_and_listed_as_far_as_the_trailer_allows() -> None:
    many = [
        errors.FieldViolation(f"events[{n}].client_time", "x" * 80, "client_time.within_bounds") for n in range(900)
    ]
    code, message, details = rich_status(errors.InvalidArgument(*many))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    status = status_pb2.Status.FromString(details)
    bad_request = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad_request)
    listed = len(bad_request.field_violations)
    assert 100 < listed < 900
    assert len(bad_request.SerializeToString()) <= MAX_DETAILS_BYTES
    assert [v.field for v in bad_request.field_violations] == [v.field for v in many[:listed]]
    # The message names the first ten and counts the rest.
    assert message.count("client_time:") == 10
    assert "and 890 more" in message
    assert message.endswith(f"(the details list the first {listed} of 900)")


def test_a_few_violations_are_all_listed() -> None:
    few = [errors.FieldViolation(f"f{n}", "bad") for n in range(12)]
    _, message, details = rich_status(errors.InvalidArgument(*few))
    bad_request = error_details_pb2.BadRequest()
    status_pb2.Status.FromString(details).details[0].Unpack(bad_request)
    assert len(bad_request.field_violations) == 12
    assert "the details list" not in message
