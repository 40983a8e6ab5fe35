"""A spool file for acknowledged events, in front of the SQLite database.

On SQLite every writer shares one lock for the whole file, so an acknowledgement that inserted
straight into the database waited behind whatever transaction a worker process held (a replayed
report with its triage and outbox rows). The receiving process therefore commits each event to
its own small SQLite file, `<database>.inbox-spool`, which nothing but this process writes, and
acknowledges; a mover thread then copies the spooled events into the database's inbox in batches
and deletes them from the spool. The spool is durable in the same way as the database (WAL, a
commit per batch), so an event acknowledged and then lost to a kill -9 is moved at the next start.

PostgreSQL locks rows, not the database, so there the writer inserts into the inbox directly.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine, make_url

SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    retry_num TEXT,
    retries_seen INTEGER NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Spooled:
    seq: int
    body: dict[str, Any]
    retry_num: str | None
    retries_seen: int  # Slack retries of this event that arrived while it waited here
    received_at: datetime


def spool_path(engine: Engine, *, configured: str | None = None) -> Path | None:
    """The configured file (HYPERCARE_INBOX_SPOOL) if any; else `<database>.inbox-spool` for a
    SQLite file, and None for PostgreSQL or an in-memory database."""
    if configured:
        return Path(configured).expanduser()
    url = make_url(str(engine.url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = Path(url.database).expanduser()
    return database.with_name(database.name + ".inbox-spool")


class InboxSpool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()  # one connection per thread (writer, mover)
        # The writer and the mover are threads of one process: a lock hands the file over at once,
        # where SQLite's busy handler would sleep and poll.
        self._write_lock = threading.Lock()
        self.removed_since_truncate = False
        self._connection().executescript(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash, as the database
            # A moved event's text does not linger in free pages (nor in the -wal file, which the
            # mover empties once idle: truncate_wal), and acknowledgements never truncate anything.
            connection.execute("PRAGMA secure_delete=ON")
            # No checkpoint (and its fsync) inside an acknowledgement's commit: the mover does it.
            connection.execute("PRAGMA wal_autocheckpoint=0")
            self._local.connection = connection
        return connection

    def add(self, items: list[tuple[dict[str, Any], str | None, datetime]], *, raw: str | None = None) -> list[bool]:
        """Commit each event; for each, False when that event_id is already waiting here (a retry:
        counted, not stored twice). `raw`: the JSON text of a single event as Slack sent it, stored
        as it is instead of serialising the parsed body again."""
        connection = self._connection()
        outcomes = []
        for body, retry_num, received_at in items:
            event_id = str(body["event_id"])
            text = raw if raw is not None and len(items) == 1 else json.dumps(body, separators=(",", ":"))
            row = (event_id, text, retry_num, received_at.isoformat())
            # One autocommitted statement under the lock: the holder gives up the GIL once (inside
            # SQLite) and needs it back once, so request threads do not queue behind GIL handovers.
            with self._write_lock:
                new = connection.execute(
                    "INSERT OR IGNORE INTO spool (event_id, body, retry_num, received_at) VALUES (?, ?, ?, ?)", row
                ).rowcount == 1
                if not new:
                    connection.execute("UPDATE spool SET retries_seen = retries_seen + 1 WHERE event_id = ?", (event_id,))
            outcomes.append(new)
        return outcomes

    def oldest(self, *, limit: int) -> list[Spooled]:
        rows = self._connection().execute(
            "SELECT seq, body, retry_num, retries_seen, received_at FROM spool ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [
            Spooled(seq=seq, body=json.loads(body), retry_num=retry, retries_seen=seen, received_at=datetime.fromisoformat(at))
            for seq, body, retry, seen, at in rows
        ]

    def remove(self, *, through_seq: int) -> dict[int, int]:
        """Delete what was moved; returns each deleted row's retries_seen, which a retry that arrived
        during the move has raised beyond what the mover read."""
        connection = self._connection()
        with self._write_lock:
            rows = connection.execute("DELETE FROM spool WHERE seq <= ? RETURNING seq, retries_seen", (through_seq,)).fetchall()
        # PASSIVE never waits for, nor blocks, the request threads' commits; what it cannot copy
        # back now, it copies next time.
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.removed_since_truncate = True
        return {int(seq): int(seen) for seq, seen in rows}

    def truncate_wal(self) -> None:
        """Empty the -wal file, which still holds copies of moved events' pages (with their text)
        until overwritten. Under the write lock: an acknowledgement waits a moment on the lock
        instead of SQLite's busy handler; the mover calls this only when the spool is idle."""
        with self._write_lock:
            self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        self.removed_since_truncate = False

    def count(self) -> int:
        return int(self._connection().execute("SELECT count(*) FROM spool").fetchone()[0])

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
