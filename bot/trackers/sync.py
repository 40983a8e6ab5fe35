"""Keeping the tracker in step: what changes in Slack after the push becomes comments and
updates there; new tickets of the severities a channel chose are pushed automatically.

Driven by the ticket's own history (ticket_event), so no other feature has to know trackers exist:
each link remembers which events its issue has (tracker_carried), and a periodic job (and every
tracker webhook, before it changes anything) carries the others. Events the tracker itself caused
are marked carried in the transaction that makes them, so nothing echoes back.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.runtime.settings import Settings
from bot.trackers import service
from bot.trackers.config import auto_includes, configured, target_for
from bot.trackers.content import CATEGORY_LABEL, plain
from models.db import session_scope
from models.tables import DETAILS, OPEN_STATUSES, Ticket, TicketEvent
from models.tracker_queries import links_behind, mark_carried, uncarried_events
from models.tracker_tables import TrackerChannel, TrackerLink

logger = logging.getLogger("hypercare.trackers")
# Every comment Hypercare writes ends with this; a webhook for such a comment is ours, ignored.
SIGNATURE = "— via Hypercare"
DETAIL_HEADING = {"steps": "Steps to reproduce", "expected": "Expected", "actual": "Actual", "environment": "Environment"}
BATCH = 200


def comment_text(ticket: Ticket, text: str) -> str:
    return f"{text}\n\n{SIGNATURE} ({ticket.key})"


def catch_up(session: Session, link: TrackerLink) -> int:
    """Carry the ticket's events the tracker has not had; returns how many calls."""
    if link.state == "failed":
        return 0
    events = uncarried_events(session, link, limit=BATCH)
    if not events:
        return 0
    # The ticket after its events: on PostgreSQL each statement sees what had committed when it
    # began, so a ticket read first could predate an event read next ("1 people affected" for
    # the link that made it 2).
    ticket = session.get(Ticket, link.ticket_id, populate_existing=True)
    if ticket is None:
        return 0
    calls = sum(_carry(session, link, ticket, event) for event in events)
    mark_carried(session, link, (event.id for event in events if event.id is not None))
    return calls


@contextmanager
def caused_by_tracker(session: Session, link: TrackerLink) -> Iterator[None]:
    """The ticket events written inside this block are the tracker's own doing: not news for it.
    Only these: an event another transaction commits meanwhile is still carried later."""
    written: list[TicketEvent] = []

    def collect(flushing: Session, _context: Any) -> None:
        written.extend(obj for obj in flushing.new if isinstance(obj, TicketEvent))

    orm_event.listen(session, "after_flush", collect)
    try:
        yield
        session.flush()
    finally:
        orm_event.remove(session, "after_flush", collect)
    mark_carried(session, link, (e.id for e in written if e.id is not None and e.ticket_id == link.ticket_id))


def _carry(session: Session, link: TrackerLink, ticket: Ticket, event: TicketEvent) -> int:
    text: str | None = None
    if event.kind == "changed" and event.field_name in DETAILS and event.new_value:
        text = f"**{DETAIL_HEADING[event.field_name]}** (added in Slack):\n{plain(event.new_value)}"
    elif event.kind == "changed" and event.field_name == "severity":
        service.enqueue_call(session, link, method=service.SEVERITY, params={"old": event.old_value, "new": event.new_value})
        text = f"Severity changed in Slack: {event.old_value} → {event.new_value}" + (f" ({plain(event.note, limit=300)})" if event.note else "")
    elif event.kind == "changed" and event.field_name == "category":
        text = f"Category changed in Slack: {CATEGORY_LABEL.get(event.new_value or '', event.new_value)}"
    elif event.kind == "changed" and event.field_name == "status" and event.new_value == "resolved":
        text = f"Resolved in Slack: {plain(event.note or ticket.resolution or '')}"
    elif event.kind == "changed" and event.field_name == "status" and event.old_value in service.CLOSED and event.new_value in OPEN_STATUSES:
        text = "Reopened in Slack" + (f": {plain(event.note, limit=500)}" if event.note else "")
    elif event.kind == "linked":
        affected = max(1, len(ticket.affected_users))
        text = f"Another report of this problem in Slack: {affected} people affected now.\n> {plain(event.note, limit=800)}"
    elif event.kind in ("comment", "answer") and event.note:
        text = f"Added in the Slack thread:\n> {plain(event.note, limit=2000)}"
    if text is None:
        return 0
    service.enqueue_call(session, link, method=service.COMMENT, params={"text": comment_text(ticket, text)})
    return 1


def run(*, engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """The periodic job: carry news for every linked ticket, then auto-push. Returns calls queued."""
    if not configured(settings):
        return 0
    calls = 0
    with session_scope(engine) as session:
        behind = links_behind(session, limit=BATCH)
    for link_id in behind:
        with session_scope(engine) as session:  # one ticket per transaction; the row lock orders replicas
            link = session.execute(select(TrackerLink).where(TrackerLink.id == link_id).with_for_update()).scalars().first()
            if link is not None:
                calls += catch_up(session, link)
    return calls + auto_push(engine=engine, settings=settings)


def auto_push(*, engine: Engine, settings: Settings) -> int:
    """New open tickets in channels with `/hc tracker auto …`, of those severities, not yet sent."""
    with session_scope(engine) as session:
        channels = session.execute(select(TrackerChannel).where(TrackerChannel.auto != "")).scalars().all()
        wanted: list[int] = []
        for channel in channels:
            rows = session.execute(
                select(Ticket.id, Ticket.severity).outerjoin(TrackerLink, TrackerLink.ticket_id == Ticket.id).where(
                    Ticket.team_id == channel.team_id, Ticket.channel == channel.channel, Ticket.status.in_(OPEN_STATUSES),  # type: ignore[attr-defined]
                    Ticket.created_at >= (channel.auto_since or channel.updated_at), TrackerLink.id.is_(None),  # type: ignore[union-attr]
                ).limit(BATCH)
            ).all()
            wanted += [ticket_id for ticket_id, severity in rows if auto_includes(channel.auto, severity)]
    pushed = 0
    for ticket_id in wanted:
        try:
            with session_scope(engine) as session:
                ticket = session.get(Ticket, ticket_id)
                if ticket is None or service.link_of(session, ticket) is not None:
                    continue
                target = target_for(session, settings, team_id=ticket.team_id, channel=ticket.channel)
                if target is None:
                    continue
                service.push(session, ticket, settings=settings, target=target, actor=None)
                pushed += 1
        except IntegrityError:  # another replica pushed it first: the unique link says so
            logger.debug("ticket %s was auto-pushed by another process", ticket_id)
    return pushed
