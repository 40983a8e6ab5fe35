"""Works the outbox's tracker rows (method `tracker.*`): the outbox worker hands them here
(OutboxRouter, wired in bot.runtime.app) and keeps doing everything else with bot.delivery.outbox.

Retries like Slack posts: 429 (honouring Retry-After), 5xx and connection errors back off; a
permanent error (bad token, no such project, a refused field) is recorded on the ticket and told
to whoever pushed it, with the fix. No tracker call runs inside a database transaction.

Exactly once: a create whose earlier attempt may have reached the tracker (this is not the row's
first attempt: a crash, a cut connection, a lost lease) first looks for an issue carrying the
ticket's marker, and records that one instead of creating a second.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.runtime import log
from bot.runtime.settings import Settings
from bot.trackers import service
from bot.trackers.clients import Created, client_for
from bot.trackers.content import issue_for
from bot.trackers.http import Permanent, Transient
from models import queue
from models.db import session_scope
from models.tables import OutboxMessage, Ticket
from models.tracker_tables import TrackerLink

MAX_ATTEMPTS = 25
WAIT_FOR_CREATE = 2.0  # a comment whose issue is not created yet (the lane keeps them in order)
Handle = Callable[[OutboxMessage, str], None]


class OutboxRouter:
    """The outbox worker's handler: tracker rows to TrackerDelivery, the rest to Slack."""

    def __init__(self, *, slack: Handle, trackers: Handle) -> None:
        self._slack = slack
        self._trackers = trackers

    def __call__(self, row: OutboxMessage, owner: str) -> None:
        (self._trackers if row.method.startswith(service.METHOD_PREFIX) else self._slack)(row, owner)


class TrackerDelivery:
    def __init__(self, *, engine: Engine, settings: Settings, after_commit: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        self._settings = settings
        self.after_commit = after_commit  # rows it writes (the thread post, a DM) go out now

    def __call__(self, row: OutboxMessage, owner: str) -> None:
        try:
            outcome = self._perform(row)
        except Transient as exc:
            delay = exc.retry_after if exc.retry_after is not None else self._backoff(row)
            self._retry(row, owner, str(exc), delay)
            return
        except Permanent as exc:
            self._fail(row, owner, str(exc), exc.fix)
            return
        if outcome == "wait":
            self._retry(row, owner, "waiting for the issue to be created", WAIT_FOR_CREATE, counts=False)
            return
        with session_scope(self._engine) as session:
            if not queue.finish(session, row, owner=owner):
                return  # the lease was lost: whoever holds it now records the outcome
            stored = session.get(OutboxMessage, row.id)
            if stored is not None:
                stored.result = {"ok": True, **({"key": outcome.key, "url": outcome.url} if isinstance(outcome, Created) else {"outcome": outcome})}
            if isinstance(outcome, Created):
                link = session.get(TrackerLink, row.params["link_id"])
                if link is not None and link.state != "linked":
                    service.recorded(session, link, external_id=outcome.external_id, key=outcome.key, url=outcome.url)
        self.after_commit()
        log.outbox_delivered(row.id or 0, row.method)

    # -- the call --------------------------------------------------------------------------
    def _perform(self, row: OutboxMessage) -> Created | str:
        with session_scope(self._engine) as session:  # read what the call needs, then let go
            link = session.get(TrackerLink, row.params["link_id"])
            ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
            if link is None or ticket is None:
                return "skipped: no such ticket"
            state, tracker, target, external_id = link.state, link.tracker, link.target, link.external_id
            issue = issue_for(ticket) if row.method == service.CREATE else None
        api = client_for(self._settings, tracker=tracker, target=target)
        if row.method == service.CREATE:
            assert issue is not None
            if state == "linked":
                return "already linked"
            # attempts counts this claim: anything above 1 means an earlier attempt may have got through.
            found = api.find(issue) if row.attempts > 1 else None
            if found is not None:
                log.tracker_found_after_crash(row.id or 0, found.key)
                return found
            return api.create(issue)
        if state == "pending":
            return "wait"
        if state != "linked" or not external_id:
            return "skipped: the issue was never created"
        if row.method == service.COMMENT:
            api.comment(external_id, str(row.params["text"]))
        elif row.method == service.SEVERITY:
            api.set_severity(external_id, old=str(row.params["old"]), new=str(row.params["new"]))
        return "done"

    # -- outcomes ----------------------------------------------------------------------------
    def _retry(self, row: OutboxMessage, owner: str, error: str, delay: float, *, counts: bool = True) -> None:
        log.outbox_retry(row.id or 0, row.method, error, delay)
        with session_scope(self._engine) as session:
            limit = MAX_ATTEMPTS if counts else MAX_ATTEMPTS * 20
            status = queue.retry_later(session, row, owner=owner, delay=timedelta(seconds=delay), error=error, max_attempts=limit)
            if status == "failed":
                self._record_failure(session, row, f"gave up after {row.attempts} attempts: {error}", "check that the tracker is reachable, then `/hc push` again")
        self.after_commit()

    def _fail(self, row: OutboxMessage, owner: str, error: str, fix: str) -> None:
        log.outbox_failed(row.id or 0, row.method, error)
        with session_scope(self._engine) as session:
            queue.fail(session, row, owner=owner, error=f"{error} — {fix}")
            self._record_failure(session, row, error, fix)
        self.after_commit()

    @staticmethod
    def _record_failure(session: Any, row: OutboxMessage, error: str, fix: str) -> None:
        link = session.get(TrackerLink, row.params.get("link_id"))
        if link is not None:
            service.failed(session, link, method=row.method, error=error, fix=fix)

    @staticmethod
    def _backoff(row: OutboxMessage) -> float:
        return min(300.0, 2 ** min(max(row.attempts - 1, 0), 8)) * (0.75 + random.random() / 2)
