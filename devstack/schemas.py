"""`python -m devstack.schemas` (`make schemas`): create the mesh's Kafka topics with their configured partition
counts (`devstack/topics.py`), then register every bundled Avro schema (`protos/avro/*.avsc`) in the devstack's
schema registry, each under the value subject of the topic it describes, with BACKWARD compatibility set on that
subject. Idempotent: an existing topic with the configured count is kept, and a schema the subject holds already
keeps its id and adds no version.

Producers never register schemas (they refuse to start when theirs is missing), so this is where a changed
schema meets the registry's compatibility check: a change that would break readers of the topic is refused with
409 here, before any service writes with it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

# The HTTP library the registry client itself chose (httpx2 when installed, else httpx): its errors are what a
# registry that cannot be reached raises.
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.schema_registry.common.schema_registry_client import ConfigCompatibilityLevel, ServerConfig
from confluent_kafka.schema_registry.error import SchemaRegistryError

from devstack.engines.apicurio import Apicurio
from devstack.engines.kafka import Kafka
from devstack.topics import TopicMismatch, ensure_topics
from meshkit.avro_wire import AvroSchema
from meshkit.bundled_schemas import SCHEMA_DIR, bundled_schemas, value_subject
from ugc_svc.settings import UgcSettings

# The topic each bundled schema is the value schema of, read from the setting its producer reads, so a topic
# renamed in the environment gets its schema under the new subject. A schema file missing here is an error.
TOPICS: Mapping[str, Callable[[], str]] = {
    "playback_event": lambda: UgcSettings().events_topic,
    "rating_change": lambda: UgcSettings().ratings_topic,
}
_SUBJECT_NOT_FOUND = 40401


@dataclass(frozen=True)
class Registered:
    name: str
    subject: str
    schema_id: int


def register(client: SchemaRegistryClient, subject: str, schema: AvroSchema) -> int:
    """Register `schema` under `subject` with BACKWARD compatibility on the subject; the schema's id.

    SchemaRegistryError (409) when the subject's rule refuses it."""
    backward = ServerConfig(compatibility=ConfigCompatibilityLevel.BACKWARD)
    try:
        # Before registering, so that a new version of an existing subject is checked against this rule.
        client.set_config(subject, backward)
        configured = True
    except SchemaRegistryError as exc:
        if exc.error_code != _SUBJECT_NOT_FOUND and exc.http_status_code != 404:
            raise
        configured = False  # a new subject: the first version has nothing to be compatible with
    schema_id = client.register_schema(subject, Schema(schema.text, "AVRO"))
    if not configured:
        client.set_config(subject, backward)
    return schema_id


def register_all(
    registry_url: str,
    *,
    directory: Path = SCHEMA_DIR,
    topics: Mapping[str, Callable[[], str]] = TOPICS,
    timeout: float = 10.0,
) -> list[Registered]:
    """Registers the schemas of `directory` that `topics` names, each under its topic's value subject. With the
    default topics every bundled schema must have one (ValueError naming those that have none); a caller that
    passes its own topics (a test, a benchmark on a topic of its own) registers just those."""
    client = SchemaRegistryClient({"url": registry_url, "timeout": timeout})
    schemas = bundled_schemas(directory)
    unknown = sorted(set(schemas) - set(topics))
    if unknown and topics is TOPICS:
        raise ValueError(f"no topic is known for {', '.join(f'{n}.avsc' for n in unknown)}: add it to TOPICS")
    schemas = {name: schema for name, schema in schemas.items() if name in topics}
    registered = []
    for name, schema in schemas.items():
        subject = value_subject(topics[name]())
        registered.append(Registered(name, subject, register(client, subject, schema)))
    return registered


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.schemas", description=__doc__)
    parser.add_argument(
        "--registry-url",
        default=Apicurio().endpoints()["url"],
        help="Confluent-compatible registry API (default: the devstack's Apicurio, DEVSTACK_APICURIO_* settings)",
    )
    kafka = Kafka()
    parser.add_argument(
        "--bootstrap-servers",
        default=kafka.endpoints()["bootstrap_servers"],
        help="Kafka brokers the topics are created on (default: the devstack's, DEVSTACK_KAFKA_* settings)",
    )
    parser.add_argument(
        "--replication-factor",
        type=int,
        default=kafka.settings.topic_replication_factor,
        help="replicas of each created topic (default: DEVSTACK_KAFKA_TOPIC_REPLICATION_FACTOR, 1)",
    )
    args = parser.parse_args(argv)
    try:
        topics = ensure_topics(args.bootstrap_servers, replication_factor=args.replication_factor, timeout=15.0)
        for topic in topics:
            done = "created" if topic.created else "exists"
            print(f"schemas: topic {topic.name} {done} with {topic.partitions} partitions")
    except KafkaException as exc:
        print(f"schemas: Kafka at {args.bootstrap_servers} refused or cannot be reached: {exc}", file=sys.stderr)
        return 1
    except TopicMismatch as exc:
        print(f"schemas: {exc}", file=sys.stderr)
        return 1
    try:
        for each in register_all(args.registry_url):
            print(f"schemas: {each.name}.avsc is id {each.schema_id} under {each.subject} (BACKWARD)")
    except SchemaRegistryError as exc:
        print(f"schemas: the registry at {args.registry_url} refused: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, httpx.HTTPError) as exc:
        print(f"schemas: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
