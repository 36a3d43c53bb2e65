"""Composition root of the sink. It has no gRPC API of its own: the server carries its health and metrics.

Its pipeline arrives with the sink work.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from meshkit.server import GrpcService
from sink_svc.settings import SinkSettings


@contextlib.asynccontextmanager
async def build(settings: SinkSettings) -> AsyncIterator[Sequence[GrpcService]]:
    yield []
