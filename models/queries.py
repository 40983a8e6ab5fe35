"""The queries the domain needs, written once for SQLite and PostgreSQL alike."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.tables import ChannelSetting, OutboxMessage, ReportMessage, Ticket, TicketCounter


def next_ticket_number(session: Session, *, team_id: str) -> int:
    """Hand out the next HC-<n> for a workspace; the row lock makes it safe across processes."""
    for _ in range(3):
        result = session.execute(
            update(TicketCounter)
            .where(TicketCounter.team_id == team_id)
            .values(last_number=TicketCounter.last_number + 1)
            .returning(TicketCounter.last_number)
        ).first()
        if result is not None:
            return int(result[0])
        try:
            with session.begin_nested():
                session.execute(insert(TicketCounter).values(team_id=team_id, last_number=1))
            return 1
        except IntegrityError:
            continue  # another transaction created the counter first: increment it instead
    raise RuntimeError(f"could not allocate a ticket number for {team_id}")


def ticket_by_number(session: Session, *, team_id: str, number: int) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.team_id == team_id, Ticket.number == number)).scalars().first()  # type: ignore[call-overload]


def ticket_for_message(session: Session, *, team_id: str, channel: str, message_ts: str) -> tuple[Ticket, ReportMessage] | None:
    """The ticket a Slack message belongs to (as its report or as a linked duplicate report)."""
    row = session.execute(
        select(Ticket, ReportMessage)
        .join(ReportMessage, ReportMessage.ticket_id == Ticket.id)
        .where(ReportMessage.team_id == team_id, ReportMessage.channel == channel, ReportMessage.message_ts == message_ts)
    ).first()
    return (row[0], row[1]) if row else None


def ticket_for_thread(session: Session, *, team_id: str, channel: str, thread_ts: str) -> Ticket | None:
    """The ticket whose conversation lives in this thread (report thread or card thread)."""
    found = ticket_for_message(session, team_id=team_id, channel=channel, message_ts=thread_ts)
    if found:
        return found[0]
    return session.exec(  # type: ignore[call-overload]
        select(Ticket).where(Ticket.team_id == team_id, Ticket.channel == channel, Ticket.thread_ts == thread_ts)
    ).scalars().first()


def tickets(
    session: Session,
    *,
    team_id: str | None = None,
    statuses: Sequence[str] | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[Ticket]:
    query = select(Ticket)
    if team_id:
        query = query.where(Ticket.team_id == team_id)
    if statuses:
        query = query.where(Ticket.status.in_(list(statuses)))  # type: ignore[attr-defined]
    if since:
        query = query.where(Ticket.created_at >= since)
    query = query.order_by(Ticket.created_at, Ticket.id)
    if limit:
        query = query.limit(limit)
    return list(session.exec(query).scalars())  # type: ignore[call-overload]


def channel_setting(session: Session, *, team_id: str, channel: str) -> ChannelSetting:
    found = session.get(ChannelSetting, (team_id, channel))
    return found if found is not None else ChannelSetting(team_id=team_id, channel=channel)


def same_command_ticket(
    session: Session, *, team_id: str, channel: str, reporter: str, title: str, description: str, since: datetime
) -> Ticket | None:
    """The `/hc new` ticket this person filed in this channel with this text since `since` (a retry).

    Locks the workspace's ticket counter first (PostgreSQL; SQLite writers are serialised anyway),
    so two copies of one request arriving together cannot both miss each other."""
    session.execute(select(TicketCounter.team_id).where(TicketCounter.team_id == team_id).with_for_update())
    return session.execute(
        select(Ticket).where(
            Ticket.team_id == team_id, Ticket.channel == channel, Ticket.reporter == reporter, Ticket.source == "command",
            Ticket.title == title, Ticket.description == description, Ticket.created_at >= since,
        ).order_by(Ticket.id.desc())  # type: ignore[union-attr]
    ).scalars().first()


def card_on_its_way(session: Session, *, ticket_id: int) -> bool:
    """Is the ticket's card posted, or still to be (an outbox row that has not failed)?"""
    return session.execute(
        select(OutboxMessage.id).where(
            OutboxMessage.ticket_id == ticket_id, OutboxMessage.on_result == "ticket_card", OutboxMessage.status != "failed",
        ).limit(1)
    ).first() is not None
