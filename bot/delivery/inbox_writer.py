"""Storing each Slack event before Slack gets its 200.

On SQLite (and on PostgreSQL when HYPERCARE_INBOX_SPOOL names a file) the request thread commits
the event to the spool (bot.delivery.inbox_spool), a local file only this process writes, and a mover
thread copies spooled events into the inbox table in batches.

Otherwise, on PostgreSQL, each commit is a round trip to the server, so request threads hand their
event to one writer thread and wait; the writer inserts whatever has queued up in one statement
and wakes them all (group commit): under a burst, a few short transactions instead of many, and
each acknowledgement waits about one commit.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection, Engine

from bot.runtime import log
from bot.delivery.inbox_spool import InboxSpool, spool_path
from models.tables import SlackEvent
from models.types import utcnow

MAX_BATCH = 200
MOVE_BATCH = 500
# During a burst, acknowledging comes first: the mover (and the work each move sets off) waits
# for a pause this long in the stream of events ...
MOVE_QUIET = 0.01
# ... but never longer than this after it was woken.
MOVE_MAX_DELAY = 1.0
Item = tuple[dict[str, Any], str | None, datetime]  # body, X-Slack-Retry-Num, received at


LANE_CHARS = 64  # the lane column; a longer value is not a Slack id


def _id_of(value: Any) -> str | None:
    """A Slack id from a field that is an id, or an object with one (channel_created's channel)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= LANE_CHARS else None


def event_lane(body: dict[str, Any]) -> str | None:
    """The channel (else the user) an event is about: events of one lane are worked in order.
    Whatever the fields hold, this never fails: the acknowledgement depends on it."""
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    item = event.get("item") if isinstance(event.get("item"), dict) else {}
    return _id_of(event.get("channel")) or _id_of(item.get("channel")) or _id_of(event.get("user"))


def _event_type(body: dict[str, Any]) -> str:
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    return (str(event.get("type", "")) + (f".{event['subtype']}" if event.get("subtype") else ""))[:64]


def _row(body: dict[str, Any], received_at: datetime) -> dict[str, Any]:
    team_id = body.get("team_id")
    return {
        "event_id": str(body.get("event_id") or ""), "team_id": team_id if isinstance(team_id, str) and len(team_id) <= 32 else None,
        "body": body, "lane": event_lane(body),
        "event_type": _event_type(body),
        "status": "pending", "attempts": 0, "retries_seen": 0, "next_attempt_at": received_at, "created_at": received_at,
    }


def _insert_new_only(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(SlackEvent).on_conflict_do_nothing(index_elements=["event_id"]).returning(SlackEvent.event_id)


class InboxWriter:
    """The one way an event gets into the inbox before its acknowledgement (HTTP and Socket Mode)."""

    def __init__(self, engine: Engine, *, on_stored: Callable[[], None] = lambda: None, use_spool: bool = True,
                 spool: str | None = None) -> None:
        self._engine = engine
        self._on_stored = on_stored
        self._statement = _insert_new_only(engine.dialect.name)
        path = spool_path(engine, configured=spool) if use_spool else None
        self._spool = InboxSpool(path) if path is not None else None
        self._queue: queue.Queue[tuple[Item, Future[bool]] | None] = queue.Queue()  # None: stop
        self._writer: threading.Thread | None = None
        self._mover: threading.Thread | None = None
        self._spooled = threading.Event()
        self._flush = threading.Event()         # move now, no waiting for a pause (wait_drained)
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def store(self, body: dict[str, Any], *, retry_num: str | None = None, raw: str | None = None, timeout: float = 10.0) -> bool:
        """Store the event and wait for the commit; False when it was already stored (a retry).
        `raw` is the request's JSON text, if at hand: the spool keeps it as it came.

        Raises when it could not be stored: the caller must then not acknowledge (Slack retries)."""
        self.start()
        if self._spool is not None:
            # A spool commit is a local write with no fsync (WAL, synchronous=NORMAL): cheaper
            # made here than handed to the writer thread and back, two GIL handovers per request.
            [new] = self._spool.add([(body, retry_num, utcnow())], raw=raw)
            self._logged([(body, retry_num)], [new])
            self._spooled.set()
            return new
        done: Future[bool] = Future()
        self._queue.put(((body, retry_num, utcnow()), done))
        return done.result(timeout=timeout)

    def start(self) -> None:
        """Start the group-commit writer (PostgreSQL) or the spool's mover (SQLite), which first
        moves what a crash left behind."""
        with self._lock:
            self._stop.clear()
            if self._spool is None and (self._writer is None or not self._writer.is_alive()):
                self._writer = threading.Thread(target=self._write_loop, name="inbox-writer", daemon=True)
                self._writer.start()
            if self._spool is not None and (self._mover is None or not self._mover.is_alive()):
                self._mover = threading.Thread(target=self._move_loop, name="inbox-mover", daemon=True)
                self._mover.start()

    def stop(self) -> None:
        """Stop the writer (after what is queued; it closes its connection) and the mover (what
        it has not moved waits in the spool for the next start)."""
        self._stop.set()
        self._spooled.set()
        writer, self._writer = self._writer, None
        if writer is not None and writer.is_alive():
            self._queue.put(None)
        for thread in (writer, self._mover):
            if thread is not None:
                thread.join(timeout=5)
        self._mover = None

    def wait_drained(self, *, timeout: float = 10.0) -> bool:
        """True once nothing waits in the spool (always, without one)."""
        deadline = time.monotonic() + timeout
        self._flush.set()
        try:
            while self._spool is not None and self._spool.count() > 0:
                if time.monotonic() > deadline:
                    return False
                self._spooled.set()
                time.sleep(0.01)
            return True
        finally:
            self._flush.clear()

    # -- the group-commit writer (PostgreSQL) --------------------------------------------------
    def _write_loop(self) -> None:
        connection: Connection | None = None
        try:
            while (first := self._queue.get()) is not None:
                batch, stopping = [first], False
                while len(batch) < MAX_BATCH and not stopping:
                    try:
                        queued = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    stopping = queued is None  # stop() was called: write this batch, then end
                    if queued is not None:
                        batch.append(queued)
                connection = self._write_batch(batch, connection)
                if stopping:
                    break
        finally:
            if connection is not None:
                connection.close()

    def _write_batch(self, batch: list[tuple[Item, Future[bool]]], connection: Connection | None) -> Connection | None:
        """Commit one batch and wake its requests; returns the connection to use next time."""
        items = [item for item, _ in batch]
        try:
            if connection is None or connection.closed or connection.invalidated:
                # The writer's own connection, kept: a pooled one would cost a pre-ping round
                # trip to the server on every batch. In autocommit the batch's one INSERT
                # statement commits itself (atomic, durable when it returns): one round trip
                # instead of BEGIN, INSERT, COMMIT.
                connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            outcomes = self._write_inbox(items, connection=connection)
        except Exception as exc:  # the requests answer 500 and Slack retries them
            for _, done in batch:
                done.set_exception(exc)
            if connection is not None:
                connection.close()  # a broken connection is replaced on the next batch
            return None
        self._logged([(body, retry_num) for body, retry_num, _ in items], outcomes)
        for (_, done), new in zip(batch, outcomes):
            done.set_result(new)
        if any(outcomes):
            self._on_stored()
        return connection

    @staticmethod
    def _logged(items: list[tuple[dict[str, Any], str | None]], outcomes: list[bool]) -> None:
        for (body, retry_num), new in zip(items, outcomes):
            if new:
                log.event_stored(str(body.get("event_id")), _event_type(body))
            else:
                log.event_retry_dropped(str(body.get("event_id")), retry_num)

    def _write_inbox(self, items: list[Item], retries_before: list[int] | None = None, *, connection: Connection | None = None) -> list[bool]:
        """Insert into the inbox table; a repeated event_id only counts one more Slack retry."""
        rows = [_row(body, received_at) for body, _, received_at in items]
        first_seen: dict[str, int] = {}
        for index, row in enumerate(rows):
            first_seen.setdefault(row["event_id"], index)
        before = retries_before or [0] * len(rows)
        for index, row in enumerate(rows):
            row["retries_seen"] = before[index]
        unique = [rows[i] for i in sorted(first_seen.values())]
        if connection is None:
            with self._engine.connect() as own:
                return self._insert(own, rows, unique, first_seen, before)
        return self._insert(connection, rows, unique, first_seen, before)

    def _insert(self, connection: Connection, rows: list[dict[str, Any]], unique: list[dict[str, Any]], first_seen: dict[str, int], before: list[int]) -> list[bool]:
        with connection.begin():
            inserted = {r[0] for r in connection.execute(self._statement, unique).all()}
            outcomes = [row["event_id"] in inserted and first_seen[row["event_id"]] == i for i, row in enumerate(rows)]
            for row, new, seen in zip(rows, outcomes, before):
                if not new:
                    connection.execute(
                        update(SlackEvent).where(SlackEvent.event_id == row["event_id"]).values(retries_seen=SlackEvent.retries_seen + 1 + seen)  # type: ignore[arg-type]
                    )
        return outcomes

    # -- the spool's mover -------------------------------------------------------------------
    def _move_loop(self) -> None:
        while not self._stop.is_set():
            if not self._spooled.wait(timeout=0.5) and self._spool is not None and self._spool.removed_since_truncate:
                try:  # idle: clear moved events' text out of the spool's -wal file too
                    self._spool.truncate_wal()
                except Exception as exc:
                    log.worker_crashed("inbox-mover", exc)
                continue
            self._let_burst_pass()
            self._spooled.clear()
            try:
                while not self._stop.is_set() and self.move_batch():
                    pass
            except Exception as exc:  # the database is busy or down: the events wait in the spool
                log.worker_crashed("inbox-mover", exc)
                self._stop.wait(1.0)

    def _let_burst_pass(self) -> None:
        """Wait while events keep arriving (for a pause of MOVE_QUIET, at most MOVE_MAX_DELAY).

        Moving takes the receiving process's CPU and sets the workers going; during a burst that
        would slow every acknowledgement. The events wait safely in the spool meanwhile, and are
        then moved in a few large batches instead of many small ones."""
        deadline = time.monotonic() + MOVE_MAX_DELAY
        while not self._stop.is_set() and not self._flush.is_set():
            self._spooled.clear()
            left = deadline - time.monotonic()
            if left <= 0 or not self._spooled.wait(timeout=min(MOVE_QUIET, left)):
                return

    def move_batch(self) -> int:
        """Copy the oldest spooled events into the inbox, then drop them from the spool.

        A crash between the two steps moves them again; the inbox ignores an event_id it has (and
        counts it as a Slack retry)."""
        assert self._spool is not None
        spooled = self._spool.oldest(limit=MOVE_BATCH)
        if not spooled:
            return 0
        outcomes = self._write_inbox([(s.body, s.retry_num, s.received_at) for s in spooled], [s.retries_seen for s in spooled])
        retries_now = self._spool.remove(through_seq=spooled[-1].seq)
        late = {str(s.body.get("event_id")): retries_now[s.seq] - s.retries_seen for s in spooled if retries_now.get(s.seq, s.retries_seen) > s.retries_seen}
        if late:  # Slack retries that came in while this batch was being moved
            with self._engine.begin() as connection:
                for event_id, extra in late.items():
                    connection.execute(update(SlackEvent).where(SlackEvent.event_id == event_id).values(retries_seen=SlackEvent.retries_seen + extra))  # type: ignore[arg-type]
        for s, new in zip(spooled, outcomes):
            if not new:
                log.event_retry_dropped(str(s.body.get("event_id")), s.retry_num)
        if any(outcomes):
            self._on_stored()
        return len(spooled)
