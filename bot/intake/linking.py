"""Duplicate reports: link a new report to the ticket it repeats, suggest it, or note a recent fix.

`bot.duplicates.judge` says link (confident), suggest (borderline) or nothing. What the bot does:
- link: only into an open ticket. The report joins it (affected people, history, severity).
- suggest: the report is filed as its own ticket; its thread says "Possibly the same as HC-12"
  with *Same problem* (closes it as a duplicate of HC-12, its people join HC-12) and *Different*
  (recorded; the pair is never suggested again).
- a ticket resolved in the last RESOLVED_DAYS days, at either level: never linked (the reporter may
  be seeing a fix not yet deployed, or a regression: the triage team decides), the report is filed
  and its thread names that ticket with its resolution note; both tickets' histories say so.
"""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import delete, select
from sqlmodel import Session

from bot.delivery import outbox
from bot.tickets import actions as ticket_actions, blocks, cards
from bot.duplicates import LINK, Match, candidate_texts, judge
from bot.errors import UserInputError
from bot.tickets.permissions import TriageTeam, require_may_split
from bot.tickets.service import change, get_ticket, record
from bot.triage import severity_for
from models.duplicate_tables import DuplicatePair
from models.tables import OPEN_STATUSES, SEVERITIES, ReportMessage, Ticket
from models.types import utcnow

SPLIT_ACTION = "not_a_duplicate"
SAME_ACTION, DIFFERENT_ACTION = "duplicate_same", "duplicate_different"
CANDIDATE_LIMIT = 500  # the most recent open tickets are where a war-room duplicate lives
RESOLVED_LIMIT = 100
RESOLVED_DAYS = 7


def find_duplicate(session: Session, *, team_id: str, text: str, ticket_id: int | None = None) -> tuple[Ticket, Match] | None:
    """The open or recently resolved ticket this text most likely repeats, and how sure that is.
    With `ticket_id` (the text is that ticket's report), the ticket itself and every ticket
    already suggested for it or decided about are left out."""
    since = utcnow() - timedelta(days=RESOLVED_DAYS)
    base = select(Ticket.id, Ticket.title, Ticket.description).where(Ticket.team_id == team_id)
    if ticket_id is not None:
        paired = select(DuplicatePair.other_id).where(DuplicatePair.ticket_id == ticket_id).union(
            select(DuplicatePair.ticket_id).where(DuplicatePair.other_id == ticket_id))
        base = base.where(Ticket.id != ticket_id, Ticket.id.not_in(paired))  # type: ignore[union-attr]
    open_rows = session.execute(
        base.where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.created_at.desc()).limit(CANDIDATE_LIMIT)  # type: ignore[attr-defined]
    ).all()
    resolved_rows = session.execute(
        base.where(Ticket.status == "resolved", Ticket.resolved_at >= since).order_by(Ticket.resolved_at.desc()).limit(RESOLVED_LIMIT)  # type: ignore[union-attr,operator]
    ).all()
    match = judge(text, candidate_texts((r[0], r[1], r[2]) for r in [*open_rows, *resolved_rows]))
    if match is None:
        return None
    ticket = session.get(Ticket, match.ticket_id)
    return (ticket, match) if ticket is not None else None


def links_outright(ticket: Ticket, match: Match) -> bool:
    return match.outcome == LINK and ticket.status in OPEN_STATUSES


def link_report(
    session: Session, *, ticket: Ticket, team_id: str, channel: str, ts: str, user: str, description: str, match: Match
) -> None:
    """Add the reporter to the ticket, keep their words in its history, and tell them in their thread."""
    assert ticket.id is not None
    session.add(ReportMessage(team_id=team_id, channel=channel, message_ts=ts, ticket_id=ticket.id, user=user, role="duplicate"))
    if user and user not in ticket.affected_users:
        ticket.affected_users = [*ticket.affected_users, user]
    record(session, ticket, actor=user, kind="linked", note=f"Same problem reported by <@{user}> in <#{channel}> (similarity {match.score}, margin {match.margin}, shared: {', '.join(match.shared)}): {description}")
    severity, reasons = severity_for(category=ticket.category, text=ticket.description, affected_count=len(ticket.affected_users))
    if SEVERITIES.index(severity) < SEVERITIES.index(ticket.severity):  # only ever raise it
        change(session, ticket, actor=None, note="; ".join(reasons) or f"{len(ticket.affected_users)} people affected", severity=severity)
    session.add(ticket)
    value = json.dumps({"ticket": ticket.key, "channel": channel, "ts": ts})
    text = f"Looks like {ticket.key} — added you to it. ({len(ticket.affected_users)} people affected)"
    outbox.enqueue(
        session, method="chat.postMessage", team_id=team_id, ticket_id=ticket.id,
        params={
            "channel": channel, "thread_ts": ts, "text": text, "unfurl_links": False,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"Looks like {_where(ticket)}: _{blocks.safe(ticket.title, limit=200)}_ — added you to it."}},
                {"type": "actions", "block_id": "duplicate", "elements": [
                    {"type": "button", "action_id": SPLIT_ACTION, "text": {"type": "plain_text", "text": "No, this is different"}, "value": value},
                ]},
            ],
        },
    )
    outbox.enqueue(session, method="reactions.add", team_id=team_id, ticket_id=ticket.id, params={"channel": channel, "timestamp": ts, "name": "ticket"})
    cards.refresh_card(session, ticket)


def _where(ticket: Ticket) -> str:
    return f"<{ticket.permalink}|{ticket.key}>" if ticket.permalink else ticket.key


def after_filing(session: Session, *, ticket: Ticket, other: Ticket, match: Match) -> None:
    """A filed ticket that may repeat `other`: suggest it (open) or name the recent fix (resolved)."""
    assert ticket.id is not None and other.id is not None
    if other.status == "resolved":
        _note_resolved(session, ticket=ticket, other=other, match=match)
    elif other.status in OPEN_STATUSES:
        _suggest(session, ticket=ticket, other=other, match=match)


def _suggest(session: Session, *, ticket: Ticket, other: Ticket, match: Match) -> None:
    assert ticket.id is not None and other.id is not None
    session.add(DuplicatePair(team_id=ticket.team_id, ticket_id=ticket.id, other_id=other.id, kind="suggested", score=match.score, margin=match.margin))
    record(session, ticket, actor=None, kind="suggested", note=f"Possibly the same as {other.key} (similarity {match.score}, margin {match.margin}, shared: {', '.join(match.shared)})")
    value = json.dumps({"ticket": ticket.key, "other": other.key})
    title = blocks.safe(other.title, limit=200)
    cards.post_in_thread(
        session, ticket, text=f"Possibly the same as {other.key}: {title}",
        blocks_=[
            {"type": "section", "text": {"type": "mrkdwn", "text": f"Possibly the same as {_where(other)}: _{title}_\nIs it the same problem?"}},
            {"type": "actions", "block_id": "duplicate_suggestion", "elements": [
                blocks.button(SAME_ACTION, "Same problem", value, style="primary"),
                blocks.button(DIFFERENT_ACTION, "Different", value),
            ]},
        ],
    )


def _note_resolved(session: Session, *, ticket: Ticket, other: Ticket, match: Match) -> None:
    assert ticket.id is not None and other.id is not None
    session.add(DuplicatePair(team_id=ticket.team_id, ticket_id=ticket.id, other_id=other.id, kind="resolved", score=match.score, margin=match.margin))
    when = blocks.age(other.resolved_at) if other.resolved_at else "recently"
    note = other.resolution or "no resolution note"
    record(session, ticket, actor=None, kind="related", note=f"Looks like {other.key}, resolved {when} ago: {note} — a fix not deployed yet, or a regression (similarity {match.score})")
    record(session, other, actor=None, kind="related", note=f"{ticket.key} looks like this resolved ticket: a fix not deployed yet, or a regression")
    text = (f"This looks like {_where(other)}: _{blocks.safe(other.title, limit=200)}_, resolved {when} ago.\n"
            f">Resolution: {blocks.safe(note, limit=500)}\n"
            f"If the fix has not reached you yet, it should soon; if you see this after it, it may have come back. "
            f"I filed this as {ticket.key} so the triage team can decide.")
    cards.post_in_thread(session, ticket, text=f"This looks like {other.key} ({blocks.safe(other.title, limit=200)}), resolved {when} ago: {blocks.safe(note, limit=500)}",
                         blocks_=[{"type": "section", "block_id": "resolved_match", "text": {"type": "mrkdwn", "text": text}}])


def _pair(session: Session, *, team_id: str, ticket_key: str, other_key: str) -> tuple[Ticket, Ticket, DuplicatePair]:
    ticket = get_ticket(session, team_id=team_id, key=ticket_key)
    other = get_ticket(session, team_id=team_id, key=other_key)
    pair = session.execute(
        select(DuplicatePair).where(DuplicatePair.ticket_id == ticket.id, DuplicatePair.other_id == other.id).with_for_update()
    ).scalars().first()
    if pair is None:
        raise UserInputError(f"I never suggested {ticket.key} and {other.key} as the same problem.")
    if pair.decision is not None:
        said = "the same problem" if pair.decision == "same" else "different problems"
        raise UserInputError(f"<@{pair.decided_by}> already said {ticket.key} and {other.key} are {said}.")
    return ticket, other, pair


def decide_same(session: Session, *, team_id: str, ticket_key: str, other_key: str, actor: str) -> Ticket:
    """*Same problem*: the suggested ticket takes the report over (as `/hc dup` does). Returns it."""
    ticket, other, pair = _pair(session, team_id=team_id, ticket_key=ticket_key, other_key=other_key)
    pair.decision, pair.decided_by, pair.decided_at = "same", actor, utcnow()
    session.add(pair)
    original, _ = ticket_actions.mark_duplicate(session, ticket, actor=actor, original=other)
    return original


def decide_different(session: Session, *, team_id: str, ticket_key: str, other_key: str, actor: str) -> None:
    """*Different*: kept apart; the pair is never suggested again."""
    ticket, other, pair = _pair(session, team_id=team_id, ticket_key=ticket_key, other_key=other_key)
    pair.decision, pair.decided_by, pair.decided_at = "different", actor, utcnow()
    session.add(pair)
    record(session, ticket, actor=actor, kind="not_duplicate", note=f"<@{actor}> said this is a different problem from {other.key}")


def recheck(session: Session, *, ticket: Ticket) -> None:
    """An open ticket's report was edited: suggest a ticket it now repeats (never linked outright:
    it is already filed), unless that pair was suggested or decided before."""
    if ticket.status not in OPEN_STATUSES or ticket.id is None:
        return
    found = find_duplicate(session, team_id=ticket.team_id, text=ticket.description, ticket_id=ticket.id)
    if found is not None:
        after_filing(session, ticket=ticket, other=found[0], match=found[1])


def _duplicate_link(session: Session, *, team_id: str, channel: str, ts: str) -> ReportMessage | None:
    return session.execute(
        select(ReportMessage).where(
            ReportMessage.team_id == team_id, ReportMessage.channel == channel, ReportMessage.message_ts == ts, ReportMessage.role == "duplicate"
        )
    ).scalars().first()


def check_may_unlink(session: Session, *, team_id: str, channel: str, ts: str, actor: str, team: TriageTeam) -> None:
    """What unlink_report checks, changing nothing: NotTriager for a bystander. Asked before the
    report is read back from Slack, so a bystander's click costs no Web API call."""
    link = _duplicate_link(session, team_id=team_id, channel=channel, ts=ts)
    ticket = session.get(Ticket, link.ticket_id) if link is not None else None
    if link is not None and ticket is not None:
        require_may_split(team, user=actor, ticket=ticket, linked_reporter=link.user)


def unlink_report(session: Session, *, team_id: str, channel: str, ts: str, actor: str, team: TriageTeam) -> Ticket | None:
    """Undo a duplicate link; returns the ticket it was linked to (None if it was not linked).
    Only the triage team or the people involved may (NotTriager otherwise, nothing changed)."""
    link = _duplicate_link(session, team_id=team_id, channel=channel, ts=ts)
    if link is None:
        return None
    ticket = session.get(Ticket, link.ticket_id)
    if ticket is None:
        session.execute(delete(ReportMessage).where(ReportMessage.id == link.id))
        return None
    require_may_split(team, user=actor, ticket=ticket, linked_reporter=link.user)
    session.execute(delete(ReportMessage).where(ReportMessage.id == link.id))
    others = session.execute(select(ReportMessage.user).where(ReportMessage.ticket_id == ticket.id)).scalars().all()
    if link.user and link.user != ticket.reporter and link.user not in others:
        ticket.affected_users = [u for u in ticket.affected_users if u != link.user]
    record(session, ticket, actor=actor, kind="unlinked", note=f"<@{actor}> said the report in <#{channel}> is a different problem")
    session.add(ticket)
    cards.refresh_card(session, ticket)
    return ticket
