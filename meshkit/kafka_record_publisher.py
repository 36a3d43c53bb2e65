"""RecordPublisher on Kafka through confluent-kafka: an idempotent producer (acks=all) with Kafka's murmur2
partitioner; the values are sent as given, with their headers.

Topics are never created here: the producer never asks a broker to create one on first use (`make schemas`
creates them with their partition counts), and `partitions` tells a caller at start whether its topic is there.

librdkafka does the network work in its own threads; a thread of ours serves its delivery reports (`poll`) and
settles each call's future on the event loop, so `publish` never blocks the loop and returns once Kafka has
acknowledged every record, or raises Unavailable once `message.timeout.ms` has passed without it. A producer that
fails for good (its idempotent sequence broken) is replaced by that thread: the calls it still owes answer
Unavailable, and the next call gets the new producer.
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

from meshkit.errors import FailedPrecondition, Unavailable
from meshkit.record_publisher import OutgoingRecord

log = logging.getLogger(__name__)

# librdkafka times messages out on its own timer scan (about once a second): the loop's own guard waits that long
# beyond message.timeout.ms before it gives up on a delivery report.
_REPORT_SLACK_SECONDS = 1.5
_POLL_SECONDS = 0.1
# What a producer that failed for good may still hand over before it is dropped: it fails its queue at once.
_RETIRE_FLUSH_SECONDS = 2.0
# The shortest time between two new producers.
_REPLACE_INTERVAL_SECONDS = 1.0


def idempotent_producer_settings(bootstrap_servers: str, ack_timeout: float) -> dict[str, Any]:
    """The librdkafka settings every publisher of the mesh starts from: a record is answered once every in-sync
    replica holds it, or refused once `ack_timeout` passed."""
    return {
        "bootstrap.servers": bootstrap_servers,
        # No duplicates or reordering from the producer's own retries; acks=all is implied and explicit.
        "enable.idempotence": True,
        "acks": "all",
        "message.timeout.ms": int(ack_timeout * 1000),
        "request.timeout.ms": min(30_000, int(ack_timeout * 1000)),
        # Kafka's Java default: the partition a key gets on the embedded log too.
        "partitioner": "murmur2_random",
        "linger.ms": 5,
    }


@dataclass(eq=False)
class _Producing:
    """One producer and the delivery reports it still owes, so that a producer that dies can answer them all."""

    producer: Producer
    reports: set[asyncio.Future[KafkaError | None]] = field(default_factory=set)


class KafkaRecordPublisher:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        ack_timeout: float,
        producer_config: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        """Connects in the background; nothing blocks here.

        `producer_config`: librdkafka settings added to this adapter's own (and overriding them)."""
        self._timeout = ack_timeout
        self._config: dict[str, Any] = {
            **idempotent_producer_settings(bootstrap_servers, ack_timeout),
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
        self._poller = threading.Thread(target=self._serve_reports, name="kafka-record-publisher", daemon=True)
        self._poller.start()

    @property
    def replacements(self) -> int:
        """How many producers have failed for good and been replaced since the start."""
        return self._replacements

    def partitions(self, topic: str) -> int:
        """How many partitions `topic` has; FailedPrecondition when the brokers lack it, Unavailable when they
        cannot be asked within the acknowledgement bound. Blocking."""
        try:
            metadata = self._current.producer.list_topics(topic, timeout=self._timeout)
        except KafkaException as exc:
            raise Unavailable(f"Kafka cannot be asked for topic {topic!r}: {exc.args[0].str()}") from exc
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            if found is not None and found.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise Unavailable(f"Kafka cannot describe topic {topic!r}: {found.error.str()}")
            raise FailedPrecondition(
                f"Kafka has no topic {topic!r}: run `make schemas` to create the topics with their partition counts"
            )
        return len(found.partitions)

    async def publish(self, topic: str, records: Sequence[OutgoingRecord]) -> None:
        if not records:
            return
        loop = asyncio.get_running_loop()
        current = self._current
        # One future for the call, settled once every record of it has its delivery report: a future a record
        # would wake the event loop once per record.
        report: asyncio.Future[KafkaError | None] = loop.create_future()
        acks = _Acks(loop, report, len(records))
        # Before produce: once a message is queued its report may come, or the producer may die owing it.
        current.reports.add(report)
        report.add_done_callback(current.reports.discard)
        for produced, record in enumerate(records):
            try:
                current.producer.produce(
                    topic,
                    value=record.value,
                    key=record.key,
                    headers=list(record.headers),
                    on_delivery=acks.report,
                )
            except (BufferError, KafkaException) as exc:
                # What was queued still reports; the call is refused now, whatever those reports say.
                acks.forget(len(records) - produced)
                if isinstance(exc, BufferError):
                    raise Unavailable("the Kafka producer's queue is full: the brokers are not keeping up") from None
                error = exc.args[0]
                if error.fatal() or error.code() == KafkaError._FATAL:
                    self._failure = self._failure or error
                raise Unavailable(f"Kafka refused the record: {error.str()}") from exc
        try:
            async with asyncio.timeout(self._timeout + _REPORT_SLACK_SECONDS):
                error = await report
        except TimeoutError:
            raise Unavailable(f"Kafka did not acknowledge the records within {self._timeout:g} s") from None
        if error is not None:
            raise Unavailable(f"Kafka did not acknowledge {acks.failed} of {len(records)} records: {error.str()}")

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
        give (flushed: the dead producer fails its queue at once), and Unavailable for every other record in
        flight (its outcome is unknown: at least once, the caller retries). On the polling thread."""
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
            _settle(report.get_loop(), report, error)
        log.error(
            "Kafka producer failed for good (%s): %d calls in flight answered Unavailable; a new producer "
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
    """The delivery reports of one call's records, counted on the polling thread; the call's future is settled
    once, with the first error or None, when the last report came (or when the producer died owing them)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[KafkaError | None], records: int):
        self._loop = loop
        self._future = future
        self._remaining = records
        self._error: KafkaError | None = None
        self.failed = 0

    def report(self, error: KafkaError | None, _: Message | None) -> None:
        if error is not None:
            self.failed += 1
            self._error = self._error or error
        self._remaining -= 1
        if self._remaining == 0:
            _settle(self._loop, self._future, self._error)

    def forget(self, records: int) -> None:
        """Records that never reached the producer: no report will come for them."""
        self._remaining -= records


def _settle(loop: asyncio.AbstractEventLoop, report: asyncio.Future[KafkaError | None], error: Any) -> None:
    """A call's outcome, from the polling thread: handed to the event loop."""

    def settle() -> None:
        if not report.done():
            report.set_result(error)

    # RuntimeError: the loop has closed, nobody waits for this call any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle)
