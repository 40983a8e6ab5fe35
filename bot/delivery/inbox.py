"""Store every Slack event before acknowledging it; do the work afterwards, from the table.

The Bolt middleware below runs on the request path (HTTP and Socket Mode alike): it inserts the
event under its event_id (primary key), which makes a Slack retry of a stored event a no-op, and
answers 200 at once. The InboxReplay handler, run by a LaneWorker, later feeds the stored body back
through the same Bolt app, so the listeners in handlers/ see exactly what Slack sent, inside one
database transaction that also marks the event done: the work and the "done" commit together.

An event that fails is retried with backoff beside its channel's lane (models.queue.retry_later),
so the events behind it go on; after MAX_ATTEMPTS it is parked (`failed`, with its error, in
/healthz and the log). One of a shape the listeners cannot handle (bot.delivery.inbox_shape) is parked at
once: every attempt would fail the same way.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.runtime import log
from bot.delivery.inbox_shape import shape_problem
from bot.delivery.inbox_writer import InboxWriter
from bot.runtime.transaction import is_replay, replay_request, request_error
from models import queue
from models.db import session_scope
from models.tables import SlackEvent

MAX_ATTEMPTS = 8
BACKOFF_CAP_FACTOR = 30  # retry_base seconds, doubling, at most 30 × retry_base (2 s → 1 min)


class RetryLater(Exception):
    """A listener needs something that is not there yet (e.g. the report an edit refers to)."""


def store_then_ack(*, writer: InboxWriter) -> Callable[..., BoltResponse]:
    """Bolt global middleware: events are stored and acknowledged here; everything else passes.

    (In HTTP mode bot.runtime.server stores events before Bolt sees them; this serves Socket Mode.)"""

    def middleware(req: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        if body.get("type") != "event_callback" or is_replay(req.context):
            return next()
        if not body.get("event_id"):
            return BoltResponse(status=400, body="event_id missing")
        retry_num = (req.headers.get("x-slack-retry-num") or [None])[0]
        writer.store(body, retry_num=retry_num)
        return BoltResponse(status=200, body="")

    return middleware


# What an event keeps once handled: enough to say what it was, nothing anyone typed. The text
# (with whatever personal data it held) now lives on the ticket, masked (bot.triage.mask_pii).
KEPT_EVENT_KEYS = ("type", "subtype", "channel", "channel_type", "user", "ts", "thread_ts", "event_ts", "reaction", "item", "item_user")


def handled_body(body: dict[str, Any]) -> dict[str, Any]:
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    kept = {key: event[key] for key in KEPT_EVENT_KEYS if key in event}
    if isinstance(kept.get("item"), dict):
        kept["item"] = {k: v for k, v in kept["item"].items() if k in ("type", "channel", "ts")}
    envelope = {key: body[key] for key in ("type", "event_id", "team_id", "api_app_id", "event_time") if key in body}
    return {**envelope, "event": kept, "redacted": True}


class InboxReplay:
    """Handles one leased SlackEvent row by dispatching its body through the Bolt app again."""

    def __init__(self, *, engine: Engine, app: App, on_done: Callable[[], None] = lambda: None, retry_base: float = 2.0) -> None:
        self._engine = engine
        self._app = app
        self._on_done = on_done
        self._retry_base = retry_base

    def __call__(self, row: SlackEvent, owner: str) -> None:
        problem = shape_problem(row.body)
        if problem is None and row.attempts > MAX_ATTEMPTS:  # earlier attempts ended in crashes, not errors
            problem = f"gave up after {row.attempts - 1} attempts, the last ending without an outcome (its worker died)"
        if problem is not None:
            with session_scope(self._engine) as session:
                queue.fail(session, row, owner=owner, error=problem)
            log.event_parked(row.event_id, problem, row.attempts)
            return
        session = Session(self._engine, expire_on_commit=False)
        error: str | None = None
        try:
            request = replay_request(body=row.body, session=session)
            response = self._app.dispatch(request)
            error = request_error(request.context)
            # 404: no listener wanted this event, which is a fine outcome, not a failure.
            if response.status >= 500 or error:
                session.rollback()
                error = error or f"listener answered {response.status}: {response.body[:200]}"
            elif not queue.finish(session, row, owner=owner, also={"body": handled_body(row.body)}):
                session.rollback()  # our lease expired and another worker owns the event now
                return
            else:
                session.commit()
                self._on_done()  # the work may have written outbox rows
                return
        except Exception as exc:
            session.rollback()
            error = f"{type(exc).__name__}: {exc}"
        finally:
            session.close()
        delay = queue.backoff(attempt=row.attempts, base=self._retry_base, cap=self._retry_base * BACKOFF_CAP_FACTOR)
        with session_scope(self._engine) as retry_session:
            status = queue.retry_later(retry_session, row, owner=owner, delay=timedelta(seconds=delay), error=error or "unknown", max_attempts=MAX_ATTEMPTS)
        if status == "failed":
            log.event_parked(row.event_id, error or "unknown", row.attempts)
        else:
            log.event_failed(row.event_id, error or "unknown", status)
