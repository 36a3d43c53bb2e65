"""Composition root of the sink: settings in, the analytics reads' servicer and the loader out (the loader a
background task of the server, its health the service's). The profile picks each port's adapter (embedded: the
SQLite event log with its registry, chDB under SINK_ANALYTICS_PATH; production: a Kafka consumer group, the schema
registry, the ClickHouse server at SINK_CLICKHOUSE_URL); each engine's library is imported only when that engine is
chosen. The process that loads the store serves its reads: chDB lets one process hold its data."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from cinemesh.analytics.v1 import analytics_pb2_grpc

from meshkit.adapters import report_adapter
from meshkit.background import BackgroundTask
from meshkit.bundled_schemas import bundled_schema
from meshkit.errors import Unavailable
from meshkit.event_consumer import EventConsumer
from meshkit.record_publisher import RecordPublisher
from meshkit.server import GrpcService
from meshkit.writer_schemas import WriterSchemas
from sink_svc.adapters.prometheus_load_metrics import PrometheusLoadMetrics
from sink_svc.entrypoints.grpc_servicer import SERVICE_NAME, AnalyticsServicer
from sink_svc.ports.playback_analytics import PlaybackAnalytics
from sink_svc.service_layer.load_events import EventLoader, LoadSettings
from sink_svc.settings import SinkSettings

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def build(settings: SinkSettings) -> AsyncIterator[Sequence[GrpcService | BackgroundTask]]:
    async with contextlib.AsyncExitStack() as stack:
        consumer, dead_letters, schemas = await _open_bus(settings, stack)
        analytics = open_playback_analytics(settings)
        stack.push_async_callback(analytics.close)
        for port, adapter in (
            ("event_consumer", consumer),
            ("record_publisher", dead_letters),
            ("writer_schemas", schemas),
            ("playback_analytics", analytics),
        ):
            report_adapter(port, adapter)
        try:
            await analytics.prepare()
        except Unavailable as error:
            # The sink still starts (health, metrics); reads answer UNAVAILABLE and the loader retries its batch
            # until the store is back, and the tables are made by the first prepare() that reaches it.
            log.warning("analytics store not ready at start: %s", error)
        loader = EventLoader(
            consumer=consumer,
            analytics=analytics,
            schemas=schemas,
            dead_letters=dead_letters,
            reader=bundled_schema("playback_event"),
            settings=LoadSettings(
                topic=settings.events_topic,
                dead_letter_topic=settings.dead_letter_topic,
                max_events=settings.batch_max_events,
                max_seconds=settings.batch_max_seconds,
                stuck_seconds=settings.stuck_seconds,
            ),
            metrics=PrometheusLoadMetrics(),
        )
        servicer = AnalyticsServicer(analytics)
        yield [
            GrpcService(
                SERVICE_NAME, lambda server: analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(servicer, server)
            ),
            BackgroundTask("event loader", loader.run, loader.problem),
        ]


async def _open_bus(
    settings: SinkSettings, stack: contextlib.AsyncExitStack
) -> tuple[EventConsumer, RecordPublisher, WriterSchemas]:
    if settings.profile == "embedded":
        import asyncio  # noqa: PLC0415

        from meshkit.embedded_log import EmbeddedLog  # noqa: PLC0415
        from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry  # noqa: PLC0415
        from meshkit.sqlite_event_consumer import SqliteEventConsumer  # noqa: PLC0415
        from meshkit.sqlite_record_publisher import SqliteRecordPublisher  # noqa: PLC0415
        from meshkit.sqlite_writer_schemas import SqliteWriterSchemas  # noqa: PLC0415

        timeout = settings.event_bus_timeout_seconds
        log_file = await asyncio.to_thread(EmbeddedLog, settings.event_log_path, busy_timeout=timeout)
        stack.callback(log_file.close)
        # The sink may start before the UGC service has appended anything: both create the topics alike.
        for topic in (settings.events_topic, settings.dead_letter_topic):
            await asyncio.to_thread(log_file.ensure_topic, topic, settings.event_log_partitions)
        consumer = await SqliteEventConsumer.open(
            settings.event_log_path,
            group=settings.consumer_group,
            session_timeout=settings.session_timeout_seconds,
            lock_timeout=timeout,
        )
        publisher = await SqliteRecordPublisher.open(settings.event_log_path, ack_timeout=timeout)
        stack.push_async_callback(publisher.close)
        return consumer, publisher, SqliteWriterSchemas(EmbeddedSchemaRegistry(log_file))
    from meshkit.kafka_event_consumer import KafkaEventConsumer  # noqa: PLC0415
    from meshkit.kafka_record_publisher import KafkaRecordPublisher  # noqa: PLC0415
    from meshkit.registry_writer_schemas import RegistryWriterSchemas  # noqa: PLC0415

    kafka_consumer = KafkaEventConsumer(
        settings.kafka_bootstrap_servers,
        group=settings.consumer_group,
        session_timeout=settings.session_timeout_seconds,
        timeout=settings.event_bus_timeout_seconds,
        client_id="cinemesh-sink",
    )
    kafka_publisher = KafkaRecordPublisher(
        settings.kafka_bootstrap_servers, ack_timeout=settings.event_bus_timeout_seconds
    )
    stack.push_async_callback(kafka_publisher.close)
    schemas = RegistryWriterSchemas(settings.schema_registry_url, settings.schema_registry_timeout_seconds)
    return kafka_consumer, kafka_publisher, schemas


def open_playback_analytics(settings: SinkSettings) -> PlaybackAnalytics:
    if settings.profile == "embedded":
        from sink_svc.adapters.chdb_playback_analytics import ChdbPlaybackAnalytics  # noqa: PLC0415

        return ChdbPlaybackAnalytics(settings.analytics_path, retention_months=settings.analytics_retention_months)
    from sink_svc.adapters.clickhouse_playback_analytics import ClickHousePlaybackAnalytics  # noqa: PLC0415

    return ClickHousePlaybackAnalytics(
        settings.clickhouse_url,
        timeout_seconds=settings.analytics_timeout_seconds,
        retention_months=settings.analytics_retention_months,
    )
