"""Composition root of the sink: settings in, wired pipeline out. It has no gRPC API of its own (the server carries
its health and metrics); it will pick each port's adapter from the profile and run the consume loop of
`sink_svc.entrypoints` while the server runs. Until the pipeline lands it wires nothing."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from meshkit.server import GrpcService
from sink_svc.settings import SinkSettings


@contextlib.asynccontextmanager
async def build(settings: SinkSettings) -> AsyncIterator[Sequence[GrpcService]]:
    yield []
