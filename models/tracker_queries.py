"""Queries of the tracker hand-off: which ticket events a tracker issue does not have yet."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, insert, literal, select
from sqlmodel import Session

from models.tables import TicketEvent
from models.tracker_tables import TrackerCarried, TrackerLink


def _not_carried(link_id: object) -> object:
    return ~exists().where(TrackerCarried.link_id == link_id, TrackerCarried.event_id == TicketEvent.id)


def uncarried_events(session: Session, link: TrackerLink, *, limit: int) -> list[TicketEvent]:
    """The ticket's events the tracker has not had, oldest first."""
    return list(session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == link.ticket_id, _not_carried(link.id)).order_by(TicketEvent.id).limit(limit)  # type: ignore[arg-type]
    ).scalars().all())


def links_behind(session: Session, *, limit: int) -> list[int]:
    """Links (not failed) whose ticket has events their tracker has not had."""
    return list(session.execute(
        select(TrackerLink.id).join(TicketEvent, TicketEvent.ticket_id == TrackerLink.ticket_id)
        .where(TrackerLink.state != "failed", _not_carried(TrackerLink.id)).distinct().limit(limit)  # type: ignore[arg-type]
    ).scalars().all())


def mark_visible_carried(session: Session, link: TrackerLink) -> None:
    """Every event of the ticket this transaction can see counts as carried (the push: the issue
    is made from the ticket as it is). An event committed a moment later stays news."""
    session.flush()
    session.execute(insert(TrackerCarried).from_select(
        ["link_id", "event_id"],
        select(literal(link.id), TicketEvent.id).where(TicketEvent.ticket_id == link.ticket_id, _not_carried(link.id)),  # type: ignore[arg-type]
    ))


def mark_carried(session: Session, link: TrackerLink, event_ids: Iterable[int]) -> None:
    for event_id in sorted(set(event_ids)):
        session.add(TrackerCarried(link_id=link.id or 0, event_id=event_id))
