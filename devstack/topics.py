"""The Kafka topics of the mesh, created on purpose by `make schemas` (beside the schemas they carry), never by
the broker on first use: a topic the broker makes itself has its default partition count (one), while the
embedded log gives the same topic `UGC_EVENT_LOG_PARTITIONS`, and keys must land in the same partition on both
buses. The devstack's broker has auto-creation off, so a producer whose topic is missing fails to start instead.

Idempotent: an existing topic with the wanted partition count is left as it is; one with another count is an
error, never changed (adding partitions would move keys, and with them the order of a user's events).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

# confluent_kafka.admin re-exports NewTopic without declaring it; its home is the typed C extension.
from confluent_kafka.cimpl import NewTopic

from sink_svc.settings import SinkSettings
from ugc_svc.settings import UgcSettings

_METADATA_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int


@dataclass(frozen=True)
class EnsuredTopic:
    name: str
    partitions: int
    created: bool
    """False when it was there already (with the wanted partition count)."""


class TopicMismatch(RuntimeError):
    """A topic exists with another partition count than configured; it is left alone."""


def _playback_topic() -> TopicSpec:
    settings = UgcSettings()
    return TopicSpec(settings.events_topic, settings.event_log_partitions)


def _ratings_topic() -> TopicSpec:
    settings = UgcSettings()
    return TopicSpec(settings.ratings_topic, settings.event_log_partitions)


def _dead_letter_topic() -> TopicSpec:
    settings = SinkSettings()
    return TopicSpec(settings.dead_letter_topic, settings.event_log_partitions)


# Read from the settings the producers read, so a topic renamed or resized in the environment is the one made.
TOPICS: Sequence[Callable[[], TopicSpec]] = (_playback_topic, _ratings_topic, _dead_letter_topic)


def ensure_topics(
    bootstrap_servers: str,
    *,
    replication_factor: int,
    topics: Sequence[Callable[[], TopicSpec]] = TOPICS,
    timeout: float = 30.0,
) -> list[EnsuredTopic]:
    """Create each topic with its partition count, or check the existing one has it.

    TopicMismatch when one has another count; KafkaException when the broker cannot be reached within `timeout`
    or refuses."""
    # Connection failures are retried every few milliseconds and each one is logged at level 3: the caller reports
    # the one error that matters instead.
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 2})
    # A creation request waits for a broker without ever timing out on its own: ask for one first.
    admin.list_topics(timeout=timeout)
    ensured = []
    for spec in (each() for each in topics):
        future = admin.create_topics(
            [NewTopic(spec.name, num_partitions=spec.partitions, replication_factor=replication_factor)],
            request_timeout=timeout,
        )[spec.name]
        try:
            future.result(timeout=timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
            existing = _partition_count(admin, spec.name, timeout)
            if existing != spec.partitions:
                raise TopicMismatch(
                    f"topic {spec.name!r} has {existing} partitions, not the {spec.partitions} configured; it is "
                    "left as it is (changing the count would move keys to other partitions)"
                ) from None
            ensured.append(EnsuredTopic(spec.name, existing, created=False))
        else:
            # Done only once producers can see it: `make schemas` is often followed at once by a service start.
            ensured.append(EnsuredTopic(spec.name, _partition_count(admin, spec.name, timeout), created=True))
    return ensured


def _partition_count(admin: AdminClient, topic: str, timeout: float) -> int:
    """The topic's partition count once the broker's metadata shows it: a topic the controller has just created
    reaches the broker's metadata cache a moment later, and until then the broker calls it unknown."""
    deadline = time.monotonic() + timeout
    while True:
        metadata = admin.list_topics(topic, timeout=timeout).topics[topic]
        if metadata.error is None and metadata.partitions:
            return len(metadata.partitions)
        if metadata.error is not None and metadata.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise KafkaException(metadata.error)
        if time.monotonic() > deadline:
            raise KafkaException(metadata.error or KafkaError(KafkaError._TIMED_OUT))
        time.sleep(_METADATA_POLL_SECONDS)
