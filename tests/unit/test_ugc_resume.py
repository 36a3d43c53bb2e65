"""Resume positions: the order that decides which report holds, the finished rule and what a report may hold."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from meshkit.errors import InvalidArgument
from ugc_svc.domain.resume import ResumePosition, WatchingKey, reaches_the_credits

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def at(client_ms: int, server_ms: int = 0, report_id: str = "r", **fields: object) -> ResumePosition:
    values: dict[str, object] = {"user_id": "u", "movie_id": "m", "position_ms": 1000}
    values.update(fields)
    return ResumePosition(
        client_time=T0 + timedelta(milliseconds=client_ms),
        server_time=T0 + timedelta(milliseconds=server_ms),
        report_id=report_id,
        **values,  # type: ignore[arg-type]
    )


def test_client_time_then_server_time_then_report_id_decide() -> None:
    ordered = [at(1, 9, "z"), at(2, 0, "a"), at(2, 1, "a"), at(2, 1, "b"), at(2, 1, "ba"), at(10, 0, "a")]
    for older, newer in itertools.pairwise(ordered):
        assert newer.is_newer_than(older)
        assert not older.is_newer_than(newer)


def test_the_key_compares_as_the_order_does_across_digit_counts() -> None:
    # 999 ms and 1000 ms: a key without fixed-width numbers would put "1000" before "999".
    assert at(1000).is_newer_than(at(999))
    assert at(0, 1000).is_newer_than(at(0, 999))


def test_a_report_is_not_newer_than_itself() -> None:
    assert not at(5).is_newer_than(at(5))
    assert at(5) == at(5)


def test_times_are_kept_in_utc_to_the_millisecond() -> None:
    moscow = timezone(timedelta(hours=3))
    position = ResumePosition("u", "m", 0, datetime(2026, 12, 1, 15, 0, 0, 999_999, tzinfo=moscow), T0, "r")
    assert position.client_time == datetime(2026, 12, 1, 12, 0, 0, 999_000, tzinfo=UTC)
    assert position.client_time.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("position_ms", "duration_ms", "finished"),
    [(9_500, 10_000, True), (9_499, 10_000, False), (12_000, 10_000, True), (10**9, None, False), (0, 1, False)],
)
def test_the_credits_are_the_last_five_percent_of_a_known_duration(
    position_ms: int, duration_ms: int | None, finished: bool
) -> None:
    assert reaches_the_credits(position_ms, duration_ms) is finished
    assert at(1, position_ms=position_ms, duration_ms=duration_ms).finished is finished


def test_a_report_may_say_it_is_finished_anywhere() -> None:
    assert at(1, position_ms=10, finished=True).finished


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"position_ms": -1}, "position_ms"),
        ({"duration_ms": 0}, "duration_ms"),
        ({"user_id": ""}, "user_id"),
        ({"movie_id": "x" * 129}, "movie_id"),
        ({"movie_id": "a\nb"}, "movie_id"),
        ({"user_id": "\ud800"}, "user_id"),
        ({"device": "d" * 129}, "device"),
        ({"report_id": ""}, "report_id"),
        ({"client_time": datetime(2026, 1, 1)}, "client_time"),
        ({"server_time": datetime(1969, 12, 31, tzinfo=UTC)}, "server_time"),
    ],
)
def test_a_bad_report_names_its_field(fields: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "user_id": "u", "movie_id": "m", "position_ms": 0, "client_time": T0, "server_time": T0, "report_id": "r",
    }  # fmt: skip
    values.update(fields)
    with pytest.raises(InvalidArgument) as raised:
        ResumePosition(**values)  # type: ignore[arg-type]
    assert [v.field for v in raised.value.violations] == [field]


def test_the_watching_cursor_round_trips() -> None:
    key = WatchingKey.of(at(5, movie_id="tt1 «Ёлки»"))
    assert WatchingKey.from_cursor(key.cursor()) == key
