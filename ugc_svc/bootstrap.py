"""Composition root of the UGC service: settings in, wired servicers out. The profile picks each port's adapter
(embedded: the SQLite event log and SQLite documents; production: Kafka with the schema registry, and MongoDB);
each engine's library is imported only when that engine is chosen (`ugc_svc.document_stores` for the documents)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from cinemesh.ugc.v1 import ugc_pb2_grpc

from meshkit.adapters import report_adapter
from meshkit.errors import Unavailable
from meshkit.server import GrpcService
from ugc_svc.document_stores import open_document_store
from ugc_svc.entrypoints.grpc_servicer import SERVICE_NAME, UgcServicer
from ugc_svc.ports.event_publisher import EventPublisher
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
            servicer = UgcServicer(publisher, documents.favourites)
            yield [
                GrpcService(
                    SERVICE_NAME, lambda server: ugc_pb2_grpc.add_UgcServiceServicer_to_server(servicer, server)
                )
            ]
    finally:
        await publisher.close()
