"""The rules a contract declares on its requests (`buf.validate` annotations in protos/), checked for every service.

Field rules name their field. A rule across fields (a `(buf.validate.message).cel` rule) has no field of its own;
its id starts with the field a client should change (`page.within_result_window`), and that field is named.
"""

from __future__ import annotations

import protovalidate
from google.protobuf.message import Message
from protovalidate import FieldPathPb, Violation

from meshkit.errors import FieldViolation, InvalidArgument

# Compiles each message type's rules once, on first use, and keeps them.
_VALIDATOR = protovalidate.Validator()


def check_request(request: Message) -> None:
    """Raise InvalidArgument with one violation per broken rule, every one of them at once."""
    found = _VALIDATOR.collect_violations(request)
    if found:
        # Each field's own rules first, in the message's order; rules across fields after them.
        found.sort(key=lambda violation: violation.proto.field is None)
        raise InvalidArgument(*(_field_violation(violation, request) for violation in found))


def _field_violation(violation: Violation, request: Message) -> FieldViolation:
    rule = violation.proto
    field = field_path(rule.field) if rule.field is not None else _field_named_by(rule.rule_id, request)
    return FieldViolation(field, rule.message, reason=rule.rule_id)


def field_path(path: FieldPathPb) -> str:
    """`genre[3]`, `labels["tv"]`, `os.name`: proto field names, as the gateway's JSON and query parameters use."""
    text = ""
    for element in path.elements:
        text += f".{element.field_name}" if text else element.field_name
        match element.subscript:
            case None:
                pass
            case subscript if subscript.field == "string_key":
                text += f'["{subscript.value}"]'
            case subscript if subscript.field == "bool_key":
                text += f"[{str(subscript.value).lower()}]"
            case subscript:
                text += f"[{subscript.value}]"
    return text


def _field_named_by(rule_id: str, request: Message) -> str:
    head = rule_id.partition(".")[0]
    return head if head in request.DESCRIPTOR.fields_by_name else ""
