"""Ratings (CSAT): "Did this fix it for you?" in the resolution DM (bot.loop.notices).

👍 records the rating. 👎 asks for a short reason (a modal) and reopens the ticket to `new`, with a
history entry, and tells the triage team in the ticket's thread. The latest click of a person
counts. `satisfaction` is the rate `/hc stats` and the digest show. Plain data and a Session: the
Slack adapter is handlers/loop.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bot.delivery import outbox
from bot.loop import notices as notify
from bot.tickets import actions as ticket_actions, blocks, cards
from bot.errors import NotFound, PermissionDenied, UserInputError
from bot.tickets.permissions import TriageTeam
from bot.tickets.service import record
from bot.triage import mask_pii
from models.loop_tables import ResolutionNotice
from models.tables import Ticket
from models.types import utcnow

RATE_UP, RATE_DOWN = notify.CSAT_UP, notify.CSAT_DOWN
REASON_VIEW = "hc_csat_reason"
REASON_LIMIT = 500
REOPENABLE = ("resolved", "closed")  # a 👎 after a fix; a ticket set aside (wont_fix, duplicate) stays


@dataclass(frozen=True)
class Where:
    """The DM message the buttons were in, so it can be updated to show the answer."""

    channel: str | None = None
    ts: str | None = None


@dataclass(frozen=True)
class Satisfaction:
    up: int
    down: int

    @property
    def ratings(self) -> int:
        return self.up + self.down

    @property
    def rate(self) -> float | None:
        """The share of 👍 among the ratings; None when nobody has rated yet."""
        return self.up / self.ratings if self.ratings else None

    def describe(self) -> str:
        if self.rate is None:
            return "no ratings yet"
        return f"{round(self.rate * 100)}% :+1: ({self.up} of {self.ratings} ratings; {self.down} :-1:)"


def satisfaction(session: Session, *, team_id: str, since: datetime | None = None) -> Satisfaction:
    """Ratings given since `since` (all of them when None), each person's latest per resolution."""
    query = select(ResolutionNotice.rating, func.count()).where(
        ResolutionNotice.team_id == team_id, ResolutionNotice.rating.is_not(None)  # type: ignore[union-attr]
    )
    if since is not None:
        query = query.where(ResolutionNotice.rated_at >= since)  # type: ignore[operator]
    counts = {rating: count for rating, count in session.execute(query.group_by(ResolutionNotice.rating)).all()}
    return Satisfaction(up=int(counts.get("up", 0)), down=int(counts.get("down", 0)))


def notice_for(session: Session, *, notice_id: str, user: str) -> tuple[ResolutionNotice, Ticket]:
    """The rating question a button belongs to; only the person it was sent to may answer it."""
    found = session.get(ResolutionNotice, int(notice_id)) if str(notice_id).isdigit() else None
    ticket = session.get(Ticket, found.ticket_id) if found is not None else None
    if found is None or ticket is None:
        raise NotFound("I can't find that question any more. Ask the triage team in the ticket's thread.")
    if found.user_id != user:
        raise PermissionDenied("This question was for someone else.")
    return found, ticket


def rate_up(session: Session, *, notice_id: str, user: str, where: Where) -> Ticket:
    notice, ticket = notice_for(session, notice_id=notice_id, user=user)
    _rate(session, notice, ticket, rating="up", reason=None)
    record(session, ticket, actor=user, kind="rating", new="up", note=f"the fix worked for them (resolution {notice.round})")
    _show_answer(session, ticket, where=where, answer=f":+1: You said {ticket.key} is fixed for you. Thank you for letting us know!")
    return ticket


def reason_modal(notice: ResolutionNotice, ticket: Ticket, *, where: Where) -> dict[str, Any]:
    """Asks what is still wrong; submitting it reopens the ticket (rate_down)."""
    meta = json.dumps({"notice": notice.id, "channel": where.channel, "ts": where.ts})
    return {
        "type": "modal", "callback_id": REASON_VIEW, "private_metadata": meta,
        "title": {"type": "plain_text", "text": f"Still broken? {ticket.key}"[:24]},
        "submit": {"type": "plain_text", "text": "Reopen"}, "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{ticket.key}* {blocks.safe(ticket.title, limit=200)}"}},
            {"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "What is still wrong?"},
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": REASON_LIMIT,
                         "placeholder": {"type": "plain_text", "text": "A sentence is enough: what you tried, what you saw"}}},
        ],
    }


def read_reason_metadata(private_metadata: str) -> tuple[str, Where]:
    meta = json.loads(private_metadata or "{}")
    return str(meta.get("notice", "")), Where(channel=meta.get("channel"), ts=meta.get("ts"))


def rate_down(session: Session, *, notice_id: str, user: str, reason: str, team: TriageTeam, where: Where) -> Ticket:
    """👎 with a reason: recorded, and the ticket reopens to `new` with the triage team told."""
    reason = mask_pii((reason or "").strip())  # kept and posted to the triage team like a report
    if not reason:
        raise UserInputError("Please say in a sentence what is still wrong, so the team knows where to look.")
    notice, ticket = notice_for(session, notice_id=notice_id, user=user)
    _rate(session, notice, ticket, rating="down", reason=reason)
    record(session, ticket, actor=user, kind="rating", new="down", note=f"not fixed for them (resolution {notice.round}): {reason}")
    said = blocks.safe(reason, limit=REASON_LIMIT)
    calling = _who_to_tell(team, ticket=ticket, notice=notice)
    if ticket.status in REOPENABLE:
        previous = ticket.status
        text = f":leftwards_arrow_with_hook: <@{user}> says {ticket.key} is not fixed for them, so it is open again (*new*): {said}"
        ticket_actions.apply(
            session, ticket, actor=user, note=f"not fixed for the reporter: {reason}", message=f"{text}\n{calling}".strip(),
            status="new", resolved_at=None, resolution=None, duplicate_of=None,
        )
        notify.reopened(session, ticket, previous=previous)
        answer = f":-1: Sorry it's still broken. I reopened {ticket.key} and told the team; they'll follow up in the thread."
    else:  # already open again (someone else said so first, or the team reopened it)
        text = f":-1: <@{user}> says {ticket.key} is not fixed for them either: {said}"
        cards.post_in_thread(session, ticket, text=text, blocks_=[{"type": "section", "text": {"type": "mrkdwn", "text": f"{text}\n{calling}".strip()}}])
        answer = f":-1: Thanks — {ticket.key} is already open again ({ticket.status.replace('_', ' ')}); I added what you said."
    _show_answer(session, ticket, where=where, answer=answer)
    return ticket


def _rate(session: Session, notice: ResolutionNotice, ticket: Ticket, *, rating: str, reason: str | None) -> None:
    notice.rating, notice.reason, notice.rated_at = rating, reason, utcnow()
    session.add(notice)


def _who_to_tell(team: TriageTeam, *, ticket: Ticket, notice: ResolutionNotice) -> str:
    """The triage team, the assignee and whoever resolved it (ids from config and the database)."""
    people = [f"<@{u}>" for u in dict.fromkeys(u for u in (ticket.assignee, notice.resolved_by) if u)]
    parts = [team.mentions(), *[p for p in people if p not in team.mentions()]]
    mentions = " ".join(p for p in parts if p)
    return f"cc {mentions}" if mentions else ""


def _show_answer(session: Session, ticket: Ticket, *, where: Where, answer: str) -> None:
    """Replace the DM's buttons with the answer, so the question cannot be answered by mistake twice."""
    if not where.channel or not where.ts:
        return
    summary = f"*{ticket.key}* {blocks.safe(ticket.title, limit=200)}"
    outbox.enqueue(
        session, method="chat.update", team_id=ticket.team_id, ticket_id=ticket.id,
        params={"channel": where.channel, "ts": where.ts, "text": blocks.bot_mrkdwn(answer, limit=300), "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": answer}]},
        ]},
    )
