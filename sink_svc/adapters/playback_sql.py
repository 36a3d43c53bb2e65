"""The analytics store's tables and queries, shared by the ClickHouse server and chDB adapters.

One SQL text runs on ClickHouse 18.16 and on chDB (ClickHouse 26.9); `Dialect` adds what only newer releases have
(column codecs, TTL, insert deduplication) and nothing else, so both engines answer from the same queries. The
viewing-time arithmetic is docs/viewing-time.md written with arrays: 18.16 has no window functions, and a viewing's
events fit one array (its ORDER BY keeps them together on disk).

Values are written into the text as literals (18.16 has no server-side query parameters): strings through
`literal`, numbers as Python ints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sink_svc.domain.playback_event import PlaybackEvent
from sink_svc.domain.viewing_time import KNOWN_TYPES, PLAY, SEEK_BACK, SEEK_FORWARD

TABLE = "playback_events"
COLUMNS = (
    "event_id",
    "user_id",
    "movie_id",
    "session",
    "type",
    "position_ms",
    "client_time_ms",
    "server_time_ms",
    "device",
)
# Batches a chDB table remembers for deduplication: far more than a consumer can redeliver after a restart.
DEDUPLICATION_WINDOW = 10_000
_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the connected release supports beyond 18.16's SQL."""

    version: tuple[int, ...]

    @classmethod
    def parse(cls, version: str) -> Dialect:
        return cls(tuple(int(part) for part in version.split(".")[:3] if part.isdigit()))

    @property
    def codecs(self) -> bool:
        return self.version >= (19, 11)

    @property
    def ttl(self) -> bool:
        return self.version >= (19, 6)

    @property
    def insert_deduplication(self) -> bool:
        """insert_deduplication_token on a non-replicated table (with non_replicated_deduplication_window)."""
        return self.version >= (22, 2)


def checked_database(name: str) -> str:
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(
            f"database name {name!r} must be letters, digits and _ (at most 63), not starting with a digit"
        )
    return name


def literal(text: str) -> str:
    """A ClickHouse string literal: backslash escapes for the quote, the backslash and every control character."""
    out = ["'"]
    for char in text:
        if char in "\\'":
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    out.append("'")
    return "".join(out)


def create_statements(database: str, dialect: Dialect, retention_months: int | None) -> list[str]:
    """The database and table, idempotently. Design and its reasons: docs/sink-analytics.md."""

    def codec(spec: str) -> str:
        return f" CODEC({spec})" if dialect.codecs else ""

    ttl = ""
    if retention_months is not None and dialect.ttl:
        ttl = f"TTL toDateTime(intDiv(server_time_ms, 1000), 'UTC') + INTERVAL {int(retention_months)} MONTH\n"
    settings = "SETTINGS index_granularity = 8192"
    if dialect.insert_deduplication:
        settings += f", non_replicated_deduplication_window = {DEDUPLICATION_WINDOW}"
    return [
        f"CREATE DATABASE IF NOT EXISTS {database}",
        f"""CREATE TABLE IF NOT EXISTS {database}.{TABLE} (
    event_id String{codec("ZSTD(3)")},
    user_id String{codec("ZSTD(3)")},
    movie_id String{codec("ZSTD(3)")},
    session String{codec("ZSTD(3)")},
    type String{codec("ZSTD(3)")},
    position_ms UInt64{codec("T64, ZSTD(3)")},
    client_time_ms Int64{codec("Delta, ZSTD(3)")},
    server_time_ms Int64{codec("Delta, ZSTD(3)")},
    device String{codec("ZSTD(3)")},
    keep_first UInt64 MATERIALIZED toUInt64(9223372036854775807 - server_time_ms){codec("Delta, ZSTD(3)")}
)
ENGINE = ReplacingMergeTree(keep_first)
PARTITION BY toYYYYMM(toDateTime(intDiv(server_time_ms, 1000), 'UTC'))
ORDER BY (user_id, movie_id, session, client_time_ms, event_id)
{ttl}{settings}""",
    ]


def row(event: PlaybackEvent) -> tuple[str, str, str, str, str, int, int, int, str]:
    return (
        event.event_id,
        event.user_id,
        event.movie_id,
        event.session,
        event.type,
        event.position_ms,
        event.client_time_ms,
        event.server_time_ms,
        event.device or "",
    )


def insert_prefix(database: str, deduplication_token: str | None) -> str:
    settings = (
        "" if deduplication_token is None else f" SETTINGS insert_deduplication_token = {literal(deduplication_token)}"
    )
    return f"INSERT INTO {database}.{TABLE} ({', '.join(COLUMNS)}){settings} VALUES"


def values(events: Sequence[PlaybackEvent]) -> str:
    """The rows of an INSERT ... VALUES, as literals (for engines without a client-side row encoder)."""
    return ",".join(
        "({})".format(",".join(literal(v) if isinstance(v, str) else str(int(v)) for v in row(event)))
        for event in events
    )


def _in_list(values: Sequence[str]) -> str:
    return ", ".join(literal(value) for value in values)


_KNOWN = _in_list(sorted(KNOWN_TYPES))


def _distinct_events(database: str, where: str) -> str:
    """One row per event_id among the rows `where` selects: the copy accepted first (lowest server time), of a
    known type. Merges of the ReplacingMergeTree keep that copy too, but reads never wait for them."""
    return f"""
        SELECT * FROM (
            SELECT event_id,
                   argMin(user_id, server_time_ms) AS u,
                   argMin(movie_id, server_time_ms) AS m,
                   argMin(session, server_time_ms) AS sn,
                   argMin(type, server_time_ms) AS ty,
                   toInt64(argMin(position_ms, server_time_ms)) AS p,
                   argMin(client_time_ms, server_time_ms) AS c,
                   min(server_time_ms) AS sv
            FROM {database}.{TABLE}
            WHERE {where}
            GROUP BY event_id
        ) WHERE ty IN ({_KNOWN})"""


def _viewings(database: str, where: str, opened_from: int | None = None, opened_to: int | None = None) -> str:
    """One row per viewing (u, m, sn): `w` the time watched in it (only intervals opened in [opened_from,
    opened_to) when given), `last_event` its last event as (client, server, event_id, type, position)."""
    credited = "x"
    if opened_from is not None and opened_to is not None:
        credited = f"if(o >= {int(opened_from)} AND o < {int(opened_to)}, x, 0)"
    return f"""
        SELECT u, m, sn,
               arraySort(groupArray((c, sv, event_id, ty, p))) AS ev,
               arrayMap(e -> tupleElement(e, 4), ev) AS types,
               arrayMap(e -> tupleElement(e, 5), ev) AS positions,
               arrayMap(e -> tupleElement(e, 1), ev) AS clocks,
               arrayMap(t -> t != {literal(SEEK_FORWARD)} AND t != {literal(SEEK_BACK)}, types) AS sets_state,
               arrayFilter((t, s) -> s = 1, types, sets_state) AS state_events,
               arrayMap(k -> state_events[k] = {literal(PLAY)}, arrayCumSum(sets_state)) AS playing,
               arrayMap(
                   (pl, closer, p0, p1, c0, c1) ->
                       if(pl = 0, toInt64(0),
                          if(closer = {literal(SEEK_BACK)}, c1 - c0, greatest(toInt64(0), least(p1 - p0, c1 - c0)))),
                   arrayPopBack(playing), arrayPopFront(types), arrayPopBack(positions), arrayPopFront(positions),
                   arrayPopBack(clocks), arrayPopFront(clocks)) AS intervals,
               arraySum(arrayMap((x, o) -> {credited}, intervals, arrayPopBack(clocks))) AS w,
               ev[-1] AS last_event
        FROM ({_distinct_events(database, where)})
        GROUP BY u, m, sn"""


def top_movies(database: str, from_ms: int, to_ms: int, limit: int) -> str:
    # Only viewings with an event in the range can hold an interval opened there; each is read whole, since the
    # state at the range's start and the event closing its last interval may lie outside it.
    touched = (
        f"(user_id, movie_id, session) IN (SELECT user_id, movie_id, session FROM {database}.{TABLE} "
        f"WHERE client_time_ms >= {int(from_ms)} AND client_time_ms < {int(to_ms)})"
    )
    return f"""
        SELECT m, sum(w) AS watched
        FROM ({_viewings(database, touched, from_ms, to_ms)})
        GROUP BY m
        HAVING watched > 0
        ORDER BY watched DESC, m
        LIMIT {int(limit)}"""


def watch_history(database: str, user_id: str, limit: int) -> str:
    return f"""
        SELECT m, sum(w), tupleElement(arraySort(groupArray(last_event))[-1], 5) AS last_position,
               tupleElement(arraySort(groupArray(last_event))[-1], 1) AS last_seen
        FROM ({_viewings(database, f"user_id = {literal(user_id)}")})
        GROUP BY m
        ORDER BY last_seen DESC, m
        LIMIT {int(limit)}"""


def movie_totals(database: str, movie_ids: Sequence[str]) -> str:
    return f"""
        SELECT m, sum(per_user), countIf(per_user > 0)
        FROM (
            SELECT m, u, sum(w) AS per_user
            FROM ({_viewings(database, f"movie_id IN ({_in_list(movie_ids)})")})
            GROUP BY m, u
        )
        GROUP BY m"""
