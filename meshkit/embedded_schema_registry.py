"""The embedded profile's schema registry: subjects and their schema versions, in the embedded log's file.

It keeps what a Confluent-compatible registry keeps for the wire format: each distinct schema gets a stable
integer id (the one framed into every record), and each subject lists its schemas as versions 1, 2, ...
Registering a schema a subject already has returns its id and adds no version; the same schema under two
subjects has one id. It does not check compatibility between versions: the devstack's registry does
(`make schemas` sets BACKWARD on every subject), and the contract tests run against it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from meshkit.avro_wire import AvroSchema
from meshkit.embedded_log import EmbeddedLog, transaction
from meshkit.errors import NotFound


@dataclass(frozen=True)
class RegisteredSchema:
    subject: str
    version: int
    schema_id: int
    schema: AvroSchema


class EmbeddedSchemaRegistry:
    def __init__(self, log: EmbeddedLog) -> None:
        self._log = log

    def register(self, subject: str, schema: AvroSchema) -> int:
        """The schema's id, registering it under `subject` as its next version when the subject lacks it."""

        def run(db: sqlite3.Connection) -> int:
            with transaction(db):
                db.execute("INSERT OR IGNORE INTO schemas (schema) VALUES (?)", (schema.text,))
                (schema_id,) = db.execute("SELECT id FROM schemas WHERE schema = ?", (schema.text,)).fetchone()
                db.execute(
                    "INSERT OR IGNORE INTO subject_versions (subject, version, schema_id) "
                    "SELECT ?, COALESCE(MAX(version), 0) + 1, ? FROM subject_versions WHERE subject = ?",
                    (subject, schema_id, subject),
                )
            return int(schema_id)

        return self._log.call(run)

    def lookup(self, subject: str, schema: AvroSchema) -> RegisteredSchema | None:
        """The version of `subject` holding exactly this schema, or None."""
        row = self._log.call(
            lambda db: db.execute(
                "SELECT v.version, s.id FROM subject_versions v JOIN schemas s ON s.id = v.schema_id "
                "WHERE v.subject = ? AND s.schema = ?",
                (subject, schema.text),
            ).fetchone()
        )
        return None if row is None else RegisteredSchema(subject, int(row[0]), int(row[1]), schema)

    def latest(self, subject: str) -> RegisteredSchema:
        """The subject's newest version; NotFound when it has none."""
        row = self._log.call(
            lambda db: db.execute(
                "SELECT v.version, s.id, s.schema FROM subject_versions v JOIN schemas s ON s.id = v.schema_id "
                "WHERE v.subject = ? ORDER BY v.version DESC LIMIT 1",
                (subject,),
            ).fetchone()
        )
        if row is None:
            raise NotFound(f"the embedded registry has no subject {subject!r}")
        return RegisteredSchema(subject, int(row[0]), int(row[1]), AvroSchema.parse(row[2]))

    def schema(self, schema_id: int) -> AvroSchema:
        """The schema with this id (what a consumer does with the id in a record's header); NotFound if none."""
        row = self._log.call(lambda db: db.execute("SELECT schema FROM schemas WHERE id = ?", (schema_id,)).fetchone())
        if row is None:
            raise NotFound(f"the embedded registry has no schema with id {schema_id}")
        return AvroSchema.parse(row[0])
