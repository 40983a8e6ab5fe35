"""Closing the loop: everyone who reported a problem hears how it ended, where they reported it and
in a direct message.

Called by bot.tickets.actions in the transaction that closes the ticket, so the notices exist if and
only if the change does; everything goes through the outbox, and every DM has a dedupe key naming
the ticket, the round (how many times it reached that status) and the person, so none can be
enqueued twice. DMs respect `/hc notify off` (the thread replies are still posted); bots are never
DMed (the outbox checks users.info at delivery). Plain data and a Session: no Bolt here.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bot.delivery import outbox
from bot.tickets import blocks, cards, outbox_rows as ticket_delivery
from models.loop_tables import NotifyPreference, ResolutionNotice
from models.tables import ReportMessage, Ticket, TicketEvent
from models.types import utcnow

RESOLVED_REACTION = "white_check_mark"
# The rating buttons in a resolution DM; handled by bot.loop.csat (handlers/loop.py).
CSAT_UP, CSAT_DOWN = "csat_up", "csat_down"
NOTE_LIMIT = 1000


# -- who hears ---------------------------------------------------------------------------------
def recipients(ticket: Ticket, *, exclude: str | None = None) -> list[str]:
    """The reporter and everyone affected, once each, in that order; not the person acting."""
    people = [ticket.reporter, *ticket.affected_users]
    return [u for u in dict.fromkeys(p for p in people if p) if u != exclude]


def dms_enabled(session: Session, *, team_id: str, user: str) -> bool:
    found = session.get(NotifyPreference, (team_id, user))
    return found is None or found.dms


def set_dms(session: Session, *, team_id: str, user: str, enabled: bool) -> bool:
    """Turn a person's DMs on or off; False when that was already the setting."""
    found = session.get(NotifyPreference, (team_id, user))
    if (found is None and enabled) or (found is not None and found.dms == enabled):
        return False
    found = found or NotifyPreference(team_id=team_id, user_id=user)
    found.dms, found.updated_at = enabled, utcnow()
    session.add(found)
    return True


def round_of(session: Session, ticket: Ticket, *, status: str) -> int:
    """How many times the ticket has reached `status` (this time included): resolved, reopened and
    resolved again is round 2, whose notices are new ones, not repeats of round 1."""
    count = session.execute(
        select(func.count()).select_from(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.field_name == "status", TicketEvent.new_value == status
        )
    ).scalar_one()
    return max(1, int(count))


# -- resolved ----------------------------------------------------------------------------------
def resolved(session: Session, ticket: Ticket, *, actor: str | None, note: str, by: str | None = None) -> list[ResolutionNotice]:
    """The ticket was just resolved (its own thread already has the announcement and the card is
    being updated, by bot.tickets.actions.resolve): mark the report, tell every report thread that
    joined it, and DM every reporter with the 👍/👎 question. Returns the DMs' rating rows."""
    assert ticket.id is not None
    round_ = round_of(session, ticket, status="resolved")
    _react(session, ticket, channel=ticket.channel, ts=ticket.message_ts or ticket_delivery.TICKET_CARD)
    # `by`: who resolved it when that is not a Slack user (mrkdwn, made safe by the caller): the
    # tracker it was closed in (bot.trackers).
    by = by or f"<@{actor}>"
    told = _tell_joined_reports(session, ticket, by=by, note=note, round_=round_)
    notices = []
    for user in recipients(ticket, exclude=actor):
        if not dms_enabled(session, team_id=ticket.team_id, user=user):
            continue
        notice = ResolutionNotice(team_id=ticket.team_id, ticket_id=ticket.id, round=round_, user_id=user, resolved_by=actor)
        session.add(notice)
        session.flush()  # the buttons carry its id
        text, body = resolution_dm(ticket, notice=notice, note=note, by=by, joined_via=told.get(user))
        outbox.enqueue_dm(session, user=user, text=text, blocks_=body, team_id=ticket.team_id, ticket_id=ticket.id,
                          dedupe_key=f"loop:resolved:{ticket.id}:{round_}:{user}")
        notices.append(notice)
    return notices


def _tell_joined_reports(session: Session, ticket: Ticket, *, by: str, note: str, round_: int) -> dict[str, str]:
    """Reports that joined this ticket elsewhere hear it in their own thread too: reports linked as
    duplicates, and tickets closed as duplicates of this one. Returns {user: the key they filed}."""
    said = f"{by} resolved {ticket.key}, which this report joined: {blocks.safe(note, limit=NOTE_LIMIT)}"
    text = f":white_check_mark: {said}"
    body = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    joined: dict[str, str] = {}
    links = session.execute(
        select(ReportMessage).where(ReportMessage.ticket_id == ticket.id, ReportMessage.role == "duplicate").order_by(ReportMessage.id)
    ).scalars().all()
    for link in links:
        outbox.enqueue(
            session, method="chat.postMessage", team_id=ticket.team_id, ticket_id=ticket.id,
            params={"channel": link.channel, "thread_ts": link.message_ts, "text": blocks.bot_mrkdwn(text), "blocks": body, "unfurl_links": False},
            dedupe_key=f"loop:resolved:{ticket.id}:{round_}:thread:{link.channel}:{link.message_ts}",
        )
        _react(session, ticket, channel=link.channel, ts=link.message_ts)
    duplicates = session.execute(
        select(Ticket).where(Ticket.team_id == ticket.team_id, Ticket.duplicate_of == ticket.key, Ticket.status == "duplicate").order_by(Ticket.number)
    ).scalars().all()
    for duplicate in duplicates:
        if not duplicate.channel:
            continue
        cards.post_in_thread(session, duplicate, text=text, blocks_=body, dedupe_key=f"loop:resolved:{ticket.id}:{round_}:dup:{duplicate.id}")
        _react(session, duplicate, channel=duplicate.channel, ts=duplicate.message_ts or ticket_delivery.TICKET_CARD)
        for user in recipients(duplicate):
            joined.setdefault(user, duplicate.key)
    return joined


def resolution_dm(ticket: Ticket, *, notice: ResolutionNotice, note: str, by: str, joined_via: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The DM: what was fixed, how, by whom, a link to the thread, and the rating question."""
    title = blocks.safe(ticket.title, limit=200)
    via = f" (your report {joined_via} joined it)" if joined_via else ""
    where = f" · reported in <#{ticket.channel}>" if ticket.channel else ""
    summary = (
        f":white_check_mark: *{ticket.key} is fixed*{via} — {title}\n"
        f"*Resolution:* {blocks.safe(note, limit=NOTE_LIMIT)}\n"
        f"Resolved by {by} · <{ticket_delivery.TICKET_LINK}|View the thread>{where}"
    )
    value = str(notice.id)
    body = [
        {"type": "section", "block_id": "resolution", "text": {"type": "mrkdwn", "text": summary}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Did this fix it for you?*"}},
        {"type": "actions", "block_id": "csat", "elements": [
            blocks.button(CSAT_UP, ":+1: Yes, it's fixed", value, style="primary"),
            blocks.button(CSAT_DOWN, ":-1: No, still broken", value),
        ]},
    ]
    text = blocks.safe(f"{ticket.key} is fixed: {ticket.title} — {note}", limit=300)
    return text, body


# -- closed without a fix ------------------------------------------------------------------------
def wont_fix(session: Session, ticket: Ticket, *, actor: str | None, note: str, by: str | None = None) -> None:
    """Closed as won't fix: the reporters are told why (the note is required by the caller).
    `by`: who closed it when that is not a Slack user (safe mrkdwn; bot.trackers)."""
    round_ = round_of(session, ticket, status="wont_fix")
    summary = (
        f":no_entry_sign: *{ticket.key} won't be fixed* — {blocks.safe(ticket.title, limit=200)}\n"
        f"*Why:* {blocks.safe(note, limit=NOTE_LIMIT)}\n"
        f"Closed by {by or f'<@{actor}>'} · <{ticket_delivery.TICKET_LINK}|View the thread>"
    )
    text = blocks.safe(f"{ticket.key} won't be fixed: {note}", limit=300)
    _dm_all(session, ticket, exclude=actor, text=text, summary=summary, key=f"loop:wont_fix:{ticket.id}:{round_}")


def duplicate_closed(session: Session, ticket: Ticket, *, original: Ticket, actor: str) -> None:
    """Closed as a duplicate: its reporters learn which ticket they joined (and hear when it is fixed)."""
    round_ = round_of(session, ticket, status="duplicate")
    summary = (
        f":link: *Your report {ticket.key} joined {original.key}* — {blocks.safe(original.title, limit=200)}\n"
        f"<@{actor}> found it is the same problem. I'll let you know when {original.key} is fixed. "
        f"<{ticket_delivery.TICKET_LINK}|View {original.key}'s thread>"
    )
    text = blocks.safe(f"Your report {ticket.key} joined {original.key}: {original.title}", limit=300)
    # The link and any delivery failure belong to the original: that is where the conversation goes on.
    _dm_all(session, original, people=recipients(ticket, exclude=actor), text=text, summary=summary, key=f"loop:dup:{ticket.id}:{round_}")


def _dm_all(session: Session, ticket: Ticket, *, text: str, summary: str, key: str, exclude: str | None = None, people: list[str] | None = None) -> None:
    for user in people if people is not None else recipients(ticket, exclude=exclude):
        if dms_enabled(session, team_id=ticket.team_id, user=user):
            body = [{"type": "section", "text": {"type": "mrkdwn", "text": summary}}]
            outbox.enqueue_dm(session, user=user, text=text, blocks_=body, team_id=ticket.team_id, ticket_id=ticket.id, dedupe_key=f"{key}:{user}")


# -- reopened ----------------------------------------------------------------------------------
def reopened(session: Session, ticket: Ticket, *, previous: str) -> None:
    """A fixed ticket is open again: its report no longer carries the check mark."""
    if previous in ("resolved", "closed") and ticket.channel:
        outbox.enqueue(
            session, method="reactions.remove", team_id=ticket.team_id, ticket_id=ticket.id,
            params={"channel": ticket.channel, "timestamp": ticket.message_ts or ticket_delivery.TICKET_CARD, "name": RESOLVED_REACTION},
        )


def _react(session: Session, ticket: Ticket, *, channel: str | None, ts: str) -> None:
    if channel:
        outbox.enqueue(session, method="reactions.add", team_id=ticket.team_id, ticket_id=ticket.id,
                       params={"channel": channel, "timestamp": ts, "name": RESOLVED_REACTION})
