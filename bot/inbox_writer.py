"""Group commit for the acknowledgement path.

Every Slack event must be in the database before Slack gets its 200. Request threads hand their
event to one writer thread and wait; the writer inserts whatever has queued up in one
transaction and wakes them all. Under a burst this turns many tiny transactions fighting over
SQLite's single write lock (and over the GIL while holding it) into a few short ones, and each
acknowledgement waits about one commit.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot import log
from models.tables import SlackEvent
from models.types import utcnow

MAX_BATCH = 200


def event_lane(body: dict[str, Any]) -> str | None:
    event = body.get("event") or {}
    return event.get("channel") or (event.get("item") or {}).get("channel") or event.get("user")


def _row(body: dict[str, Any]) -> dict[str, Any]:
    event = body.get("event") or {}
    now = utcnow()
    return {
        "event_id": str(body.get("event_id") or ""), "team_id": body.get("team_id"), "body": body, "lane": event_lane(body),
        "event_type": str(event.get("type", "")) + (f".{event['subtype']}" if event.get("subtype") else ""),
        "status": "pending", "attempts": 0, "retries_seen": 0, "next_attempt_at": now, "created_at": now,
    }


def _insert_new_only(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(SlackEvent).on_conflict_do_nothing(index_elements=["event_id"]).returning(SlackEvent.event_id)


class InboxWriter:
    """The one way an event gets into the inbox before its acknowledgement (HTTP and Socket Mode)."""

    def __init__(self, engine: Engine, *, on_stored: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        self._on_stored = on_stored
        self._statement = _insert_new_only(engine.dialect.name)
        self._queue: queue.Queue[tuple[dict[str, Any], str | None, Future[bool]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def store(self, body: dict[str, Any], *, retry_num: str | None = None, timeout: float = 10.0) -> bool:
        """Insert the event and wait for the commit; False when it was already stored (a retry).

        Raises when it could not be stored: the caller must then not acknowledge (Slack retries)."""
        self._ensure_started()
        done: Future[bool] = Future()
        self._queue.put((body, retry_num, done))
        new = done.result(timeout=timeout)
        if new:
            self._on_stored()
        return new

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                outcomes = self._write([(body, retry) for body, retry, _ in batch])
            except Exception as exc:  # the requests answer 500 and Slack retries them
                for _, _, done in batch:
                    done.set_exception(exc)
                continue
            for (_, _, done), new in zip(batch, outcomes):
                done.set_result(new)

    def _write(self, items: list[tuple[dict[str, Any], str | None]]) -> list[bool]:
        rows = [_row(body) for body, _ in items]
        first_seen: dict[str, int] = {}
        for index, row in enumerate(rows):
            first_seen.setdefault(row["event_id"], index)
        unique = [rows[i] for i in sorted(first_seen.values())]
        with self._engine.begin() as connection:
            inserted = {r[0] for r in connection.execute(self._statement, unique).all()}
            outcomes = [row["event_id"] in inserted and first_seen[row["event_id"]] == i for i, row in enumerate(rows)]
            repeats = [row["event_id"] for row, new in zip(rows, outcomes) if not new]
            if repeats:
                connection.execute(
                    update(SlackEvent).where(SlackEvent.event_id.in_(repeats)).values(retries_seen=SlackEvent.retries_seen + 1)  # type: ignore[attr-defined]
                )
        for (body, retry), row, new in zip(items, rows, outcomes):
            if new:
                log.event_stored(row["event_id"], row["event_type"])
            else:
                log.event_retry_dropped(row["event_id"], retry)
        return outcomes
