"""Deleting what the bot no longer needs: inbox events and outbox messages that finished (done, or
parked after their attempts) more than HYPERCARE_RETENTION_DAYS ago. A handled event's body is
already cut down to ids (bot.delivery.inbox.handled_body); an outbox row still holds the text it posted,
and a parked row the body it could not handle, until this deletes them.

On SQLite the main file runs with `secure_delete` (models.db), so deleted rows are overwritten
with zeros; after deleting, a TRUNCATE checkpoint copies the log back and empties the -wal file,
which would otherwise keep older copies of the pages until they were overwritten. What remains is
in docs/delivery.md.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.runtime import log
from models import queue
from models.db import session_scope
from models.tables import OutboxMessage, SlackEvent


RUN_SECONDS = 3600.0
BATCH = 500  # rows per transaction: the write lock is never held long


def run(*, engine: Engine, days: float, now: datetime) -> dict[str, int]:
    """Delete what finished before `now - days`; returns how many rows per table. days <= 0: keep all."""
    deleted = {"slack_event": 0, "outbox_message": 0}
    if days <= 0:
        return deleted
    cutoff = now - timedelta(days=days)
    for table, model in (("slack_event", SlackEvent), ("outbox_message", OutboxMessage)):
        while True:
            with session_scope(engine) as session:
                count = queue.delete_finished(session, model, before=cutoff, batch=BATCH)  # type: ignore[type-var]
            deleted[table] += count
            if count < BATCH:
                break
        if deleted[table]:
            log.retention_deleted(table, deleted[table], days)
    if engine.dialect.name == "sqlite":
        truncate_wal(engine)
    return deleted


def truncate_wal(engine: Engine) -> None:
    """Checkpoint SQLite's log into the main file and empty it. Writers wait (on the busy timeout)
    while it runs: a moment, as the checkpointer keeps the log short."""
    connection = engine.raw_connection()
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        connection.close()
