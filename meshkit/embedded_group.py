"""Consumer groups on the embedded log: members with sessions, and one owner per partition with a generation.

Kafka keeps this in its group coordinator; here it sits in the log's SQLite file, so members in several processes
see one another. Every member runs the same steps at each poll:

- it renews its session (`last_seen_ms`); a member not seen for its session timeout is removed by whoever looks
  next, and its partitions become free;
- from the live members of the group it computes the target assignment: for each topic, its subscribers sorted
  by member id, partition i to subscriber i modulo their count (every member computes the same target);
- it gives up the partitions the target gives to others (its listener hears `revoked` first, while it still owns
  them) and takes the free partitions the target gives it, each take raising the partition's generation.

A partition another member still owns is never taken: it moves only once its owner released it or its session
expired, so two members never read one partition at once. Commits are fenced by owner and generation in the
same transaction that writes the offset.

Times are wall-clock milliseconds (`time.time`), the clock every process on the machine shares.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from meshkit.embedded_log import transaction
from meshkit.errors import FailedPrecondition
from meshkit.event_consumer import CommitRefused, TopicPartition

# A member renews its session this many times per session timeout (a write, synced): often enough that a member
# that keeps polling never looks expired to the others.
RENEWALS_PER_SESSION = 4


@dataclass
class Plan:
    """What one step found: partitions lost (taken while this member was away), to revoke, and acquired (with
    their new generation and the group's committed offset)."""

    lost: set[TopicPartition] = field(default_factory=set)
    revoke: dict[TopicPartition, int] = field(default_factory=dict)
    acquired: dict[TopicPartition, tuple[int, int | None]] = field(default_factory=dict)
    members_changed: bool = False
    """This member's session had lapsed, or others' had: the group's rows need a write even if this member's
    partitions stay as they are."""

    def needs_write(self) -> bool:
        return bool(self.lost or self.revoke or self.acquired or self.members_changed)


@dataclass(frozen=True)
class Member:
    group: str
    member_id: str
    topics: tuple[str, ...]
    session_timeout_ms: int


def join(db: sqlite3.Connection, member: Member, now_ms: int) -> None:
    """Register `member` (its topics must exist: FailedPrecondition otherwise)."""
    with transaction(db):
        for topic in member.topics:
            _partition_count(db, topic)
        _upsert_member(db, member, now_ms)


def step(
    db: sqlite3.Connection, member: Member, owned: Mapping[TopicPartition, int], now_ms: int, last_renewal_ms: int
) -> tuple[Plan, bool]:
    """One rebalance step for `member`, which believes it owns `owned` (partition → generation); and whether its
    session was renewed.

    Looks first without writing; opens a write transaction only when something changed or the session is due for
    renewal, so idle members do not queue for the write lock on every poll.
    """
    renewal_due = now_ms - last_renewal_ms >= member.session_timeout_ms // RENEWALS_PER_SESSION
    if not renewal_due and not _plan(db, member, owned, now_ms, write=False).needs_write():
        return Plan(), False
    with transaction(db):
        plan = _plan(db, member, owned, now_ms, write=True)
    return plan, True


def release(db: sqlite3.Connection, member: Member, partitions: Mapping[TopicPartition, int]) -> None:
    """Give up these partitions (held at these generations), keeping their generation for the next owner."""
    with transaction(db):
        for (topic, partition), generation in partitions.items():
            db.execute(
                "UPDATE partition_owners SET member_id = NULL "
                "WHERE group_id = ? AND topic = ? AND partition = ? AND member_id = ? AND generation = ?",
                (member.group, topic, partition, member.member_id, generation),
            )


def leave(db: sqlite3.Connection, member: Member) -> None:
    with transaction(db):
        _remove_member(db, member.group, member.member_id)


def commit(
    db: sqlite3.Connection,
    member: Member,
    owned: Mapping[TopicPartition, int],
    offsets: Mapping[TopicPartition, int],
    now_ms: int,
) -> None:
    """Write the group's offsets if `member` still owns every partition at the generation it believes; otherwise
    CommitRefused, and nothing is written."""
    with transaction(db):
        row = db.execute(
            "SELECT last_seen_ms, session_timeout_ms FROM group_members WHERE group_id = ? AND member_id = ?",
            (member.group, member.member_id),
        ).fetchone()
        if row is None or row[0] + row[1] < now_ms:
            raise CommitRefused(
                f"member {member.member_id} of group {member.group!r} is not in the group any more (its session "
                f"expired): its partitions belong to other members"
            )
        refused = []
        for tp in offsets:
            current = db.execute(
                "SELECT member_id, generation FROM partition_owners WHERE group_id = ? AND topic = ? AND partition = ?",
                (member.group, tp.topic, tp.partition),
            ).fetchone()
            if current is None or current[0] != member.member_id or owned.get(tp) != current[1]:
                refused.append(tp)
        if refused:
            named = ", ".join(f"{t}[{p}]" for t, p in sorted(refused))
            raise CommitRefused(f"member {member.member_id} of group {member.group!r} does not own {named}")
        for (topic, partition), offset in offsets.items():
            db.execute(
                'INSERT INTO group_offsets (group_id, topic, partition, "offset") VALUES (?, ?, ?, ?) '
                'ON CONFLICT (group_id, topic, partition) DO UPDATE SET "offset" = excluded."offset"',
                (member.group, topic, partition, offset),
            )


def _plan(
    db: sqlite3.Connection, member: Member, owned: Mapping[TopicPartition, int], now_ms: int, *, write: bool
) -> Plan:
    plan = Plan()
    live, expired = _live_members(db, member, owned, now_ms, plan, write=write)
    for topic in member.topics:
        subscribers = sorted(m for m, topics in live.items() if topic in topics)
        for partition in range(_partition_count(db, topic)):
            tp = TopicPartition(topic, partition)
            current = db.execute(
                "SELECT member_id, generation FROM partition_owners WHERE group_id = ? AND topic = ? AND partition = ?",
                (member.group, topic, partition),
            ).fetchone()
            owner, generation = (None, 0) if current is None else (current[0], current[1])
            if owner in expired:
                owner = None
            if tp in owned and (owner != member.member_id or generation != owned[tp]):
                plan.lost.add(tp)
            if tp not in plan.lost:
                target = subscribers[partition % len(subscribers)]
                _decide(db, member, tp=tp, owner=owner, generation=generation, target=target, plan=plan, write=write)
    return plan


def _live_members(
    db: sqlite3.Connection,
    member: Member,
    owned: Mapping[TopicPartition, int],
    now_ms: int,
    plan: Plan,
    *,
    write: bool,
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The group's live members with their topics, and the expired ones (removed when writing)."""
    group, me = member.group, member.member_id
    row = db.execute(
        "SELECT last_seen_ms, session_timeout_ms FROM group_members WHERE group_id = ? AND member_id = ?",
        (group, me),
    ).fetchone()
    if row is None or row[0] + row[1] < now_ms:
        # This member was away longer than its session: whatever it held may be someone else's by now.
        plan.lost = set(owned)
        plan.members_changed = True
        if write:
            _remove_member(db, group, me)
    if write:
        _upsert_member(db, member, now_ms)
    expired = [
        member_id
        for member_id, last_seen, timeout in db.execute(
            "SELECT member_id, last_seen_ms, session_timeout_ms FROM group_members WHERE group_id = ?", (group,)
        )
        if last_seen + timeout < now_ms and member_id != me
    ]
    plan.members_changed = plan.members_changed or bool(expired)
    if write:
        for member_id in expired:
            _remove_member(db, group, member_id)
    live = {
        member_id: tuple(json.loads(topics))
        for member_id, topics in db.execute("SELECT member_id, topics FROM group_members WHERE group_id = ?", (group,))
        if member_id not in expired
    }
    live[me] = member.topics
    return live, expired


def _decide(
    db: sqlite3.Connection,
    member: Member,
    *,
    tp: TopicPartition,
    owner: str | None,
    generation: int,
    target: str,
    plan: Plan,
    write: bool,
) -> None:
    """Give up a partition the target gives to another member; take a free one the target gives to this one."""
    me = member.member_id
    if owner == me and target != me:
        plan.revoke[tp] = generation
    elif owner is None and target == me:
        committed = db.execute(
            'SELECT "offset" FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?',
            (member.group, tp.topic, tp.partition),
        ).fetchone()
        plan.acquired[tp] = (generation + 1, None if committed is None else int(committed[0]))
        if write:
            db.execute(
                "INSERT INTO partition_owners (group_id, topic, partition, member_id, generation) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id, topic, partition) "
                "DO UPDATE SET member_id = excluded.member_id, generation = excluded.generation",
                (member.group, tp.topic, tp.partition, me, generation + 1),
            )


def _upsert_member(db: sqlite3.Connection, member: Member, now_ms: int) -> None:
    db.execute(
        "INSERT INTO group_members (group_id, member_id, topics, session_timeout_ms, last_seen_ms) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id, member_id) DO UPDATE SET "
        "topics = excluded.topics, session_timeout_ms = excluded.session_timeout_ms, "
        "last_seen_ms = excluded.last_seen_ms",
        (member.group, member.member_id, json.dumps(list(member.topics)), member.session_timeout_ms, now_ms),
    )


def _remove_member(db: sqlite3.Connection, group: str, member_id: str) -> None:
    db.execute("DELETE FROM group_members WHERE group_id = ? AND member_id = ?", (group, member_id))
    db.execute("UPDATE partition_owners SET member_id = NULL WHERE group_id = ? AND member_id = ?", (group, member_id))


def _partition_count(db: sqlite3.Connection, topic: str) -> int:
    row = db.execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
    if row is None:
        raise FailedPrecondition(f"the event log has no topic {topic!r}")
    return int(row[0])


def partitions_of(partitions: Collection[TopicPartition]) -> str:
    return ", ".join(f"{topic}[{partition}]" for topic, partition in sorted(partitions))
