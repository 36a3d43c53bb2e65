"""Composition root of the sink: settings in, wired servicers out. The profile picks the analytics store (embedded:
chDB under SINK_ANALYTICS_PATH; production: the ClickHouse server at SINK_CLICKHOUSE_URL); each engine's library is
imported only when that engine is chosen. The consume loop of `sink_svc.entrypoints` is not wired yet."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from cinemesh.analytics.v1 import analytics_pb2_grpc

from meshkit.adapters import report_adapter
from meshkit.errors import Unavailable
from meshkit.server import GrpcService
from sink_svc.entrypoints.grpc_servicer import SERVICE_NAME, AnalyticsServicer
from sink_svc.ports.playback_analytics import PlaybackAnalytics
from sink_svc.settings import SinkSettings

log = logging.getLogger(__name__)


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


@contextlib.asynccontextmanager
async def build(settings: SinkSettings) -> AsyncIterator[Sequence[GrpcService]]:
    analytics = open_playback_analytics(settings)
    report_adapter("playback_analytics", analytics)
    try:
        try:
            await analytics.prepare()
        except Unavailable as error:
            # The sink still starts (health, metrics); reads answer UNAVAILABLE until the store is back, and the
            # tables are made by the first prepare() that reaches it.
            log.warning("analytics store not ready at start: %s", error)
        servicer = AnalyticsServicer(analytics)
        yield [
            GrpcService(
                SERVICE_NAME, lambda server: analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(servicer, server)
            )
        ]
    finally:
        await analytics.close()
