"""What the OpenAPI document needs to know about a tree of protos, read from its compiled descriptor set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, MethodDescriptor

_MESSAGE_RULES = "buf.validate.message"
_FIELD_RULES = "buf.validate.field"


@dataclass(frozen=True)
class MessageRule:
    """A `(buf.validate.message).cel` rule: a rule across fields, which no JSON schema keyword can state."""

    id: str
    message: str
    expression: str


class ProtoFacts:
    """Methods by operation id, rules across fields, and which fields proto3 JSON always prints."""

    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        # A pool of its own: the descriptors of any tree of protos, old or new, whatever this process imported.
        self._pool = descriptor_pool.DescriptorPool()
        for file in files.file:  # protoc writes dependencies first
            self._pool.Add(file)
        self._classes = message_factory.GetMessageClassesForFiles([file.name for file in files.file], self._pool)
        self.methods: dict[str, MethodDescriptor] = {
            # protoc-gen-connect-openapi's short operation ids.
            f"{service.name}_{method.name}": method
            for file in files.file
            for service in self._pool.FindFileByName(file.name).services_by_name.values()
            for method in service.methods
        }

    def message_rules(self, message: Descriptor) -> list[MessageRule]:
        options_class = self._classes.get("google.protobuf.MessageOptions")
        if options_class is None:
            return []
        try:
            extension = self._pool.FindExtensionByName(_MESSAGE_RULES)
        except KeyError:  # a tree that does not use protovalidate
            return []
        # Parsed again by the pool's own class, which knows the extension, instead of leaving it as unknown bytes.
        options: Any = options_class.FromString(message.GetOptions().SerializeToString())  # no generated types here
        rules = options.Extensions[extension]
        return [MessageRule(rule.id, rule.message, rule.expression) for rule in rules.cel] + [
            # protovalidate names a bare expression's violations by the expression itself.
            MessageRule(expression, "", expression)
            for expression in rules.cel_expression
        ]

    def nested_field_rules(self, message: Descriptor) -> list[MessageRule]:
        """`(buf.validate.field).cel` rules of the fields of `message` and of the messages it holds, each once, in
        the order the fields are declared: rules such as a bound relative to the service's clock, which no JSON
        schema keyword states."""
        options_class = self._classes.get("google.protobuf.FieldOptions")
        try:
            extension = self._pool.FindExtensionByName(_FIELD_RULES)
        except KeyError:  # a tree that does not use protovalidate
            return []
        if options_class is None:
            return []
        found: dict[str, MessageRule] = {}
        seen: set[str] = set()
        pending = [message]
        while pending:
            current = pending.pop(0)
            if current.full_name in seen:
                continue
            seen.add(current.full_name)
            for field in current.fields:
                options: Any = options_class.FromString(field.GetOptions().SerializeToString())
                for rule in options.Extensions[extension].cel:
                    found.setdefault(rule.id, MessageRule(rule.id, rule.message, rule.expression))
                if field.message_type is not None and not field.message_type.full_name.startswith("google.protobuf."):
                    pending.append(self._pool.FindMessageTypeByName(field.message_type.full_name))
        return list(found.values())

    def always_printed(self, message_name: str) -> list[str] | None:
        """Fields proto3 JSON prints even when empty (the gateway sets always_print_primitive_fields), by proto
        name; None for a message these protos do not define."""
        try:
            message = self._pool.FindMessageTypeByName(message_name)
        except KeyError:
            return None
        return [field.name for field in message.fields if not field.has_presence]
