"""The transactional outbox: every Web API call that must not be lost or made twice.

Domain code calls `enqueue` inside the transaction that causes the message, so the message exists
if and only if the change does. The OutboxWorker delivers rows: retries 429 (honouring Retry-After),
5xx, connection errors and the transient errors Slack answers with HTTP 200 (`internal_error`,
`fatal_error`, …) with backoff, keeps one post per second per channel, and records permanent
errors on the ticket instead of retrying them forever. A row that fails is retried beside its
channel's lane (models.queue.retry_later), so it never holds back the posts behind it; a 429 keeps
its place, since Slack throttles the channel, not the row.

This is the only retry policy: the Web API client used here has none of slack_sdk's own retry
handlers, which would re-send a chat.postMessage without asking whether it was already posted.

Any attempt that may have reached Slack (a 5xx, a time-out, a reset connection, `internal_error`,
or a crash that left no outcome) could have posted. Every post carries the outbox id in Slack
message metadata; before posting such a row again the worker looks for that metadata in the
channel and, if the message is there, records it instead of posting again. Whether to look is
kept in the row's `result` (`maybe_posted`, and `clean_attempt`: the last attempt known to have
posted nothing), never guessed from the error text, which a crash leaves stale.

A direct message is enqueued for a user (`enqueue_dm`); delivery opens the DM (conversations.open),
remembers its D… channel on the row so a retry never opens it again, and posts there; the look-up
after a crash then reads the DM's history (im:history). Bots, the bot itself included, are never
sent a DM: users.info says who is one.
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import WebClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.runtime import log
from bot.runtime.slack_client import without_retries
from models import queue
from models.db import session_scope
from models.tables import OutboxMessage

METADATA_EVENT = "hypercare_outbox"
PACED_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral"})
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "user_not_found", "account_inactive",
    "cannot_dm_bot", "user_disabled", "invalid_blocks", "msg_too_long", "no_text", "restricted_action",
    "message_not_found", "cant_update_message", "not_authed", "invalid_auth", "missing_scope",
})
HARMLESS_ERRORS = frozenset({"already_reacted", "no_reaction"})
# Slack's transient failures that come as HTTP 200 with ok:false; Slack's docs say of
# internal_error and fatal_error that some aspect of the operation may have succeeded.
TRANSIENT_ERRORS = frozenset({
    "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org",
    "ratelimited", "rate_limited",
})
RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})
NOTHING_TO_FIND = frozenset({"thread_not_found", "message_not_found"})
MAX_ATTEMPTS = 25
# Backoff: retry_base seconds, doubling, at most this many times retry_base (2 s → 5 min).
BACKOFF_CAP_FACTOR = 150
# A DM's channel until delivery opens it: "$dm:U123". Also the row's lane, so DMs to one person are
# paced and ordered like posts in one channel.
DM_PREFIX = "$dm:"


class RowRenderer(Protocol):
    """Fills in, at delivery, what a domain could not know when it wrote the row (registered by the
    app factory: bot.tickets.outbox_rows.TicketRows), and hears what became of the row."""

    link_placeholder: str  # replaced, anywhere in the params, by the permalink of `link`'s message

    def wants(self, row: OutboxMessage, params: dict[str, Any]) -> bool: ...
    def fill(self, session: Session, row: OutboxMessage, params: dict[str, Any]) -> dict[str, Any] | None: ...
    def link(self, session: Session, row: OutboxMessage) -> tuple[str | None, str, str] | None: ...
    def delivered(self, session: Session, row: OutboxMessage, result: dict[str, Any]) -> None: ...
    def failed(self, session: Session, row: OutboxMessage, note: str) -> None: ...


def enqueue(
    session: Session,
    *,
    method: str,
    params: dict[str, Any],
    team_id: str | None = None,
    ticket_id: int | None = None,
    on_result: str | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Add a Web API call to the outbox, in the caller's transaction."""
    lane = params.get("channel") if method in PACED_METHODS else None
    if method == "chat.update" and ticket_id is not None:
        lane = f"ticket:{ticket_id}"  # updates of one card land in the order they were made
    row = OutboxMessage(
        team_id=team_id, method=method, params=params, lane=lane, ticket_id=ticket_id,
        on_result=on_result, dedupe_key=dedupe_key,
    )
    session.add(row)
    return row


def enqueue_dm(
    session: Session,
    *,
    user: str,
    text: str,
    blocks_: list[dict[str, Any]] | None = None,
    team_id: str | None = None,
    ticket_id: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """A direct message to `user`, in the caller's transaction; `text` must already be safe."""
    params: dict[str, Any] = {"channel": DM_PREFIX + user, "text": text, "unfurl_links": False}
    if blocks_:
        params["blocks"] = blocks_
    return enqueue(session, method="chat.postMessage", params=params, team_id=team_id, ticket_id=ticket_id, dedupe_key=dedupe_key)


def pace_for(row: OutboxMessage, *, interval: float) -> float:
    return interval if row.method in PACED_METHODS else 0.0


class OutboxDelivery:
    """Delivers one leased outbox row; used as the OutboxWorker's handler."""

    def __init__(self, *, engine: Engine, client: WebClient, renderer: RowRenderer, retry_base: float = 2.0) -> None:
        self._engine = engine
        self._client = without_retries(client)
        self._renderer = renderer
        self._retry_base = retry_base

    def __call__(self, row: OutboxMessage, owner: str) -> None:
        if row.attempts > MAX_ATTEMPTS * 4:  # the earlier attempts ended in crashes, not errors
            self._fail(row, owner, f"gave up after {row.attempts - 1} attempts, the last ending without an outcome (its worker died)")
            return
        sent = False  # whether this attempt's call may have reached Slack
        try:
            params = self._resolve(row)
            if params is None:  # the ticket's card or thread is not posted yet: try again shortly
                with session_scope(self._engine) as session:
                    queue.retry_later(session, row, owner=owner, delay=timedelta(seconds=1), error="waiting for ticket card",
                                      max_attempts=MAX_ATTEMPTS * 4, also={"result": self._state(row, sent=False)})
                return
            if str(params.get("channel", "")).startswith(DM_PREFIX):
                skip = self._open_dm(row, owner, params)
                if skip:
                    self._skip_dm(row, owner, skip)
                    return
            result = self._already_posted(row, params) if self._may_have_posted(row) else None
            if result is None:
                sent = True
                result = self._call(row, params)
        except SlackApiError as exc:
            self._on_api_error(row, owner, exc, sent=sent)
            return
        except (SlackRequestError, OSError) as exc:
            self._retry(row, owner, f"connection error: {exc}", self._backoff(row), sent=sent)
            return
        with session_scope(self._engine) as session:
            if queue.finish(session, row, owner=owner):
                stored = session.get(OutboxMessage, row.id)
                if stored is not None:
                    stored.result = _summary(result)
                self._renderer.delivered(session, row, result)
        log.outbox_delivered(row.id or 0, row.method)

    # -- helpers ---------------------------------------------------------------------------
    def _resolve(self, row: OutboxMessage) -> dict[str, Any] | None:
        params: dict[str, Any] | None = dict(row.params)
        if self._renderer.wants(row, params):
            with session_scope(self._engine) as session:
                params = self._renderer.fill(session, row, params)
            if params is None:
                return None
        if self._renderer.link_placeholder in json.dumps(params):
            params = self._fill_link(row, params)
            if params is None:
                return None
        if row.method == "chat.postMessage":
            params["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row.id}}
        return params

    def _fill_link(self, row: OutboxMessage, params: dict[str, Any]) -> dict[str, Any] | None:
        with session_scope(self._engine) as session:
            target = self._renderer.link(session, row)
        if target is None:
            return None
        link, channel, thread_ts = target
        if not link:  # asked after the transaction: no Web API call inside one
            link = str(self._client.chat_getPermalink(channel=channel, message_ts=thread_ts).get("permalink") or "")
        # JSON-escaped, so a link can never break the structure of the blocks it goes into.
        return dict(json.loads(json.dumps(params).replace(self._renderer.link_placeholder, json.dumps(link)[1:-1])))

    def _open_dm(self, row: OutboxMessage, owner: str, params: dict[str, Any]) -> str | None:
        """Point `params` at the user's DM channel; returns why not to send instead, if so."""
        cached = (row.result or {}).get("dm_channel")
        if not cached:
            user = str(params["channel"])[len(DM_PREFIX):]
            info = self._client.users_info(user=user).get("user") or {}
            if info.get("is_bot") or user == "USLACKBOT":
                return "is_bot"
            if info.get("deleted"):
                return "account_inactive"
            cached = str((self._client.conversations_open(users=user).get("channel") or {}).get("id") or "")
            if not cached:
                raise SlackRequestError("conversations.open returned no channel")
            row.result = {**(row.result or {}), "dm_channel": cached}
            with session_scope(self._engine) as session:  # a retry posts here without opening again
                session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.lease_owner == owner).values(result=row.result)  # type: ignore[arg-type]
                )
        params["channel"] = cached
        return None

    def _skip_dm(self, row: OutboxMessage, owner: str, why: str) -> None:
        if why != "is_bot":  # a deactivated account: a permanent error, recorded on the ticket
            self._fail(row, owner, why)
            return
        with session_scope(self._engine) as session:
            if queue.finish(session, row, owner=owner):
                stored = session.get(OutboxMessage, row.id)
                if stored is not None:
                    stored.result = {"ok": True, "skipped": why}

    @staticmethod
    def _may_have_posted(row: OutboxMessage) -> bool:
        """Whether an earlier attempt may have posted this row: it said so (`maybe_posted`), or
        the attempt before this one left no outcome at all (a crash, or a lease that ran out)."""
        if row.method != "chat.postMessage" or row.attempts <= 1:
            return False
        state = row.result or {}
        if state.get("maybe_posted") or state.get("clean_attempt") != row.attempts - 1:
            # Remembered before looking, so a failed look-up cannot make the next attempt skip it.
            row.result = {**state, "maybe_posted": True}
            return True
        return False

    @staticmethod
    def _state(row: OutboxMessage, *, sent: bool) -> dict[str, Any]:
        """The row's `result` after a failed attempt: what the next attempt must know."""
        state = dict(row.result or {})
        if sent:
            state["maybe_posted"] = True
        else:
            state["clean_attempt"] = row.attempts
        return state

    def _already_posted(self, row: OutboxMessage, params: dict[str, Any]) -> dict[str, Any] | None:
        channel = params["channel"]
        args: dict[str, Any] = dict(channel=channel, oldest=f"{row.created_at.timestamp() - 5:.6f}", include_all_metadata=True, limit=200)
        for _page in range(10):
            try:
                if params.get("thread_ts"):
                    answer = self._client.conversations_replies(ts=params["thread_ts"], **args)
                else:
                    answer = self._client.conversations_history(**args)
            except SlackApiError as exc:
                if exc.response.get("error") in NOTHING_TO_FIND:
                    return None  # no such thread: our reply cannot be in it
                raise
            for message in answer.get("messages", []):
                meta = message.get("metadata") or {}
                if meta.get("event_type") == METADATA_EVENT and (meta.get("event_payload") or {}).get("outbox_id") == row.id:
                    log.outbox_found_after_crash(row.id or 0, message.get("ts", "?"))
                    return {"ok": True, "channel": channel, "ts": message.get("ts"), "recovered": True}
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not answer.get("has_more") or not cursor:
                break
            args["cursor"] = cursor
        return None

    def _call(self, row: OutboxMessage, params: dict[str, Any]) -> dict[str, Any]:
        if row.method.startswith("response_url:"):
            return self._post_response_url(row, params)
        answer = self._client.api_call(row.method, json=params)
        return dict(answer.data) if isinstance(answer.data, dict) else {"ok": True}

    def _post_response_url(self, row: OutboxMessage, params: dict[str, Any]) -> dict[str, Any]:
        from slack_sdk.webhook import WebhookClient

        url = row.method.split(":", 1)[1]
        answer = WebhookClient(url=url, timeout=10, retry_handlers=[]).send_dict(params)
        if answer.status_code >= 500 or answer.status_code == 429:
            raise SlackRequestError(f"response_url answered {answer.status_code}")
        return {"ok": answer.status_code < 400, "status": answer.status_code}

    def _on_api_error(self, row: OutboxMessage, owner: str, exc: SlackApiError, *, sent: bool) -> None:
        status = exc.response.status_code
        error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
        if error in HARMLESS_ERRORS:
            with session_scope(self._engine) as session:
                queue.finish(session, row, owner=owner)
            return
        if status == 429 or error in RATE_LIMITED:  # refused, not done: nothing was posted
            headers = exc.response.headers or {}
            retry_after = float(headers.get("Retry-After", headers.get("retry-after", 1)) or 1)
            self._retry(row, owner, f"rate limited ({status})", retry_after, sent=False, keep_lane=True)
        elif status >= 500:
            self._retry(row, owner, f"server error {status}", self._backoff(row), sent=sent)
        elif error in TRANSIENT_ERRORS:
            self._retry(row, owner, f"transient error {error}", self._backoff(row), sent=sent)
        else:  # PERMANENT_ERRORS and any other refusal: retrying would get the same answer
            self._fail(row, owner, error or f"HTTP {status}")

    def _retry(self, row: OutboxMessage, owner: str, error: str, delay: float, *, sent: bool, keep_lane: bool = False) -> None:
        with session_scope(self._engine) as session:
            status = queue.retry_later(session, row, owner=owner, delay=timedelta(seconds=delay), error=error, max_attempts=MAX_ATTEMPTS,
                                       keep_lane=keep_lane, also={"result": self._state(row, sent=sent)})
            if status == "failed":
                self._renderer.failed(session, row, f"gave up after {row.attempts} attempts: {error}")
        if status == "failed":
            log.outbox_parked(row.id or 0, row.method, error, row.attempts)
        else:
            log.outbox_retry(row.id or 0, row.method, error, delay)

    def _fail(self, row: OutboxMessage, owner: str, error: str) -> None:
        log.outbox_failed(row.id or 0, row.method, error)
        with session_scope(self._engine) as session:
            queue.fail(session, row, owner=owner, error=error)
            self._renderer.failed(session, row, f"could not deliver {row.method}: {error}")

    def _backoff(self, row: OutboxMessage) -> float:
        return queue.backoff(attempt=row.attempts, base=self._retry_base, cap=self._retry_base * BACKOFF_CAP_FACTOR)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("ok", "channel", "ts", "recovered", "status", "skipped")
    return {k: result[k] for k in keep if k in result}
