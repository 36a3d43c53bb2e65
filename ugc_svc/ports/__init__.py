"""What the UGC use cases need from outside, one `typing.Protocol` per module, each stating its semantics
(idempotent or not, what it raises): the document store (resume positions, favourites, ratings and each movie's
rating totals) and the event bus (playback events, acknowledged only once durable)."""
