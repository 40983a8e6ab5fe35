"""Duplicate reports: link a new report to the open ticket it repeats, or split it off again."""
from __future__ import annotations

import json

from sqlalchemy import delete, select
from sqlmodel import Session

from bot.delivery import outbox
from bot.intake.duplicates import Match, best_match, candidate_texts
from bot.tickets import blocks, cards
from bot.tickets.service import change, record
from bot.triage import severity_for
from models.tables import OPEN_STATUSES, SEVERITIES, ReportMessage, Ticket

SPLIT_ACTION = "not_a_duplicate"
CANDIDATE_LIMIT = 500  # the most recent open tickets are where a war-room duplicate lives


def find_duplicate(session: Session, *, team_id: str, text: str) -> tuple[Ticket, Match] | None:
    rows = session.execute(
        select(Ticket.id, Ticket.title, Ticket.description)
        .where(Ticket.team_id == team_id, Ticket.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
        .order_by(Ticket.created_at.desc())  # type: ignore[attr-defined]
        .limit(CANDIDATE_LIMIT)
    ).all()
    match = best_match(text, candidate_texts((r[0], r[1], r[2]) for r in rows))
    if match is None:
        return None
    ticket = session.get(Ticket, match.ticket_id)
    return (ticket, match) if ticket is not None else None


def link_report(
    session: Session, *, ticket: Ticket, team_id: str, channel: str, ts: str, user: str, description: str, match: Match
) -> None:
    """Add the reporter to the ticket, keep their words in its history, and tell them in their thread."""
    assert ticket.id is not None
    session.add(ReportMessage(team_id=team_id, channel=channel, message_ts=ts, ticket_id=ticket.id, user=user, role="duplicate"))
    if user and user not in ticket.affected_users:
        ticket.affected_users = [*ticket.affected_users, user]
    record(session, ticket, actor=user, kind="linked", note=f"Same problem reported by <@{user}> in <#{channel}> (similarity {match.score}, shared: {', '.join(match.shared[:8])}): {description}")
    severity, reasons = severity_for(category=ticket.category, text=ticket.description, affected_count=len(ticket.affected_users))
    if SEVERITIES.index(severity) < SEVERITIES.index(ticket.severity):  # only ever raise it
        change(session, ticket, actor=None, note="; ".join(reasons) or f"{len(ticket.affected_users)} people affected", severity=severity)
    session.add(ticket)
    value = json.dumps({"ticket": ticket.key, "channel": channel, "ts": ts})
    where = f"<{ticket.permalink}|{ticket.key}>" if ticket.permalink else ticket.key
    text = f"Looks like {ticket.key} — added you to it. ({len(ticket.affected_users)} people affected)"
    outbox.enqueue(
        session, method="chat.postMessage", team_id=team_id, ticket_id=ticket.id,
        params={
            "channel": channel, "thread_ts": ts, "text": text, "unfurl_links": False,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"Looks like {where}: _{blocks.safe(ticket.title, limit=200)}_ — added you to it."}},
                {"type": "actions", "block_id": "duplicate", "elements": [
                    {"type": "button", "action_id": SPLIT_ACTION, "text": {"type": "plain_text", "text": "No, this is different"}, "value": value},
                ]},
            ],
        },
    )
    outbox.enqueue(session, method="reactions.add", team_id=team_id, ticket_id=ticket.id, params={"channel": channel, "timestamp": ts, "name": "ticket"})
    cards.refresh_card(session, ticket)


def unlink_report(session: Session, *, team_id: str, channel: str, ts: str, actor: str) -> Ticket | None:
    """Undo a duplicate link; returns the ticket it was linked to (None if it was not linked)."""
    link = session.execute(
        select(ReportMessage).where(
            ReportMessage.team_id == team_id, ReportMessage.channel == channel, ReportMessage.message_ts == ts, ReportMessage.role == "duplicate"
        )
    ).scalars().first()
    if link is None:
        return None
    ticket = session.get(Ticket, link.ticket_id)
    session.execute(delete(ReportMessage).where(ReportMessage.id == link.id))
    if ticket is None:
        return None
    others = session.execute(select(ReportMessage.user).where(ReportMessage.ticket_id == ticket.id)).scalars().all()
    if link.user and link.user != ticket.reporter and link.user not in others:
        ticket.affected_users = [u for u in ticket.affected_users if u != link.user]
    record(session, ticket, actor=actor, kind="unlinked", note=f"<@{actor}> said the report in <#{channel}> is a different problem")
    session.add(ticket)
    cards.refresh_card(session, ticket)
    return ticket
