"""The id a Confluent-compatible schema registry holds a bundled schema under: what a producer frames its records
with. Looked up, never registered: `make schemas` registers the bundled schemas, with each subject's compatibility
rule, so a schema change passes the registry's check before any producer writes with it."""

from __future__ import annotations

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

# The HTTP library the registry client itself chose (httpx2 when installed, else httpx): its errors are what a
# registry that cannot be reached raises.
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.schema_registry.error import SchemaRegistryError

from meshkit.avro_wire import AvroSchema
from meshkit.errors import FailedPrecondition, Unavailable

# Registry error code (Confluent's, which Apicurio keeps): subject not found.
_SUBJECT_NOT_FOUND = 40401
_REGISTER_HINT = "run `make schemas` to register the bundled schemas (protos/avro/*.avsc)"


def registered_schema_id(registry_url: str, subject: str, schema: AvroSchema, timeout: float, name: str) -> int:
    """The id `subject` holds `schema` (the bundled `<name>.avsc`) under; FailedPrecondition when it does not hold
    it, Unavailable when the registry cannot be asked. Blocking."""
    client = SchemaRegistryClient({"url": registry_url, "timeout": timeout, "max.retries": 1})
    try:
        schema_id = client.lookup_schema(subject, Schema(schema.text, "AVRO")).schema_id
    except SchemaRegistryError as exc:
        if exc.error_code == _SUBJECT_NOT_FOUND or exc.http_status_code == 404:
            what = "no such subject" if exc.error_code == _SUBJECT_NOT_FOUND else "another schema"
            raise FailedPrecondition(
                f"the schema registry at {registry_url} does not hold the bundled {name}.avsc under "
                f"{subject!r} ({what}): {_REGISTER_HINT}"
            ) from None
        raise Unavailable(f"the schema registry at {registry_url} failed: {exc}") from exc
    except (httpx.HTTPError, OSError) as exc:
        raise Unavailable(f"the schema registry at {registry_url} cannot be reached: {exc}") from exc
    if schema_id is None:
        raise Unavailable(f"the schema registry at {registry_url} answered the lookup of {subject!r} without an id")
    return schema_id
