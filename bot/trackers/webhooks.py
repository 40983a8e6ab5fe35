"""Tracker webhooks: `POST /trackers/github|jira|linear`.

The request is verified (GitHub `X-Hub-Signature-256`, Jira's `X-Hub-Signature` from its webhook
secret, Linear's `Linear-Signature` and its timestamp), stored in the inbox (slack_event) under
`<tracker>:<delivery id>` before the 200, so a redelivery is a no-op, and worked later by the inbox
worker like a Slack event (InboxRouter, wired in bot.runtime.app), in one transaction with its effects.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk.web import WebClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.runtime import log
from bot.runtime.settings import Settings
from bot.trackers import service, sync
from bot.trackers.config import channel_config
from models import queue
from models.db import session_scope
from models.tables import SlackEvent, Ticket, TicketEvent
from models.types import utcnow

EVENT_PREFIX = "tracker:"
LINEAR_MAX_AGE = 60.0  # seconds; Linear's own advice for its webhookTimestamp
JIRA_MAX_AGE = 3600.0  # Jira retries a failed delivery for a while with the same timestamp
CLOSING_COMMENT_WINDOW = 120.0  # a comment this recent, just before the close, is its comment
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Change:
    tracker: str
    external_id: str
    action: str  # closed | wont_fix | reopened | assigned | comment
    by: str
    by_email: str | None = None
    assignee_email: str | None = None
    body: str | None = None
    comment: str | None = None  # a comment that came with the close (Jira transitions)


def _sig(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


class WebhookIngress:
    """Verify and store; answers (status, text) for the HTTP server."""

    def __init__(self, *, engine: Engine, settings: Settings, on_stored: Callable[[], None]) -> None:
        self._engine = engine
        self._settings = settings
        self._on_stored = on_stored

    def handle(self, *, tracker: str, headers: dict[str, str], raw: bytes) -> tuple[int, str]:
        secret = {"github": self._settings.github_webhook_secret, "jira": self._settings.jira_webhook_secret, "linear": self._settings.linear_webhook_secret}.get(tracker)
        if not secret:
            log.tracker_webhook_refused(tracker, "no webhook secret is configured")
            return 503, f"set HYPERCARE_{tracker.upper()}_WEBHOOK_SECRET to receive {tracker} webhooks"
        why = self._refusal(tracker, secret, headers, raw)
        if why:
            log.tracker_webhook_refused(tracker, why)
            return 401, why
        try:
            payload = json.loads(raw)
        except ValueError:
            return 400, "not JSON"
        kind = headers.get("x-github-event", "") if tracker == "github" else str(payload.get("webhookEvent") or payload.get("type") or "")
        delivery = {"github": headers.get("x-github-delivery"), "linear": headers.get("linear-delivery"),
                    "jira": headers.get("x-atlassian-webhook-identifier")}.get(tracker) or hashlib.sha256(raw).hexdigest()[:40]
        change = parse(tracker, kind, payload)
        if change is None:
            return 200, "ignored"  # a ping, or an event Hypercare does not act on: nothing to store
        lane = "trk:" + hashlib.sha1(f"{tracker}:{change.external_id}".encode()).hexdigest()[:24]
        row = SlackEvent(event_id=f"{EVENT_PREFIX}{tracker}:{delivery}"[:64], event_type=f"{EVENT_PREFIX}{tracker}", lane=lane,
                         body={"tracker": tracker, "kind": kind, "payload": payload})
        try:
            with session_scope(self._engine) as session:
                session.add(row)
            new = True
        except IntegrityError:
            new = False  # a redelivery of what is stored already
        log.tracker_webhook_stored(tracker, delivery, new)
        self._on_stored()
        return 200, "ok"

    def _refusal(self, tracker: str, secret: str, headers: dict[str, str], raw: bytes) -> str | None:
        if tracker == "github":
            given = headers.get("x-hub-signature-256", "")
            return None if hmac.compare_digest(given, "sha256=" + _sig(secret, raw)) else "bad X-Hub-Signature-256"
        if tracker == "jira":
            given = headers.get("x-hub-signature", "")
            if not hmac.compare_digest(given, "sha256=" + _sig(secret, raw)):
                return "bad X-Hub-Signature"
            return self._stale(raw, "timestamp", JIRA_MAX_AGE)
        given = headers.get("linear-signature", "")
        if not hmac.compare_digest(given, _sig(secret, raw)):
            return "bad Linear-Signature"
        return self._stale(raw, "webhookTimestamp", LINEAR_MAX_AGE)

    @staticmethod
    def _stale(raw: bytes, field: str, max_age: float) -> str | None:
        try:
            stamp = float(json.loads(raw).get(field) or 0) / 1000
        except (ValueError, AttributeError, TypeError):
            return f"no {field}"
        return None if abs(time.time() - stamp) <= max_age else f"stale: {field} is more than {int(max_age)} s old"


# -- what a payload means ----------------------------------------------------------------------
def parse(tracker: str, kind: str, payload: dict[str, Any]) -> Change | None:
    try:
        return {"github": _github, "jira": _jira, "linear": _linear}[tracker](kind, payload)
    except (KeyError, TypeError, AttributeError):
        return None


def _github(kind: str, p: dict[str, Any]) -> Change | None:
    issue, action = p.get("issue") or {}, p.get("action")
    if not issue or "pull_request" in issue:
        return None
    ref = f"{p['repository']['full_name']}#{issue['number']}"
    by = str((p.get("sender") or {}).get("login") or "someone")
    if kind == "issues" and action == "closed":
        return Change("github", ref, "wont_fix" if issue.get("state_reason") == "not_planned" else "closed", by)
    if kind == "issues" and action == "reopened":
        return Change("github", ref, action, by)
    if kind == "issue_comment" and action == "created":
        return Change("github", ref, "comment", str(p["comment"]["user"]["login"]), body=str(p["comment"].get("body") or ""))
    return None


def _adf_text(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        return body.get("text", "") + "".join(_adf_text(c) for c in body.get("content") or []) + ("\n" if body.get("type") == "paragraph" else "")
    return ""


def _jira(kind: str, p: dict[str, Any]) -> Change | None:
    issue = p.get("issue") or {}
    key = str(issue.get("key") or "")
    user = p.get("user") or {}
    by, email = str(user.get("displayName") or "someone"), user.get("emailAddress")
    if kind == "comment_created":
        author = (p.get("comment") or {}).get("author") or {}
        return Change("jira", key, "comment", str(author.get("displayName") or by), body=_adf_text(p["comment"].get("body")).strip())
    if kind != "jira:issue_updated":
        return None
    items = (p.get("changelog") or {}).get("items") or []
    fields = issue.get("fields") or {}
    comment = _adf_text((p.get("comment") or {}).get("body")).strip() or None
    if any(i.get("field") == "status" for i in items):
        done = ((fields.get("status") or {}).get("statusCategory") or {}).get("key") == "done"
        return Change("jira", key, "closed" if done else "reopened", by, by_email=email, comment=comment)
    if any(i.get("field") == "assignee" for i in items):
        return Change("jira", key, "assigned", by, by_email=email, assignee_email=(fields.get("assignee") or {}).get("emailAddress"))
    return None


def _linear(kind: str, p: dict[str, Any]) -> Change | None:
    data, actor = p.get("data") or {}, p.get("actor") or {}
    by, email = str(actor.get("name") or "someone"), actor.get("email")
    if kind == "Comment" and p.get("action") == "create":
        return Change("linear", str(data["issueId"]), "comment", str((data.get("user") or {}).get("name") or by), body=str(data.get("body") or ""))
    if kind != "Issue" or p.get("action") != "update":
        return None
    changed = p.get("updatedFrom") or {}
    if "stateId" in changed or "completedAt" in changed or "canceledAt" in changed:
        state = (data.get("state") or {}).get("type")
        action = {"completed": "closed", "canceled": "wont_fix"}.get(str(state), "reopened")
        return Change("linear", str(data["id"]), action, by, by_email=email)
    if "assigneeId" in changed:
        return Change("linear", str(data["id"]), "assigned", by, by_email=email, assignee_email=(data.get("assignee") or {}).get("email"))
    return None


# -- working a stored webhook ------------------------------------------------------------------
class InboxRouter:
    """The inbox worker's handler: stored tracker webhooks here, Slack events to bot.delivery.inbox."""

    def __init__(self, *, slack: Callable[[SlackEvent, str], None], trackers: Callable[[SlackEvent, str], None]) -> None:
        self._slack = slack
        self._trackers = trackers

    def __call__(self, row: SlackEvent, owner: str) -> None:
        (self._trackers if row.event_type.startswith(EVENT_PREFIX) else self._slack)(row, owner)


class WebhookWork:
    def __init__(self, *, engine: Engine, settings: Settings, client: WebClient, on_done: Callable[[], None]) -> None:
        self._engine = engine
        self._settings = settings
        self._client = client
        self._on_done = on_done

    def __call__(self, row: SlackEvent, owner: str) -> None:
        body = row.body or {}
        change = parse(str(body.get("tracker")), str(body.get("kind")), body.get("payload") or {})
        try:
            # Slack look-ups before the transaction: no Web API call inside one.
            actor = self._slack_user(change.by_email) if change else None
            assignee = self._slack_user(change.assignee_email) if change and change.action == "assigned" else None
            with session_scope(self._engine) as session:
                link = service.find_link(session, tracker=change.tracker, external_id=change.external_id) if change else None
                if change is not None and link is not None:
                    sync.catch_up(session, link)  # what Slack changed first goes out first
                    with sync.caused_by_tracker(session, link):  # what the tracker causes is not news for it
                        self._apply(session, link, change, actor=actor, assignee=assignee)
                if not queue.finish(session, row, owner=owner, also={"body": {"tracker": body.get("tracker"), "kind": body.get("kind"), "redacted": True}}):
                    session.rollback()
                    return
        except Exception as exc:  # recorded and retried like a failed Slack event
            with session_scope(self._engine) as session:
                status = queue.retry_later(session, row, owner=owner, delay=timedelta(seconds=min(60, 2 ** row.attempts)),
                                           error=f"{type(exc).__name__}: {exc}", max_attempts=MAX_ATTEMPTS)
            log.event_failed(row.event_id, str(exc), status)
            return
        self._on_done()

    def _apply(self, session: Any, link: Any, change: Change, *, actor: str | None, assignee: str | None) -> None:
        if change.action == "comment":
            if sync.SIGNATURE in (change.body or ""):
                return  # our own comment, heard back: never an echo
            ticket = session.get(Ticket, link.ticket_id)
            setting = channel_config(session, team_id=link.team_id, channel=ticket.channel if ticket else None)
            service.commented_in_tracker(session, link, by=change.by, body=change.body or "", to_thread=bool(setting and setting.comments))
        elif change.action in ("closed", "wont_fix"):
            service.closed_in_tracker(session, link, by=change.by, actor=actor, comment=change.comment or self._closing_comment(session, link),
                                      wont_fix=change.action == "wont_fix")
        elif change.action == "reopened":
            service.reopened_in_tracker(session, link, by=change.by, actor=actor)
        elif change.action == "assigned":
            service.assigned_in_tracker(session, link, assignee=assignee, by=change.by)

    @staticmethod
    def _closing_comment(session: Any, link: Any) -> str | None:
        """GitHub's "Close with comment" sends the comment first (worked first: same lane)."""
        since = utcnow() - timedelta(seconds=CLOSING_COMMENT_WINDOW)
        note = session.execute(
            select(TicketEvent.note).where(TicketEvent.ticket_id == link.ticket_id, TicketEvent.kind == "tracker_comment", TicketEvent.at >= since)
            .order_by(TicketEvent.id.desc()).limit(1)  # type: ignore[union-attr]
        ).scalar()
        if not note:
            return None
        return str(note).split(": ", 1)[-1]  # "<who> in <key>: <text>"

    def _slack_user(self, email: str | None) -> str | None:
        """The Slack user with this e-mail (users:read.email), or None when there is none."""
        if not email:
            return None
        try:
            return str((self._client.users_lookupByEmail(email=email).get("user") or {}).get("id") or "") or None
        except Exception:  # users_not_found, no scope: the change still comes through, unmapped
            return None
