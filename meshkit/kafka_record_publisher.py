"""RecordPublisher on Kafka through confluent-kafka: an idempotent producer (acks=all) with Kafka's murmur2
partitioner, as the playback events' publisher; the values are sent as given, with their headers.

A thread of ours serves librdkafka's delivery reports and settles each record's future on the event loop, so
`publish` returns once Kafka acknowledged every record, or raises Unavailable once `message.timeout.ms` passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from meshkit.errors import Unavailable
from meshkit.record_publisher import OutgoingRecord

log = logging.getLogger(__name__)

# librdkafka times messages out on its own timer scan (about once a second).
_REPORT_SLACK_SECONDS = 1.5
_POLL_SECONDS = 0.1


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


class KafkaRecordPublisher:
    def __init__(self, bootstrap_servers: str, *, ack_timeout: float) -> None:
        """Connects in the background; nothing blocks here."""
        self._timeout = ack_timeout
        self._fatal: KafkaError | None = None
        self._producer = Producer(
            {**idempotent_producer_settings(bootstrap_servers, ack_timeout), "error_cb": self._on_error, "logger": log}
        )
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._serve_reports, name="kafka-record-publisher", daemon=True)
        self._poller.start()

    async def publish(self, topic: str, records: Sequence[OutgoingRecord]) -> None:
        if not records:
            return
        if self._fatal is not None:
            raise Unavailable(f"the Kafka producer failed for good: {self._fatal.str()}")
        loop = asyncio.get_running_loop()
        reports: list[asyncio.Future[KafkaError | None]] = []
        for record in records:
            report: asyncio.Future[KafkaError | None] = loop.create_future()
            try:
                self._producer.produce(
                    topic,
                    value=record.value,
                    key=record.key,
                    headers=list(record.headers),
                    on_delivery=partial(_settle, loop, report),
                )
            except BufferError:
                raise Unavailable("the Kafka producer's queue is full: the brokers are not keeping up") from None
            except KafkaException as exc:
                raise Unavailable(f"Kafka refused the record: {exc.args[0]}") from exc
            reports.append(report)
        try:
            async with asyncio.timeout(self._timeout + _REPORT_SLACK_SECONDS):
                errors = [error for error in await asyncio.gather(*reports) if error is not None]
        except TimeoutError:
            raise Unavailable(f"Kafka did not acknowledge the records within {self._timeout:g} s") from None
        if errors:
            raise Unavailable(f"Kafka did not acknowledge {len(errors)} of {len(records)} records: {errors[0].str()}")

    async def close(self) -> None:
        await asyncio.to_thread(self._producer.flush, self._timeout)
        self._stop.set()
        await asyncio.to_thread(self._poller.join)

    def _serve_reports(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(_POLL_SECONDS)

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = error
            log.error("Kafka producer failed for good: %s", error.str())
        else:
            log.warning("Kafka: %s", error.str())


def _settle(loop: asyncio.AbstractEventLoop, report: asyncio.Future[KafkaError | None], error: Any, _: Message) -> None:
    """Delivery report, on the polling thread: hand the outcome to the event loop."""

    def settle() -> None:
        if not report.done():
            report.set_result(error)

    with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for this record any more
        loop.call_soon_threadsafe(settle)
