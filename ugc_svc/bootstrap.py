"""Composition root of the UGC service: settings in, wired servicers out. The profile picks each port's adapter
(embedded: the SQLite event log and SQLite documents; production: Kafka with the schema registry, and MongoDB);
each engine's library is imported only when that engine is chosen (`ugc_svc.document_stores` for the documents).

It also owns the background task that projects playback events into resume positions: started here, reported by
the service's gRPC health (NOT_SERVING once the task has died), cancelled on shutdown before the stores close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from cinemesh.ugc.v1 import ugc_pb2_grpc

from meshkit.adapters import report_adapter
from meshkit.avro_wire import AvroSchema
from meshkit.errors import NotFound, Unavailable
from meshkit.event_consumer import EventConsumer
from meshkit.server import GrpcService
from ugc_svc.adapters.avro_event_decoder import AvroEventDecoder
from ugc_svc.document_stores import open_document_store
from ugc_svc.entrypoints.grpc_servicer import SERVICE_NAME, UgcServicer
from ugc_svc.ports.event_publisher import EventPublisher
from ugc_svc.ports.resume_positions import ResumePositions
from ugc_svc.service_layer.project_positions import PositionProjection
from ugc_svc.settings import UgcSettings

log = logging.getLogger(__name__)


async def open_event_publisher(settings: UgcSettings) -> EventPublisher:
    """The profile's event bus, checked: the embedded log opened and its schema registered, or the registry
    holding the bundled schema (FailedPrecondition naming `make schemas` otherwise)."""
    if settings.profile == "embedded":
        from ugc_svc.adapters.sqlite_event_publisher import SqliteEventPublisher  # noqa: PLC0415

        return await SqliteEventPublisher.open(
            settings.event_log_path,
            topic=settings.events_topic,
            partitions=settings.event_log_partitions,
            ack_timeout=settings.event_bus_timeout_seconds,
        )
    from ugc_svc.adapters.kafka_event_publisher import KafkaEventPublisher  # noqa: PLC0415

    return await KafkaEventPublisher.open(
        settings.kafka_bootstrap_servers,
        registry_url=settings.schema_registry_url,
        topic=settings.events_topic,
        ack_timeout=settings.event_bus_timeout_seconds,
        registry_timeout=settings.schema_registry_timeout_seconds,
    )


async def open_event_consumer(settings: UgcSettings) -> EventConsumer:
    """A new member of the projection's consumer group on the profile's bus (not yet subscribed)."""
    session = settings.event_consumer_session_timeout_seconds
    if settings.profile == "embedded":
        from meshkit.sqlite_event_consumer import SqliteEventConsumer  # noqa: PLC0415

        return await SqliteEventConsumer.open(
            settings.event_log_path,
            group=settings.positions_consumer_group,
            session_timeout=session,
            lock_timeout=settings.event_bus_timeout_seconds,
        )
    from meshkit.kafka_event_consumer import KafkaEventConsumer  # noqa: PLC0415

    return KafkaEventConsumer(
        settings.kafka_bootstrap_servers,
        group=settings.positions_consumer_group,
        session_timeout=session,
        timeout=settings.event_bus_timeout_seconds,
        client_id="ugc-resume-positions",
    )


@contextlib.asynccontextmanager
async def schema_lookup(settings: UgcSettings) -> AsyncIterator[AvroEventDecoder]:
    """A decoder that finds each record's writer schema in the profile's registry."""
    if settings.profile == "embedded":
        from meshkit.embedded_log import EmbeddedLog  # noqa: PLC0415
        from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry  # noqa: PLC0415

        log_ = await asyncio.to_thread(
            EmbeddedLog, settings.event_log_path, busy_timeout=settings.event_bus_timeout_seconds
        )
        try:
            yield AvroEventDecoder(EmbeddedSchemaRegistry(log_).schema)
        finally:
            await asyncio.to_thread(log_.close)
        return
    from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: PLC0415
    from confluent_kafka.schema_registry.error import SchemaRegistryError  # noqa: PLC0415

    client = SchemaRegistryClient(
        {"url": settings.schema_registry_url, "timeout": settings.schema_registry_timeout_seconds}
    )

    def lookup(schema_id: int) -> AvroSchema:
        try:
            text = client.get_schema(schema_id).schema_str
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                raise NotFound(f"the schema registry has no schema {schema_id}") from exc
            raise Unavailable(f"the schema registry failed: {exc}") from exc
        except OSError as exc:
            raise Unavailable(f"the schema registry cannot be reached: {exc}") from exc
        if text is None:
            raise NotFound(f"the schema registry has no text for schema {schema_id}")
        return AvroSchema.parse(text)

    yield AvroEventDecoder(lookup)


@contextlib.asynccontextmanager
async def projecting_positions(settings: UgcSettings, positions: ResumePositions) -> AsyncIterator[asyncio.Task[None]]:
    """The projection running in the background for as long as the context lasts."""
    async with schema_lookup(settings) as decoder:
        projection = PositionProjection(
            lambda: open_event_consumer(settings),
            decoder,
            positions,
            topic=settings.events_topic,
            group=settings.positions_consumer_group,
            # Below the session timeout: a batch abandoned while the store is down is left before the partitions
            # could have moved (so two members never write one user at once).
            max_retry_seconds=settings.event_consumer_session_timeout_seconds / 2,
        )
        task = asyncio.create_task(projection.run(), name="resume-positions")
        task.add_done_callback(_report_end)
        try:
            yield task
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _report_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the resume-position projection stopped", exc_info=task.exception())


@contextlib.asynccontextmanager
async def build(settings: UgcSettings) -> AsyncIterator[Sequence[GrpcService]]:
    publisher = await open_event_publisher(settings)
    report_adapter("event_publisher", publisher)
    try:
        async with open_document_store(settings) as documents:
            report_adapter("resume_positions", documents.resume_positions)
            report_adapter("favourites", documents.favourites)
            try:
                await documents.prepare()
            except Unavailable as error:
                # The service still starts (health, the other ports); each document call prepares first and
                # answers UNAVAILABLE until the store is back.
                log.warning("document store not ready at start: %s", error)
            servicer = UgcServicer(publisher, documents.favourites, documents.resume_positions)
            async with projecting_positions(settings, documents.resume_positions) as projection:
                yield [
                    GrpcService(
                        SERVICE_NAME,
                        lambda server: ugc_pb2_grpc.add_UgcServiceServicer_to_server(servicer, server),
                        healthy=lambda: not projection.done(),
                    )
                ]
    finally:
        await publisher.close()
