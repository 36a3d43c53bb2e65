"""EventPublisher on Kafka through confluent-kafka: an idempotent producer (acks=all), keyed by user with Kafka's
murmur2 partitioner, values Avro in Confluent's wire format under the id the schema registry gave the bundled
schema.

The schema is never registered here: `open` looks the bundled schema up under the topic's value subject and
refuses to start when the registry lacks it (`make schemas` registers it, with the subject's BACKWARD rule), so a
schema change goes through the registry's compatibility check before any producer writes with it. Nor is the
topic created here: `open` refuses to start when the brokers do not have it (`make schemas` creates it with the
configured partition count), and the producer never asks a broker to create it on first use.

librdkafka does the network work in its own threads; a thread of ours serves its delivery reports (`poll`) and
settles each event's future on the event loop, so `publish` never blocks the loop and returns once Kafka has
acknowledged every event, or raises Unavailable once `message.timeout.ms` has passed without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

# The HTTP library the registry client itself chose (httpx2 when installed, else httpx): its errors are what a
# registry that cannot be reached raises.
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.schema_registry.error import SchemaRegistryError

from meshkit.avro_wire import AvroSchema, encode
from meshkit.bundled_schemas import value_subject
from meshkit.errors import FailedPrecondition, Unavailable
from meshkit.kafka_record_publisher import idempotent_producer_settings
from ugc_svc.adapters.playback_event_avro import SCHEMA_NAME, message_key, playback_schema, to_record
from ugc_svc.domain.playback import PlaybackEvent

log = logging.getLogger(__name__)

# librdkafka times messages out on its own timer scan (about once a second): the loop's own guard waits that long
# beyond message.timeout.ms before it gives up on a delivery report.
_REPORT_SLACK_SECONDS = 1.5
_POLL_SECONDS = 0.1
# What a producer that failed for good may still hand over before it is dropped: it fails its queue at once.
_RETIRE_FLUSH_SECONDS = 2.0
# The shortest time between two new producers.
_REPLACE_INTERVAL_SECONDS = 1.0
# Registry error codes (Confluent's, which Apicurio keeps): subject not found, schema not found.
_SUBJECT_NOT_FOUND = 40401
_SCHEMA_NOT_FOUND = 40403
_REGISTER_HINT = "run `make schemas` to register the bundled schemas (protos/avro/*.avsc)"


def registered_schema_id(
    registry_url: str, subject: str, schema: AvroSchema, timeout: float, name: str = SCHEMA_NAME
) -> int:
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


@dataclass(eq=False)
class _Producing:
    """One producer and the delivery reports it still owes, so that a producer that dies can answer them all."""

    producer: Producer
    reports: set[asyncio.Future[KafkaError | None]] = field(default_factory=set)


class KafkaEventPublisher:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topic: str,
        schema: AvroSchema,
        schema_id: int,
        timeout: float,
        producer_config: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        """Use `open`: it checks the registry and the topic first. Connects in the background; nothing blocks here.

        `producer_config`: librdkafka settings added to this adapter's own (and overriding them)."""
        self._topic = topic
        self._schema = schema
        self._schema_id = schema_id
        self._timeout = timeout
        self._config: dict[str, Any] = {
            **idempotent_producer_settings(bootstrap_servers, timeout),
            "error_cb": self._on_error,
            # A topic made by the broker on first use would have its default partition count, not ours.
            "allow.auto.create.topics": False,
            "logger": log,
            **(producer_config or {}),
        }
        self._current = _Producing(Producer(self._config))
        # A fatal error seen outside the polling thread (error_cb, a refused produce): that thread replaces the
        # producer, so that one thread alone ever swaps it.
        self._failure: KafkaError | None = None
        self._replacements = 0
        self._next_replacement = 0.0
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._serve_reports, name="kafka-event-publisher", daemon=True)
        self._poller.start()

    @property
    def replacements(self) -> int:
        """How many producers have failed for good and been replaced since the start."""
        return self._replacements

    @classmethod
    async def open(
        cls,
        bootstrap_servers: str,
        *,
        registry_url: str,
        topic: str,
        ack_timeout: float,
        registry_timeout: float,
    ) -> KafkaEventPublisher:
        schema = playback_schema()
        schema_id = await asyncio.to_thread(
            registered_schema_id, registry_url, value_subject(topic), schema, registry_timeout
        )
        publisher = cls(bootstrap_servers, topic=topic, schema=schema, schema_id=schema_id, timeout=ack_timeout)
        try:
            partitions = await asyncio.to_thread(publisher.partitions)
        except BaseException:
            await publisher.close()
            raise
        log.info("publishing to %s (%d partitions), schema id %d", topic, partitions, schema_id)
        return publisher

    def partitions(self) -> int:
        """How many partitions the topic has; FailedPrecondition when the brokers lack it, Unavailable when they
        cannot be asked within the acknowledgement bound. Blocking."""
        try:
            metadata = self._current.producer.list_topics(self._topic, timeout=self._timeout)
        except KafkaException as exc:
            raise Unavailable(f"Kafka cannot be asked for topic {self._topic!r}: {exc.args[0].str()}") from exc
        topic = metadata.topics.get(self._topic)
        if topic is None or topic.error is not None:
            if topic is not None and topic.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise Unavailable(f"Kafka cannot describe topic {self._topic!r}: {topic.error.str()}")
            raise FailedPrecondition(
                f"Kafka has no topic {self._topic!r}: run `make schemas` to create the topics with their "
                "partition counts"
            )
        return len(topic.partitions)

    async def publish(self, events: Sequence[PlaybackEvent]) -> None:
        if not events:
            return
        loop = asyncio.get_running_loop()
        current = self._current
        # One future for the call, settled once every event of it has its delivery report: a report a message
        # would wake the event loop once per event.
        report: asyncio.Future[KafkaError | None] = loop.create_future()
        acks = _Acks(loop, report, len(events))
        # Before produce: once a message is queued its report may come, or the producer may die owing it.
        current.reports.add(report)
        report.add_done_callback(current.reports.discard)
        for produced, event in enumerate(events):
            value = encode(self._schema_id, self._schema, to_record(event))
            try:
                current.producer.produce(self._topic, value=value, key=message_key(event), on_delivery=acks.report)
            except (BufferError, KafkaException) as exc:
                # What was queued still reports; the call is refused now, whatever those reports say.
                acks.forget(len(events) - produced)
                if isinstance(exc, BufferError):
                    raise Unavailable("the Kafka producer's queue is full: the brokers are not keeping up") from None
                error = exc.args[0]
                if error.fatal() or error.code() == KafkaError._FATAL:
                    self._failure = self._failure or error
                raise Unavailable(f"Kafka refused the event: {error.str()}") from exc
        try:
            async with asyncio.timeout(self._timeout + _REPORT_SLACK_SECONDS):
                error = await report
        except TimeoutError:
            raise Unavailable(f"Kafka did not acknowledge the events within {self._timeout:g} s") from None
        if error is not None:
            raise Unavailable(f"Kafka did not acknowledge {acks.failed} of {len(events)} events: {error.str()}")

    async def close(self) -> None:
        # Deliver what is queued (bounded like a publish), then stop serving reports.
        with contextlib.suppress(KafkaException, SystemError):
            await asyncio.to_thread(self._current.producer.flush, self._timeout)
        self._stop.set()
        await asyncio.to_thread(self._poller.join)

    def _serve_reports(self) -> None:
        while not self._stop.is_set():
            current = self._current
            try:
                current.producer.poll(_POLL_SECONDS)
            except (KafkaException, SystemError) as exc:
                # confluent-kafka raises a fatal error out of poll() rather than through error_cb, and when
                # delivery reports are served in the same call it surfaces as a SystemError caused by it.
                error = _kafka_error_of(exc)
                if error is None or not error.fatal():
                    log.exception("Kafka producer: serving delivery reports failed")
                    continue
                self._failure = self._failure or error
            if self._failure is not None and time.monotonic() >= self._next_replacement:
                self._replace(current, self._failure)

    def _replace(self, failed: _Producing, error: KafkaError) -> None:
        """Swap in a new producer for the next call, then settle what the dead one owes: reports it can still
        give (flushed: the dead producer fails its queue at once), and Unavailable for every other in-flight event
        (its outcome is unknown: at least once, the client retries). On the polling thread."""
        self._current = _Producing(Producer(self._config))
        self._failure = None
        self._replacements += 1
        # A cause that outlives producers (say, a broker refusing this client's producer id) must not turn into
        # a new producer every poll: meanwhile calls are refused by the dead one, at once.
        self._next_replacement = time.monotonic() + _REPLACE_INTERVAL_SECONDS
        with contextlib.suppress(KafkaException, SystemError):
            failed.producer.purge()
        with contextlib.suppress(KafkaException, SystemError):
            failed.producer.flush(min(self._timeout, _RETIRE_FLUSH_SECONDS))
        owed = list(failed.reports)
        for report in owed:
            _settle(report.get_loop(), report, error, None)
        log.error(
            "Kafka producer failed for good (%s): %d events in flight answered Unavailable; a new producer "
            "takes the next call (replacement %d)",
            error.str(),
            len(owed),
            self._replacements,
        )

    def _on_error(self, error: KafkaError) -> None:
        # Connection trouble is reported here too and heals on its own (its messages then time out, or not);
        # a fatal error (the idempotent producer's sequence is broken) ends this producer: the polling thread
        # replaces it.
        if error.fatal():
            self._failure = self._failure or error
        else:
            log.warning("Kafka: %s", error.str())


def _kafka_error_of(exc: BaseException) -> KafkaError | None:
    """The KafkaError an exception from poll() carries, itself or as the cause of a SystemError."""
    for candidate in (exc, exc.__cause__):
        if isinstance(candidate, KafkaException) and isinstance(candidate.args[0], KafkaError):
            return candidate.args[0]
    return None


class _Acks:
    """The delivery reports of one call's events, counted on the polling thread; the call's future is settled
    once, with the first error or None, when the last report came (or when the producer died owing them)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[KafkaError | None], events: int):
        self._loop = loop
        self._future = future
        self._remaining = events
        self._error: KafkaError | None = None
        self.failed = 0

    def report(self, error: KafkaError | None, _: Message | None) -> None:
        if error is not None:
            self.failed += 1
            self._error = self._error or error
        self._remaining -= 1
        if self._remaining == 0:
            _settle(self._loop, self._future, self._error, None)

    def forget(self, events: int) -> None:
        """Events that never reached the producer: no report will come for them."""
        self._remaining -= events


def _settle(
    loop: asyncio.AbstractEventLoop, report: asyncio.Future[KafkaError | None], error: Any, _: Message | None
) -> None:
    """Delivery report, on the polling thread: hand the outcome to the event loop."""

    def settle() -> None:
        if not report.done():
            report.set_result(error)

    # RuntimeError: the loop has closed, nobody waits for this event any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle)
