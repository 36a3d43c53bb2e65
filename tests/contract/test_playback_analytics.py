"""The PlaybackAnalytics port, one suite over every adapter: chDB (embedded) and the ClickHouse server (devstack).

Answers are checked against sink_svc.domain.viewing_time — the rules of docs/viewing-time.md in plain Python — on
generated event streams (tests/playback_streams.py: several seeds, with duplicates, client retries, late events and
unknown types), and replaying batches must change none of them.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from chdb import session as chdb_session
from clickhouse_driver import Client  # type: ignore[import-untyped]

from devstack.engines.clickhouse import ClickHouse
from meshkit.errors import Unavailable
from sink_svc.adapters.chdb_playback_analytics import ChdbPlaybackAnalytics
from sink_svc.adapters.clickhouse_playback_analytics import ClickHousePlaybackAnalytics
from sink_svc.domain import viewing_time
from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.playback_event import PlaybackEvent
from sink_svc.ports.playback_analytics import PlaybackAnalytics
from tests.playback_streams import T0, StreamShape, batches, generate

ADAPTERS = ["chdb", "clickhouse"]
SEEDS = [11, 23, 37]
DAY = 24 * 3_600_000

Opener = Callable[[], Awaitable[PlaybackAnalytics]]


@pytest.fixture(params=ADAPTERS)
async def open_store(request: pytest.FixtureRequest) -> AsyncIterator[Opener]:
    """Opens stores on one fresh database; the database is dropped afterwards (the engines are shared)."""
    database = f"contract_{uuid.uuid4().hex[:12]}"
    opened: list[PlaybackAnalytics] = []

    async def open_one() -> PlaybackAnalytics:
        store: PlaybackAnalytics
        if request.param == "chdb":
            store = ChdbPlaybackAnalytics(request.getfixturevalue("chdb_dir"), database=database)
        else:
            tcp = request.getfixturevalue("clickhouse").endpoints()["tcp"]
            store = ClickHousePlaybackAnalytics(f"clickhouse://{tcp}/{database}")
        await store.prepare()
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()
    if request.param == "clickhouse":
        # chDB's databases go with the test run's temporary directory.
        host, port = request.getfixturevalue("clickhouse").endpoints()["tcp"].rsplit(":", 1)
        client = Client(host, port=int(port), connect_timeout=5, send_receive_timeout=30)
        client.execute(f"DROP DATABASE IF EXISTS {database}")
        client.disconnect()


async def insert_all(store: PlaybackAnalytics, events: list[PlaybackEvent], size: int = 97) -> None:
    for batch in batches(events, size):
        await store.insert(batch)


async def assert_answers_as_the_rules(store: PlaybackAnalytics, events: list[PlaybackEvent], seed: int) -> None:
    rng = random.Random(seed)
    ranges = [(T0 - DAY, T0 + 90 * DAY)] + [
        (start, start + rng.randrange(1, 20) * DAY) for start in (T0 + rng.randrange(60) * DAY for _ in range(4))
    ]
    for from_ms, to_ms in ranges:
        for limit in (1, 5, 1000):
            assert await store.top_movies(from_ms, to_ms, limit) == viewing_time.top_movies(
                events, from_ms, to_ms, limit
            ), (from_ms, to_ms, limit)
    users = sorted({event.user_id for event in events})
    for user in [*rng.sample(users, 8), "nobody"]:
        for limit in (1, 1000):
            assert await store.watch_history(user, limit) == viewing_time.watch_history(events, user, limit), user
    movies = sorted({event.movie_id for event in events})
    asked = [*rng.sample(movies, 10), "never-watched", movies[0]]
    assert await store.movie_totals(asked) == viewing_time.movie_totals(events, asked)
    assert await store.movie_totals(movies) == viewing_time.movie_totals(events, movies)


@pytest.mark.parametrize("seed", SEEDS)
async def test_reads_answer_as_the_viewing_time_rules(open_store: Opener, seed: int) -> None:
    events = generate(seed)
    store = await open_store()
    await insert_all(store, events)
    # The stream holds what makes the rules matter; otherwise this test would prove less than it says.
    ids = [event.event_id for event in events]
    assert len(ids) > len(set(ids)), "no duplicates generated"
    assert any(viewing_time.top_movies(events, T0 - DAY, T0 + 90 * DAY, 1))
    await assert_answers_as_the_rules(store, events, seed)


async def test_replayed_and_overlapping_batches_change_nothing(open_store: Opener) -> None:
    events = generate(5, StreamShape(viewings=120, duplicate_rate=0, retry_rate=0))
    store = await open_store()
    await insert_all(store, events, size=50)
    before = (
        await store.top_movies(T0 - DAY, T0 + 90 * DAY, 1000),
        await store.movie_totals(sorted({e.movie_id for e in events})),
    )
    # The same batches again (a consumer restarted before committing), then batches cut differently that overlap
    # every earlier one, then single events already stored.
    await insert_all(store, events, size=50)
    for start in range(25, len(events), 50):
        chunk = events[start : start + 60]
        await store.insert(EventBatch("ugc.playback-events", 0, start, start + len(chunk) - 1, chunk))
    for offset in range(0, len(events), 37):
        await store.insert(EventBatch("ugc.playback-events", 0, offset, offset, [events[offset]]))
    after = (
        await store.top_movies(T0 - DAY, T0 + 90 * DAY, 1000),
        await store.movie_totals(sorted({e.movie_id for e in events})),
    )
    assert after == before
    assert before[0] == viewing_time.top_movies(events, T0 - DAY, T0 + 90 * DAY, 1000)
    await assert_answers_as_the_rules(store, events, 5)


async def test_a_batch_with_the_offsets_of_an_earlier_one_but_other_events_is_stored(open_store: Opener) -> None:
    """Offsets name records only while the topic lives: a topic made again (or an embedded log file replaced)
    starts at offset 0 with other events, which are not a redelivery of the batch that had those offsets."""
    events = generate(6, StreamShape(viewings=40, duplicate_rate=0, retry_rate=0))
    half = len(events) // 2
    first, second = events[:half], events[half : 2 * half]
    store = await open_store()

    await store.insert(EventBatch("ugc.playback-events", 0, 0, half - 1, first))
    await store.insert(EventBatch("ugc.playback-events", 0, 0, half - 1, second))

    await assert_answers_as_the_rules(store, first + second, 6)


async def test_a_late_event_changes_the_answer_to_the_one_in_its_place(open_store: Opener) -> None:
    s = 1000
    play = PlaybackEvent("e1", "u1", "m1", "play", 0, T0, T0)
    pause_late = PlaybackEvent("e2", "u1", "m1", "pause", 40 * s, T0 + 40 * s, T0 + 900 * s)
    pause = PlaybackEvent("e3", "u1", "m1", "pause", 100 * s, T0 + 100 * s, T0 + 100 * s)
    store = await open_store()
    await store.insert(EventBatch("t", 0, 0, 1, [play, pause]))
    assert await store.top_movies(T0, T0 + DAY, 10) == [viewing_time.MovieWatchTime("m1", 100 * s)]
    await store.insert(EventBatch("t", 0, 2, 2, [pause_late]))
    assert await store.top_movies(T0, T0 + DAY, 10) == [viewing_time.MovieWatchTime("m1", 40 * s)]


async def test_a_retried_event_keeps_the_place_of_its_first_acceptance(open_store: Opener) -> None:
    # A pause and a play at one client instant, ordered by the service's acceptance: pause (10) before play (11),
    # so the play runs to the stop (30 s). The pause's retry, accepted at 12, must not move it after the play.
    s = 1000
    pause = PlaybackEvent("p", "u1", "m1", "pause", 10 * s, T0 + 10 * s, T0 + 10 * s)
    play = PlaybackEvent("q", "u1", "m1", "play", 10 * s, T0 + 10 * s, T0 + 11 * s)
    stop = PlaybackEvent("s", "u1", "m1", "stop", 40 * s, T0 + 40 * s, T0 + 40 * s)
    retry = PlaybackEvent("p", "u1", "m1", "pause", 10 * s, T0 + 10 * s, T0 + 12 * s)
    store = await open_store()
    # Separate inserts: an engine may collapse copies inside one insert (chDB's optimize_on_insert), and the read
    # must get it right before any merge too.
    await store.insert(EventBatch("t", 0, 0, 1, [retry, play]))
    await store.insert(EventBatch("t", 0, 2, 3, [pause, stop]))
    expected = [viewing_time.MovieWatchTime("m1", 30 * s)]
    assert viewing_time.top_movies([pause, play, retry, stop], T0, T0 + DAY, 10) == expected
    assert await store.top_movies(T0, T0 + DAY, 10) == expected


async def test_text_of_any_kind_is_stored_as_given(open_store: Opener) -> None:
    odd = "it's a \\ 'quoted' \t\x01 ünïcødé 🎬 ids\u0000"
    store = await open_store()
    events = [
        PlaybackEvent("a", odd, odd, "play", 0, T0, T0, device=odd, playback_session_id=odd),
        PlaybackEvent("b", odd, odd, "stop", 5000, T0 + 5000, T0 + 5000, playback_session_id=odd),
    ]
    await store.insert(EventBatch("t", 0, 0, 1, events))
    assert await store.watch_history(odd, 10) == viewing_time.watch_history(events, odd, 10)
    assert await store.watch_history(odd, 10) != []
    assert await store.movie_totals([odd]) == [viewing_time.MovieTotals(odd, 5000, 1)]


async def test_an_empty_batch_and_an_empty_store_answer_nothing(open_store: Opener) -> None:
    store = await open_store()
    await store.insert(EventBatch("t", 0, 0, 0, []))
    assert await store.top_movies(0, 2**62, 10) == []
    assert await store.watch_history("u", 10) == []
    assert await store.movie_totals(["m"]) == [viewing_time.MovieTotals("m", 0, 0)]
    assert await store.movie_totals([]) == []


async def test_prepare_twice_keeps_the_data(open_store: Opener) -> None:
    store = await open_store()
    events = generate(3, StreamShape(viewings=20))
    await insert_all(store, events)
    again = await open_store()
    assert await again.top_movies(0, 2**62, 100) == viewing_time.top_movies(events, 0, 2**62, 100)


# --- the engine cannot answer -----------------------------------------------------------------------------------


async def test_a_chdb_directory_another_process_holds_is_a_clear_unavailable(chdb_dir: Path) -> None:
    holder = ChdbPlaybackAnalytics(chdb_dir, database="lock_probe")
    await holder.prepare()
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from meshkit.errors import Unavailable\n"
        "from sink_svc.adapters.chdb_playback_analytics import ChdbPlaybackAnalytics\n"
        "try:\n"
        "    asyncio.run(ChdbPlaybackAnalytics(Path(sys.argv[1])).prepare())\n"
        "except Unavailable as error:\n"
        "    print('Unavailable:', error)\n"
    )
    second = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script, str(chdb_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Unavailable: chDB cannot open" in second.stdout, second.stdout + second.stderr
    assert "another process holds it" in second.stdout
    await holder.close()


async def test_another_chdb_directory_in_the_same_process_is_a_clear_unavailable(
    chdb_dir: Path, tmp_path: Path
) -> None:
    holder = ChdbPlaybackAnalytics(chdb_dir, database="lock_probe")
    await holder.prepare()
    other = ChdbPlaybackAnalytics(tmp_path / "other")
    with pytest.raises(Unavailable, match="already holds another chDB data directory"):
        await other.prepare()
    await holder.close()


async def test_each_engine_gets_the_table_its_release_supports(chdb_dir: Path, clickhouse: ClickHouse) -> None:
    # chDB (26.9): codecs, a TTL when retention is set, insert deduplication; 18.16: none of them, the same columns.
    database = f"ddl_{uuid.uuid4().hex[:12]}"
    embedded = ChdbPlaybackAnalytics(chdb_dir, database=database, retention_months=24)
    await embedded.prepare()
    reader = chdb_session.Session(str(chdb_dir))  # type: ignore[no-untyped-call]
    try:
        modern = str(reader.query(f"SHOW CREATE TABLE {database}.playback_events", "TSVRaw"))  # type: ignore[no-untyped-call]
    finally:
        reader.close()  # type: ignore[no-untyped-call]
        await embedded.close()
    assert "CODEC(ZSTD(3))" in modern
    assert "TTL toDateTime(intDiv(server_time_ms, 1000), 'UTC') + toIntervalMonth(24)" in modern
    assert "non_replicated_deduplication_window = 10000" in modern

    tcp = clickhouse.endpoints()["tcp"]
    server = ClickHousePlaybackAnalytics(f"clickhouse://{tcp}/{database}", retention_months=24)
    await server.prepare()
    await server.close()
    host, port = tcp.rsplit(":", 1)
    client = Client(host, port=int(port), connect_timeout=5, send_receive_timeout=30)
    try:
        ((old,),) = client.execute(f"SHOW CREATE TABLE {database}.playback_events")
        columns = client.execute(f"SELECT name, type FROM system.columns WHERE database = '{database}'")
    finally:
        client.execute(f"DROP DATABASE IF EXISTS {database}")
        client.disconnect()
    assert "CODEC" not in old
    assert "TTL" not in old
    assert "ReplacingMergeTree(keep_first)" in old
    assert len(columns) == 10
