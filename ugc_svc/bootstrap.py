"""Composition root of the UGC service: settings in, wired servicers and background projections out. The profile
picks each port's adapter (embedded: the SQLite event log and SQLite documents; production: Kafka with the schema
registry, and MongoDB); each engine's library is imported only when that engine is chosen
(`ugc_svc.document_stores` for the documents). The projections (playback events into resume positions, rating
changes into ratings) run as background tasks: while one is dead or cannot write, health says NOT_SERVING."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from cinemesh.ugc.v1 import ugc_pb2_grpc

from meshkit.adapters import report_adapter
from meshkit.avro_wire import AvroSchema
from meshkit.background import BackgroundTask
from meshkit.bundled_schemas import value_subject
from meshkit.errors import Unavailable
from meshkit.event_consumer import EventConsumer
from meshkit.record_publisher import RecordPublisher
from meshkit.server import GrpcService
from meshkit.writer_schemas import WriterSchemas
from ugc_svc.adapters.avro_record_decoder import AvroRecordDecoder
from ugc_svc.adapters.bus_event_publisher import BusEventPublisher
from ugc_svc.adapters.bus_rating_log import BusRatingLog
from ugc_svc.adapters.playback_event_avro import from_record as playback_from_record
from ugc_svc.adapters.playback_event_avro import playback_schema
from ugc_svc.adapters.rating_change_avro import from_record, rating_schema
from ugc_svc.document_stores import open_document_store
from ugc_svc.entrypoints.grpc_servicer import SERVICE_NAME, UgcServicer
from ugc_svc.ports.event_publisher import EventPublisher
from ugc_svc.ports.rating_log import RatingLog
from ugc_svc.service_layer.project_positions import positions_applier
from ugc_svc.service_layer.project_ratings import ratings_applier
from ugc_svc.service_layer.projection import LogProjection
from ugc_svc.settings import UgcSettings

log = logging.getLogger(__name__)


async def open_event_publisher(settings: UgcSettings) -> EventPublisher:
    """Playback events on the profile's bus, checked as `open_bus_publisher` checks them."""
    schema = playback_schema()
    publisher, schema_id = await open_bus_publisher(settings, settings.events_topic, schema, "playback_event")
    return BusEventPublisher(publisher, topic=settings.events_topic, schema=schema, schema_id=schema_id)


async def open_rating_log(settings: UgcSettings) -> RatingLog:
    """Rating changes on the profile's bus, checked as `open_bus_publisher` checks them."""
    schema = rating_schema()
    publisher, schema_id = await open_bus_publisher(settings, settings.ratings_topic, schema, "rating_change")
    return BusRatingLog(publisher, topic=settings.ratings_topic, schema=schema, schema_id=schema_id)


async def open_bus_publisher(
    settings: UgcSettings, topic: str, schema: AvroSchema, name: str
) -> tuple[RecordPublisher, int]:
    """A publisher on the profile's bus for `topic`, and the id its records are framed with (the bundled
    `<name>.avsc`). Embedded: the log opened, the topic created and the schema registered in the log's own
    registry (registering again returns the same id). Production: the registry must already hold the schema under
    the topic's value subject and the brokers the topic (FailedPrecondition naming `make schemas` otherwise), so a
    schema change goes through the registry's compatibility check before any producer writes with it."""
    subject = value_subject(topic)
    timeout = settings.event_bus_timeout_seconds
    if settings.profile == "embedded":
        from meshkit.embedded_log import EmbeddedLog  # noqa: PLC0415
        from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry  # noqa: PLC0415
        from meshkit.sqlite_record_publisher import SqliteRecordPublisher  # noqa: PLC0415

        def prepare() -> int:
            log_file = EmbeddedLog(settings.event_log_path, busy_timeout=timeout)
            try:
                log_file.ensure_topic(topic, settings.event_log_partitions)
                return EmbeddedSchemaRegistry(log_file).register(subject, schema)
            finally:
                log_file.close()

        schema_id = await asyncio.to_thread(prepare)
        publisher: RecordPublisher = await SqliteRecordPublisher.open(settings.event_log_path, ack_timeout=timeout)
    else:
        from meshkit.kafka_record_publisher import KafkaRecordPublisher  # noqa: PLC0415
        from meshkit.registry_schema_ids import registered_schema_id  # noqa: PLC0415

        schema_id = await asyncio.to_thread(
            registered_schema_id,
            settings.schema_registry_url,
            subject,
            schema,
            settings.schema_registry_timeout_seconds,
            name,
        )
        kafka = KafkaRecordPublisher(settings.kafka_bootstrap_servers, ack_timeout=timeout)
        try:
            partitions = await asyncio.to_thread(kafka.partitions, topic)
        except BaseException:
            await kafka.close()
            raise
        log.info("publishing to %s (%d partitions), schema id %d", topic, partitions, schema_id)
        publisher = kafka
    report_adapter("record_publisher", publisher)
    return publisher, schema_id


def consumer_factory(settings: UgcSettings, group: str) -> Callable[[], Awaitable[EventConsumer]]:
    """Opens a member of `group` on the profile's bus (a projection opens a new one when it rejoins)."""

    async def open_consumer() -> EventConsumer:
        if settings.profile == "embedded":
            from meshkit.sqlite_event_consumer import SqliteEventConsumer  # noqa: PLC0415

            return await SqliteEventConsumer.open(
                settings.event_log_path,
                group=group,
                session_timeout=settings.event_consumer_session_timeout_seconds,
                lock_timeout=settings.event_bus_timeout_seconds,
            )
        from meshkit.kafka_event_consumer import KafkaEventConsumer  # noqa: PLC0415

        return KafkaEventConsumer(
            settings.kafka_bootstrap_servers,
            group=group,
            session_timeout=settings.event_consumer_session_timeout_seconds,
            timeout=settings.event_bus_timeout_seconds,
            client_id=f"cinemesh-{group}",
        )

    return open_consumer


def open_writer_schemas(settings: UgcSettings, stack: contextlib.ExitStack) -> WriterSchemas:
    if settings.profile == "embedded":
        from meshkit.embedded_log import EmbeddedLog  # noqa: PLC0415
        from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry  # noqa: PLC0415
        from meshkit.sqlite_writer_schemas import SqliteWriterSchemas  # noqa: PLC0415

        log_file = EmbeddedLog(settings.event_log_path, busy_timeout=settings.event_bus_timeout_seconds)
        stack.callback(log_file.close)
        return SqliteWriterSchemas(EmbeddedSchemaRegistry(log_file))
    from meshkit.registry_writer_schemas import RegistryWriterSchemas  # noqa: PLC0415

    return RegistryWriterSchemas(settings.schema_registry_url, settings.schema_registry_timeout_seconds)


@contextlib.asynccontextmanager
async def build(settings: UgcSettings) -> AsyncIterator[Sequence[GrpcService | BackgroundTask]]:
    # Events and rating changes are framed here and published through the profile's record publisher, which
    # `open_bus_publisher` reports: that names the bus.
    publisher = await open_event_publisher(settings)
    try:
        rating_log = await open_rating_log(settings)
    except BaseException:
        await publisher.close()
        raise
    try:
        async with open_document_store(settings) as documents:
            report_adapter("resume_positions", documents.resume_positions)
            report_adapter("favourites", documents.favourites)
            report_adapter("ratings", documents.ratings)
            try:
                await documents.prepare()
            except Unavailable as error:
                # The service still starts (health, the other ports); each document call prepares first and
                # answers UNAVAILABLE until the store is back.
                log.warning("document store not ready at start: %s", error)
            servicer = UgcServicer(
                publisher, documents.favourites, documents.resume_positions, rating_log, documents.ratings
            )
            with contextlib.ExitStack() as stack:
                schemas = await asyncio.to_thread(open_writer_schemas, settings, stack)
                report_adapter("writer_schemas", schemas)
                # Each rejoins before its session would expire anyway: the partitions have not moved meanwhile, so
                # two members never write one user's positions or one movie's ratings at once.
                retry = settings.event_consumer_session_timeout_seconds / 2
                positions = LogProjection(
                    "positions projection",
                    consumer_factory(settings, settings.positions_consumer_group),
                    positions_applier(
                        AvroRecordDecoder(schemas, playback_schema(), playback_from_record), documents.resume_positions
                    ),
                    topic=settings.events_topic,
                    group=settings.positions_consumer_group,
                    max_retry_seconds=retry,
                )
                ratings = LogProjection(
                    "ratings projection",
                    consumer_factory(settings, settings.ratings_consumer_group),
                    ratings_applier(AvroRecordDecoder(schemas, rating_schema(), from_record), documents.ratings),
                    topic=settings.ratings_topic,
                    group=settings.ratings_consumer_group,
                    max_retry_seconds=retry,
                )
                yield [
                    GrpcService(
                        SERVICE_NAME, lambda server: ugc_pb2_grpc.add_UgcServiceServicer_to_server(servicer, server)
                    ),
                    BackgroundTask(positions.name, positions.run, positions.problem),
                    BackgroundTask(ratings.name, ratings.run, ratings.problem),
                ]
    finally:
        await rating_log.close()
        await publisher.close()
