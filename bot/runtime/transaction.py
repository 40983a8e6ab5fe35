"""One database transaction per Bolt request, and how a listener gets its session.

The app factory (bot.runtime.app) builds a TransactionalApp; every request it dispatches, from Slack or
replayed from the inbox table (bot.delivery.inbox.InboxReplay), carries its session in the Bolt context
under this module's key, read by listeners through `session_of(context)` (handlers/context.py).
"""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.runtime import apology, log
from bot.runtime.after_ack import AfterAck, jobs_of, later, say

SESSION = "hc_session"
REPLAY = "hc_replay"  # the request is a stored event fed back by the inbox worker
ERROR = "hc_error"  # set by the app's error handler so a failed replay records why


def replay_request(*, body: dict[str, Any], session: Session) -> BoltRequest:
    """A stored event as a Bolt request that runs in the caller's session (the caller commits)."""
    return BoltRequest(body=body, mode="socket_mode", context={REPLAY: True, SESSION: session})


def is_replay(context: Any) -> bool:
    return bool(context.get(REPLAY))


def request_error(context: Any) -> str | None:
    return context.get(ERROR)


def session_of(context: Any) -> Session:
    session = context.get(SESSION)
    if session is None:  # TransactionalApp.dispatch always sets it; this is a wiring bug
        raise RuntimeError("no database session in the Bolt context")
    return session


class TransactionalApp(App):
    """A Bolt App whose every request runs in one database transaction.

    Bolt middleware cannot wrap a listener (next() returns before the listener runs), so the
    transaction wraps dispatch itself: committed when the listener succeeded, rolled back when it
    failed. A replayed event brings its own session (bot.delivery.inbox.InboxReplay), so the event is marked
    done in the same transaction as the work it caused.
    """

    def __init__(self, *, engine: Engine, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._engine = engine
        self.after_commit: Any = lambda: None
        self.after_ack = AfterAck()  # what asks Slack once the request is acknowledged (bot.runtime.after_ack)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        if req.context.get(SESSION) is not None:
            # A replayed event (already acknowledged): its listeners ask Slack before touching the
            # session, and register no after-ack jobs.
            return super().dispatch(req)
        session = Session(self._engine, expire_on_commit=False)  # connects lazily: free when unused
        req.context[SESSION] = session
        committed = False
        try:
            response = super().dispatch(req)
            if response.status < 500 and not req.context.get(ERROR):
                session.commit()
                committed = True
                self.after_commit()
            else:
                session.rollback()
            return response
        except Exception as exc:  # e.g. the commit failed: still an apology, never a bare 500
            session.rollback()
            return remember_error(exc, req, req.body, logging.getLogger("hypercare.bolt"))
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            # Started now, outside the transaction, while the answer goes back to Slack.
            self.after_ack.submit(jobs_of(req.context, committed=committed))


def remember_error(error: Exception, request: Any, body: dict[str, Any], logger: logging.Logger) -> BoltResponse:
    """The transaction is rolled back (dispatch sees ERROR); the person gets an apology with an id
    that is in the log. A replayed event keeps its 500, so the inbox retries it."""
    request.context[ERROR] = f"{type(error).__name__}: {error}"
    error_id = apology.new_error_id()
    kind = apology.request_kind(body)
    log.listener_failed(error_id, kind, error)
    if kind == "event_callback" or is_replay(request.context):
        return BoltResponse(status=500, body="")
    answer = apology.ack_body(body, error_id=error_id)
    if answer is not None:
        return BoltResponse(status=200, body=answer)
    url = apology.response_url_of(body)
    if url:
        later(request.context, lambda: say(url, apology.apology_text(error_id)), always=True)
    return BoltResponse(status=200, body="")
