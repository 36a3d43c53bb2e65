"""A batch of playback events: every broken rule named at once by its place in the batch, the batch taken whole or
refused whole; the domain's rules are the contract's (buf.validate in ugc.proto), so the two cannot drift apart."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import protovalidate
import pytest
from buf.validate import validate_pb2
from cinemesh.ugc.v1 import ugc_pb2

from meshkit.errors import InvalidArgument
from ugc_svc.domain.event_batch import (
    CLIENT_TIME_RULE,
    MAX_BATCH,
    MAX_CLIENT_TIME_AGE,
    MAX_CLIENT_TIME_AHEAD,
    MAX_DEVICE_CHARS,
    MAX_ID_CHARS,
    SubmittedEvent,
    accept_batch,
)
from ugc_svc.domain.playback import PLAYER_TYPES, EventType

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def event(**overrides: object) -> SubmittedEvent:
    fields: dict[str, object] = {
        "event_id": "e-1",
        "movie_id": "tt0076759",
        "type": "play",
        "position_ms": 1500,
        "client_time": NOW - timedelta(seconds=2),
    }
    fields.update(overrides)
    return SubmittedEvent(**fields)  # type: ignore[arg-type]


def accept(*events: SubmittedEvent) -> list[object]:
    ids = (f"server-{n}" for n in itertools.count())
    return list(accept_batch(events, user_id="u-42", server_time=NOW, new_event_id=lambda: next(ids)))


def violations(*events: SubmittedEvent) -> list[tuple[str, str]]:
    with pytest.raises(InvalidArgument) as refused:
        accept(*events)
    return [(v.field, v.reason) for v in refused.value.violations]


def test_a_valid_batch_becomes_events_of_the_user_in_order() -> None:
    accepted = accept_batch(
        [event(), event(event_id="", type="seek_back", position_ms=0, device="tv", session_id="s1")],
        user_id="u-42",
        server_time=NOW,
        new_event_id=lambda: "generated",
    )
    assert [(e.event_id, e.type, e.position_ms) for e in accepted] == [
        ("e-1", EventType.PLAY, 1500),
        ("generated", EventType.SEEK_BACK, 0),
    ]
    assert {e.user_id for e in accepted} == {"u-42"}
    assert {e.server_time for e in accepted} == {NOW}
    assert accepted[0].client_time == NOW - timedelta(seconds=2)
    assert (accepted[1].device, accepted[1].playback_session_id) == ("tv", "s1")
    assert (accepted[0].device, accepted[0].playback_session_id) == (None, None)


def test_every_bad_event_is_named_at_once() -> None:
    found = violations(
        event(),
        event(movie_id="", position_ms=-1),
        event(),
        event(type="rewind", client_time=None, event_id="has space"),
        event(client_time=NOW + MAX_CLIENT_TIME_AHEAD + timedelta(seconds=1), device="d" * (MAX_DEVICE_CHARS + 1)),
    )
    assert found == [
        ("events[1].movie_id", "required"),
        ("events[1].position_ms", "int32.gte"),
        ("events[3].event_id", "string.pattern"),
        ("events[3].type", "string.in"),
        ("events[3].client_time", "required"),
        ("events[4].client_time", "client_time.within_bounds"),
        ("events[4].device", "string.max_len"),
    ]


@pytest.mark.parametrize(
    ("moment", "ok"),
    [
        (NOW - MAX_CLIENT_TIME_AGE, True),
        (NOW - MAX_CLIENT_TIME_AGE - timedelta(milliseconds=1), False),
        (NOW + MAX_CLIENT_TIME_AHEAD, True),
        (NOW + MAX_CLIENT_TIME_AHEAD + timedelta(milliseconds=1), False),
        (datetime(2026, 12, 1, 12, 0), False),  # naive: its zone is unknown
    ],
)
def test_client_time_bounds(moment: datetime, ok: bool) -> None:
    if ok:
        assert accept(event(client_time=moment))
    else:
        assert violations(event(client_time=moment)) == [("events[0].client_time", "client_time.within_bounds")]


def test_batch_size() -> None:
    assert violations() == [("events", "required")]
    assert len(accept(*[event(event_id=f"e{n}") for n in range(MAX_BATCH)])) == MAX_BATCH
    assert violations(*[event()] * (MAX_BATCH + 1)) == [("events", "repeated.max_items")]


def test_ids_are_short_and_plain() -> None:
    assert accept(event(event_id="x" * MAX_ID_CHARS, movie_id="m" * MAX_ID_CHARS, session_id="a:b.c_d-e"))
    assert violations(event(event_id="x" * (MAX_ID_CHARS + 1), movie_id="m" * (MAX_ID_CHARS + 1))) == [
        ("events[0].event_id", "string.pattern"),
        ("events[0].movie_id", "string.pattern"),
    ]


# --- the contract declares the same rules ---------------------------------------------------------------------------


def field_rules(
    message: type[ugc_pb2.PlaybackEvent | ugc_pb2.RecordPlaybackEventsRequest], name: str
) -> validate_pb2.FieldRules:
    declared: validate_pb2.FieldRules = (
        message.DESCRIPTOR.fields_by_name[name].GetOptions().Extensions[validate_pb2.field]
    )
    return declared


def test_the_contract_declares_the_domains_bounds() -> None:
    batch = field_rules(ugc_pb2.RecordPlaybackEventsRequest, "events").repeated
    assert (batch.min_items, batch.max_items) == (1, MAX_BATCH)
    assert list(getattr(field_rules(ugc_pb2.PlaybackEvent, "type").string, "in")) == list(PLAYER_TYPES)
    for name in ("event_id", "movie_id", "session_id"):
        assert field_rules(ugc_pb2.PlaybackEvent, name).string.max_len == MAX_ID_CHARS
    assert field_rules(ugc_pb2.PlaybackEvent, "device").string.max_len == MAX_DEVICE_CHARS
    assert field_rules(ugc_pb2.PlaybackEvent, "position_ms").int32.gte == 0
    (rule,) = field_rules(ugc_pb2.PlaybackEvent, "client_time").cel
    assert rule.id == "client_time.within_bounds"
    assert rule.message == CLIENT_TIME_RULE
    assert f"duration('{int(MAX_CLIENT_TIME_AGE.total_seconds())}s')" in rule.expression
    assert f"duration('{int(MAX_CLIENT_TIME_AHEAD.total_seconds())}s')" in rule.expression


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"movie_id": ""},
        {"movie_id": "a b"},
        {"event_id": "ok:id"},
        {"event_id": "x" * 65},
        {"type": "rewind"},
        {"type": ""},
        {"type": "seek_forward"},
        {"position_ms": -1},
        {"client_time": NOW - timedelta(days=8)},
        {"client_time": NOW + timedelta(minutes=6)},
        {"session_id": "s/1"},
        {"device": "d" * 129},
    ],
    ids=repr,
)
def test_contract_and_domain_agree_on_an_event(overrides: dict[str, object]) -> None:
    """Judged now by both: the contract's CEL rule reads the validator's clock."""
    now = datetime.now(UTC)
    shifted = {k: (v - NOW + now if isinstance(v, datetime) else v) for k, v in overrides.items()}
    submitted = (
        event(client_time=now - timedelta(seconds=2), **shifted) if "client_time" not in shifted else event(**shifted)
    )
    message = ugc_pb2.PlaybackEvent(
        event_id=submitted.event_id, movie_id=submitted.movie_id, type=submitted.type, position_ms=submitted.position_ms
    )
    assert submitted.client_time is not None
    message.client_time.FromDatetime(submitted.client_time)
    if submitted.device is not None:
        message.device = submitted.device
    if submitted.session_id is not None:
        message.session_id = submitted.session_id
    request = ugc_pb2.RecordPlaybackEventsRequest(events=[message])
    contract = sorted({v.proto.rule_id for v in protovalidate.collect_violations(request)})
    try:
        accept_batch([submitted], user_id="u", server_time=now, new_event_id=lambda: "g")
        domain: list[str] = []
    except InvalidArgument as refused:
        domain = sorted({v.reason for v in refused.violations})
    # The contract spells "not blank and at most 64" as three rules; the domain as one pattern.
    contract = sorted(
        {"string.pattern" if r == "string.max_len" and "device" not in overrides else r for r in contract}
    )
    assert domain == contract


def test_a_player_cannot_send_a_progress_report_as_a_playback_event() -> None:
    with pytest.raises(InvalidArgument) as refused:
        accept_batch(
            [SubmittedEvent("", "tt1", "progress", 1, NOW)], user_id="u", server_time=NOW, new_event_id=lambda: "x"
        )
    assert [(v.field, v.reason) for v in refused.value.violations] == [("events[0].type", "string.in")]
