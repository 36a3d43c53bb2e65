"""A batch of playback events as it left the event bus: which records of which partition it holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sink_svc.domain.playback_event import PlaybackEvent


@dataclass(frozen=True, slots=True)
class EventBatch:
    """The events of offsets first_offset..last_offset (inclusive) of one topic partition.

    A redelivered batch holds the same offsets, so `identity` names it the same way every time; a batch cut
    differently after a restart has another identity and may overlap an earlier one.
    """

    topic: str
    partition: int
    first_offset: int
    last_offset: int
    events: Sequence[PlaybackEvent]

    def __post_init__(self) -> None:
        if not self.topic:
            raise ValueError("a batch names its topic")
        if self.partition < 0 or self.first_offset < 0 or self.last_offset < self.first_offset:
            raise ValueError(
                f"offsets {self.first_offset}..{self.last_offset} of partition {self.partition} are not a range"
            )

    @property
    def identity(self) -> str:
        return f"{self.topic}/{self.partition}/{self.first_offset}-{self.last_offset}"
