"""Pushing tickets to trackers and recording what they answered; the changes a tracker makes
coming back (resolved, reopened, assigned, commented). Plain data and a Session: no Bolt here.

Every tracker call is an outbox row (method `tracker.*`, lane `tracker:<ticket id>` so a ticket's
calls run in order: its comments never overtake its creation), written in the caller's
transaction; bot.trackers.delivery makes the calls.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bot.delivery import outbox
from bot.loop import notices as notify
from bot.tickets import blocks, cards
from bot.errors import UserInputError
from bot.runtime.settings import Settings
from bot.tickets.service import record
from bot.trackers.config import NAMES, Target, not_configured_text, configured
from models.tables import OutboxMessage, Ticket, TicketEvent
from models.tracker_queries import mark_visible_carried
from models.tracker_tables import TrackerLink
from models.types import utcnow

METHOD_PREFIX = "tracker."
CREATE, COMMENT, SEVERITY = "tracker.create", "tracker.comment", "tracker.severity"
CLOSED = ("resolved", "closed", "duplicate", "wont_fix")


def link_of(session: Session, ticket: Ticket) -> TrackerLink | None:
    return session.execute(select(TrackerLink).where(TrackerLink.ticket_id == ticket.id)).scalars().first()


def enqueue_call(session: Session, link: TrackerLink, *, method: str, params: dict[str, Any], dedupe_key: str | None = None) -> OutboxMessage:
    row = outbox.enqueue(session, method=method, params={"link_id": link.id, **params}, team_id=link.team_id, ticket_id=link.ticket_id, dedupe_key=dedupe_key)
    row.lane = f"tracker:{link.ticket_id}"
    return row


def push(session: Session, ticket: Ticket, *, settings: Settings, target: Target, actor: str | None) -> TrackerLink:
    """Ask for the ticket's issue to be created (once: a second push says where it went)."""
    if target.tracker not in configured(settings):
        raise UserInputError(not_configured_text(target.tracker))
    found = link_of(session, ticket)
    if found is not None and found.state != "failed":
        where = found.external_key or f"{NAMES[found.tracker]} {found.target} (on its way)"
        raise UserInputError(f"{ticket.key} is already tracked in {where}.")
    link = found or TrackerLink(team_id=ticket.team_id, ticket_id=ticket.id or 0, tracker=target.tracker, target=target.target)
    attempt = 1 if found is None else _attempts(session, link) + 1
    link.tracker, link.target, link.state, link.error, link.pushed_by, link.updated_at = target.tracker, target.target, "pending", None, actor, utcnow()
    session.add(link)
    session.flush()
    # The history up to now is in the issue itself; only later changes are news for the tracker.
    mark_visible_carried(session, link)
    # The dedupe key makes two pushes racing (two replicas, a double click) write one row.
    enqueue_call(session, link, method=CREATE, params={}, dedupe_key=f"tracker:create:{ticket.id}:{attempt}")
    how = f"<@{actor}>" if actor else "Hypercare (automatic for its severity)"
    record(session, ticket, actor=actor, kind="tracker", note=f"{how} sent it to {target.label}")
    cards.refresh_card(session, ticket)  # "Sending to …" instead of the button
    return link


def _attempts(session: Session, link: TrackerLink) -> int:
    return int(session.execute(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.ticket_id == link.ticket_id, OutboxMessage.method == CREATE)).scalar_one())


def recorded(session: Session, link: TrackerLink, *, external_id: str, key: str, url: str) -> None:
    """The tracker made the issue: remember it, say so in the thread, show it on the card."""
    ticket = session.get(Ticket, link.ticket_id)
    link.state, link.external_id, link.external_key, link.url, link.error, link.updated_at = "linked", external_id, key, url, None, utcnow()
    session.add(link)
    if ticket is None:
        return
    record(session, ticket, actor=None, kind="tracker", note=f"tracked in {key} ({url})")
    if ticket.channel:
        where = f"<{url}|{blocks.safe(key, limit=200)}>" if url else blocks.safe(key, limit=200)
        text = f":link: Tracked in {where}"
        cards.post_in_thread(session, ticket, text=text, blocks_=[{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}],
                             dedupe_key=f"tracker:tracked:{ticket.id}:{key}")
        cards.refresh_card(session, ticket)


def failed(session: Session, link: TrackerLink, *, method: str, error: str, fix: str) -> None:
    """A permanent error: on the ticket, and told to whoever pushed it (the thread, when automatic)."""
    ticket = session.get(Ticket, link.ticket_id)
    what = "create the issue" if method == CREATE else "update the issue"
    if method == CREATE:
        link.state, link.error, link.updated_at = "failed", f"{error} — {fix}", utcnow()
        session.add(link)
    if ticket is None:
        return
    session.add(TicketEvent(ticket_id=ticket.id or 0, kind="tracker_failed", note=f"{NAMES[link.tracker]} {link.target}: {error}"))
    text = (f":warning: I couldn't {what} for *{ticket.key}* in {NAMES[link.tracker]} {blocks.safe(link.target, limit=200)}: "
            f"{blocks.safe(error, limit=400)}\n*To fix:* {blocks.safe(fix, limit=400)}"
            + (f"\nThen try again: `/hc push {ticket.key}`" if method == CREATE else ""))
    if link.pushed_by:
        outbox.enqueue_dm(session, user=link.pushed_by, text=blocks.safe(text, limit=300), blocks_=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                          team_id=ticket.team_id, ticket_id=ticket.id)
    elif ticket.channel:
        cards.post_in_thread(session, ticket, text=text)
    if method == CREATE:
        cards.refresh_card(session, ticket)


# -- back from the tracker ---------------------------------------------------------------------
def find_link(session: Session, *, tracker: str, external_id: str) -> TrackerLink | None:
    """The link a webhook is about, locked: the periodic sync (which locks it too) and this
    webhook never carry the same events twice."""
    return session.execute(
        select(TrackerLink).where(TrackerLink.tracker == tracker, TrackerLink.external_id == external_id, TrackerLink.state == "linked")
        .with_for_update()
    ).scalars().first()


def closed_in_tracker(session: Session, link: TrackerLink, *, by: str, actor: str | None, comment: str | None, wont_fix: bool = False) -> bool:
    """Closed/done in the tracker: resolved here, with everything resolving does (issue 7);
    closed as not planned / canceled there: won't fix here, and the reporters are told why."""
    ticket = session.get(Ticket, link.ticket_id)
    if ticket is None or ticket.status in CLOSED:
        return False  # already closed here (perhaps that is what the tracker heard about)
    from bot.tickets.actions import apply  # the one place tickets change

    key = link.external_key or link.target
    who = f"<@{actor}>" if actor else blocks.safe(by, limit=100)
    if wont_fix:
        note = (comment or "").strip() or f"Closed as not planned in {key} by {by}"
        text = f":no_entry_sign: Closed as not planned in {blocks.safe(key, limit=200)} by {who}: {blocks.safe(note, limit=1000)}"
        apply(session, ticket, actor=actor, note=note, message=text, status="wont_fix", resolution=note, resolved_at=utcnow())  # type: ignore[arg-type]
        notify.wont_fix(session, ticket, actor=actor, note=note, by=f"{who} in {blocks.safe(key, limit=200)}")
        return True
    note = (comment or "").strip() or f"Closed in {key} by {by}"
    text = f":white_check_mark: Resolved in {blocks.safe(key, limit=200)} by {who}: {blocks.safe(note, limit=1000)}"
    apply(session, ticket, actor=actor, note=note, message=text, status="resolved", resolution=note, resolved_at=utcnow())  # type: ignore[arg-type]
    notify.resolved(session, ticket, actor=actor, note=note, by=f"{who} in {blocks.safe(key, limit=200)}")  # type: ignore[arg-type]
    return True


def reopened_in_tracker(session: Session, link: TrackerLink, *, by: str, actor: str | None) -> bool:
    ticket = session.get(Ticket, link.ticket_id)
    if ticket is None or ticket.status not in CLOSED:
        return False
    from bot.tickets.actions import apply

    who = f"<@{actor}>" if actor else blocks.safe(by, limit=100)
    text = f":leftwards_arrow_with_hook: Reopened in {blocks.safe(link.external_key or link.target, limit=200)} by {who}"
    previous = ticket.status
    apply(session, ticket, actor=actor, note=f"reopened in {link.external_key} by {by}", message=text, status="triaged",  # type: ignore[arg-type]
          resolved_at=None, resolution=None, duplicate_of=None)
    notify.reopened(session, ticket, previous=previous)
    return True


def assigned_in_tracker(session: Session, link: TrackerLink, *, assignee: str | None, by: str) -> bool:
    ticket = session.get(Ticket, link.ticket_id)
    if ticket is None or not assignee or ticket.assignee == assignee:
        return False
    from bot.tickets.actions import apply

    text = f"{blocks.safe(link.external_key or link.target, limit=200)}: assigned to <@{assignee}> by {blocks.safe(by, limit=100)}"
    return bool(apply(session, ticket, actor=None, note=f"assigned in {link.external_key}", message=text, assignee=assignee))  # type: ignore[arg-type]


def commented_in_tracker(session: Session, link: TrackerLink, *, by: str, body: str, to_thread: bool) -> None:
    ticket = session.get(Ticket, link.ticket_id)
    if ticket is None:
        return
    record(session, ticket, actor=None, kind="tracker_comment", note=f"{by} in {link.external_key}: {body[:2000]}")
    if to_thread and ticket.channel:
        text = f":speech_balloon: *{blocks.safe(by, limit=100)}* in {blocks.safe(link.external_key or '', limit=200)}: {blocks.safe(body, limit=1500)}"
        cards.post_in_thread(session, ticket, text=text, blocks_=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
