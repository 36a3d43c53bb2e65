"""Generated playback event streams shaped like the UGC service's: viewings of popular and obscure movies, each a
run of plays, pauses, seeks and stops whose positions follow the clock, with what real delivery adds: client
retries (the same event_id accepted again later), redelivered copies, late events, unknown event types,
events at the same instant, sessions named or not. Seeded: one seed, one stream."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.playback_event import PlaybackEvent

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DEVICES = ("web", "android", "ios", "smart-tv", "")
MINUTE = 60_000


@dataclass(frozen=True)
class StreamShape:
    users: int = 40
    movies: int = 25
    viewings: int = 150
    # Events of a viewing, beside its first play.
    steps: tuple[int, int] = (1, 14)
    span_days: int = 60
    duplicate_rate: float = 0.05
    retry_rate: float = 0.03
    late_rate: float = 0.04
    unknown_rate: float = 0.02


def avro_record(event: PlaybackEvent) -> dict[str, Any]:
    """The event as the UGC service writes it on the bus (protos/avro/playback_event.avsc)."""
    return {
        "event_id": event.event_id,
        "user_id": event.user_id,
        "movie_id": event.movie_id,
        "type": event.type,
        "position_ms": event.position_ms,
        "client_time": event.client_time_ms,
        "server_time": event.server_time_ms,
        "device": event.device,
        "playback_session_id": event.playback_session_id,
    }


def generate(seed: int, shape: StreamShape = StreamShape()) -> list[PlaybackEvent]:
    """Every copy of every event, in the order the service accepted them (server time)."""
    events = [event for delivered in deliveries(seed, shape) for event in delivered]
    events.sort(key=lambda e: (e.server_time_ms, e.event_id))
    return events


def deliveries(seed: int, shape: StreamShape) -> Iterator[list[PlaybackEvent]]:
    """Viewing after viewing (`shape.viewings` of them), each as the copies of its events the bus delivered."""
    rng = random.Random(seed)

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    users = [uid() for _ in range(shape.users)]
    movies = [f"tt{rng.randrange(10**7):07d}" for _ in range(shape.movies)]
    # A few hits, a long tail (cumulative once: a catalogue's worth of weights per draw would be slow).
    popularity = list(itertools.accumulate(1 / (rank + 1) for rank in range(shape.movies)))
    for _ in range(shape.viewings):
        user = rng.choice(users)
        movie = rng.choices(movies, cum_weights=popularity)[0]
        session = rng.choice([None, None, uid(), ""])
        device = rng.choice(DEVICES) or None
        clock = T0 + rng.randrange(shape.span_days * 24 * 60) * MINUTE + rng.randrange(MINUTE)
        position = rng.choice([0, 0, rng.randrange(90 * MINUTE)])
        playing = False
        viewing = []
        for step in range(rng.randint(*shape.steps) + 1):
            kind = "play" if step == 0 else _next_kind(rng, playing)
            if step:
                gap = rng.choice([0, rng.randrange(1, 5_000), rng.randrange(5_000, 30 * MINUTE)])
                clock += gap
                if playing:
                    # Positions follow the clock at 1x, give or take a wrong report.
                    position = max(0, position + int(gap * rng.choice([1, 1, 1, 1.5, 0.5])))
                if kind == "seek_forward":
                    position += rng.randrange(1, 20 * MINUTE)
                elif kind == "seek_back":
                    position = max(0, position - rng.randrange(1, 20 * MINUTE))
            if kind == "play":
                playing = True
            elif kind in ("pause", "stop"):
                playing = False
            viewing.append(
                PlaybackEvent(
                    event_id=uid(),
                    user_id=user,
                    movie_id=movie,
                    type=kind,
                    position_ms=position,
                    client_time_ms=clock,
                    server_time_ms=clock + rng.randrange(0, 2_000),
                    device=device,
                    playback_session_id=session,
                )
            )
        yield list(_delivered(rng, viewing, shape))


def _next_kind(rng: random.Random, playing: bool) -> str:
    if rng.random() < 0.02:
        return "buffering"  # a type the rules do not know yet
    if playing:
        return rng.choices(["pause", "stop", "seek_forward", "seek_back", "play"], [5, 1, 2, 2, 1])[0]
    return rng.choices(["play", "seek_forward", "seek_back", "pause", "stop"], [8, 1, 1, 1, 1])[0]


def _delivered(rng: random.Random, viewing: list[PlaybackEvent], shape: StreamShape) -> Iterator[PlaybackEvent]:
    for original in viewing:
        event = original
        if rng.random() < shape.late_rate:
            # Reached the service long after the events that followed it.
            event = replace(original, server_time_ms=original.server_time_ms + rng.randrange(5, 600) * MINUTE)
        yield event
        if rng.random() < shape.duplicate_rate:
            yield event
        if rng.random() < shape.retry_rate:
            yield replace(event, server_time_ms=event.server_time_ms + rng.randrange(1, 30_000))


def batches(events: list[PlaybackEvent], size: int, topic: str = "ugc.playback-events") -> list[EventBatch]:
    """`events` cut into batches of one partition, offsets counting from 0."""
    return [
        EventBatch(topic, 0, start, start + len(chunk) - 1, chunk)
        for start in range(0, len(events), size)
        if (chunk := events[start : start + size])
    ]
