"""The dashboard's numbers, in SQL on SQLite and PostgreSQL alike (aggregates; lists are limited)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlmodel import Session

from models import digest_queries as dq
from models import triage_queries as tq
from models.dashboard_tables import TicketRootCause
from models.tables import OPEN_STATUSES, SEVERITIES, Ticket
from models.types import UTCDateTime

DONE_STATUSES = dq.DONE_STATUSES
ORDERS = ("newest", "severity", "oldest", "affected")  # newest: read backwards off ix_ticket_team_created


def _bind(value: datetime) -> Any:
    return literal(value, UTCDateTime)


def count(session: Session, *where: Any) -> int:
    return int(session.execute(select(func.count()).select_from(Ticket).where(*where)).scalar_one())


def by(session: Session, column: Any, *where: Any) -> dict[str, int]:
    return {str(k): int(n) for k, n in session.execute(select(column, func.count()).where(*where).group_by(column)).all()}


def per_day(session: Session, *, team_id: str, column: Any, bounds: Sequence[tuple[datetime, datetime]], where: Sequence[Any] = ()) -> dict[int, dict[str, int]]:
    """Tickets whose `column` falls in each [start, end), per severity: a range join on a small
    day table, read from the (team, column, …, severity) indexes."""
    if not bounds:
        return {}
    days = union_all(*(select(literal(i).label("i"), _bind(s).label("s"), _bind(e).label("e")) for i, (s, e) in enumerate(bounds))).cte("days")
    rows = session.execute(
        select(days.c.i, Ticket.severity, func.count()).select_from(days)
        .join(Ticket, and_(column >= days.c.s, column < days.c.e)).where(Ticket.team_id == team_id, *where)
        .group_by(days.c.i, Ticket.severity)
    ).all()
    out: dict[int, dict[str, int]] = {}
    for index, severity, n in rows:
        out.setdefault(int(index), {})[str(severity)] = int(n)
    return out


def medians_by_severity(session: Session, *, team_id: str) -> dict[str, tuple[float, int]]:
    """Median time to resolution (seconds) of resolved/closed tickets, per severity, in one query."""
    duration = tq.seconds_between(session, Ticket.resolved_at, Ticket.created_at).label("d")
    ranked = (
        select(Ticket.severity.label("sev"), duration,  # type: ignore[attr-defined]
               func.row_number().over(partition_by=Ticket.severity, order_by=duration).label("rn"),
               func.count().over(partition_by=Ticket.severity).label("c"))
        .where(Ticket.team_id == team_id, Ticket.status.in_(DONE_STATUSES), Ticket.resolved_at.is_not(None))  # type: ignore[attr-defined,union-attr]
        .subquery()
    )
    middle = or_(ranked.c.rn == (ranked.c.c + 1) // 2, ranked.c.rn == (ranked.c.c + 2) // 2)
    rows = session.execute(select(ranked.c.sev, func.avg(ranked.c.d), func.max(ranked.c.c)).where(middle).group_by(ranked.c.sev)).all()
    return {str(s): (round(float(v)), int(c)) for s, v, c in rows}


def root_causes(session: Session, *, team_id: str, since: datetime | None = None) -> dict[str, int]:
    """Causes of resolved tickets (reopening removes a cause, bot.tickets.root_causes.clear): from the
    (team, cause) index alone, or joined to the tickets for those resolved since `since`."""
    query = select(TicketRootCause.cause, func.count()).where(TicketRootCause.team_id == team_id)
    if since is not None:
        query = query.join(Ticket, Ticket.id == TicketRootCause.ticket_id).where(
            Ticket.status.in_(DONE_STATUSES), Ticket.resolved_at >= _bind(since))  # type: ignore[attr-defined,operator]
    return {str(c): int(n) for c, n in session.execute(query.group_by(TicketRootCause.cause)).all()}


def affected_count(session: Session) -> Any:
    """As in the index ix_ticket_team_affected (affected_users is never NULL: its default is [])."""
    return func.json_array_length(Ticket.affected_users)


@dataclass(frozen=True)
class Filters:
    status: str = ""  # a status, or "open"
    severity: str = ""
    category: str = ""
    channel: str = ""
    assignee: str = ""  # a user id, or "none"
    words: str = ""
    order: str = "newest"


def ticket_rows(session: Session, *, team_id: str, filters: Filters, limit: int) -> tuple[list[Any], int]:
    where: list[Any] = [Ticket.team_id == team_id]
    if filters.status == "open":
        where.append(Ticket.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
    elif filters.status:
        where.append(Ticket.status == filters.status)
    for column, value in ((Ticket.severity, filters.severity), (Ticket.category, filters.category), (Ticket.channel, filters.channel)):
        if value:
            where.append(column == value)
    if filters.assignee == "none":
        where.append(Ticket.assignee.is_(None))  # type: ignore[union-attr]
    elif filters.assignee:
        where.append(Ticket.assignee == filters.assignee)
    for word in tq.search_words(filters.words):
        like = tq._like(word)  # noqa: SLF001 - the search module's own escaping, shared
        where.append(or_(func.lower(Ticket.title).like(like, escape="\\"), func.lower(Ticket.description).like(like, escape="\\")))
    total = count(session, *where)
    affected = affected_count(session).label("affected")
    rank = tq._severity_rank()  # noqa: SLF001
    order = {"severity": [case_open(), rank, Ticket.created_at.desc()], "oldest": [Ticket.created_at],  # type: ignore[attr-defined]
             "affected": [affected.desc(), Ticket.created_at.desc()]}.get(filters.order, [Ticket.created_at.desc()])  # type: ignore[attr-defined]
    rows = session.execute(select(
        Ticket.id, Ticket.number, Ticket.title, Ticket.status, Ticket.severity, Ticket.category, Ticket.channel, Ticket.assignee,
        Ticket.permalink, Ticket.created_at, Ticket.resolved_at, affected,
    ).where(*where).order_by(*order, Ticket.id.desc()).limit(limit)).all()  # type: ignore[union-attr]
    return list(rows), total


def case_open() -> Any:
    from sqlalchemy import case

    return case((Ticket.status.in_(OPEN_STATUSES), 0), else_=1)  # type: ignore[attr-defined]


def biggest(session: Session, *, team_id: str, limit: int) -> list[Any]:
    """The tickets affecting the most people (open ones first among equals)."""
    affected = affected_count(session).label("affected")
    return list(session.execute(select(
        Ticket.id, Ticket.number, Ticket.title, Ticket.status, Ticket.severity, Ticket.permalink, Ticket.resolution, affected,
    ).where(Ticket.team_id == team_id).order_by(affected.desc(), Ticket.id.desc()).limit(limit)).all())


def choices(session: Session, *, team_id: str) -> tuple[list[str], list[str]]:
    """The channels and assignees the filters offer."""
    channels = session.execute(select(Ticket.channel).where(Ticket.team_id == team_id, Ticket.channel.is_not(None)).distinct()).scalars().all()  # type: ignore[union-attr]
    assignees = session.execute(select(Ticket.assignee).where(Ticket.team_id == team_id, Ticket.assignee.is_not(None)).distinct()).scalars().all()  # type: ignore[union-attr]
    return sorted(str(c) for c in channels), sorted(str(a) for a in assignees)


__all__ = ["SEVERITIES", "Filters", "biggest", "by", "choices", "count", "medians_by_severity", "per_day", "root_causes", "ticket_rows"]
