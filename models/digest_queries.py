"""The digest's numbers, counted in SQL on SQLite and PostgreSQL alike.

Nothing here loads tickets to count them in Python: every figure is an aggregate, and the lists
(critical/high, resolved, waiting, breaching) fetch only the few rows the digest shows, with only
the columns it shows. Durations and medians are computed by the database too (window functions,
which both SQLite ≥ 3.25 and PostgreSQL have).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select, text, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from models.db import READ_ONLY
from models.digest_tables import DigestRun
from models.followup_tables import Followup
from models.tables import OPEN_STATUSES, SEVERITIES, OutboxMessage, Ticket
from models.types import UTCDateTime

DONE_STATUSES = ("resolved", "closed")  # "resolved" in a digest: fixed, not set aside as a duplicate
URGENT = ("critical", "high")


class Targets(Protocol):
    """bot.tickets.sla.Target, without importing the domain into storage."""

    first_response: timedelta
    resolution: timedelta


@dataclass(frozen=True)
class TicketRow:
    """One ticket as a digest line shows it."""

    number: int
    title: str
    severity: str
    status: str
    assignee: str | None
    permalink: str | None
    created_at: datetime
    sla: str  # breached | at risk | on track
    resolution: str | None = None
    waiting_since: datetime | None = None

    @property
    def key(self) -> str:
        return f"HC-{self.number}"


@dataclass(frozen=True)
class Counts:
    open_by_severity: dict[str, int]
    waiting: int  # open tickets in needs_info
    breaching: int  # open tickets past a first-response or resolution target
    breaching_urgent: int
    new: int  # opened in the period
    resolved: int  # resolved or closed in the period
    top_categories: list[tuple[str, int]]  # of the tickets opened in the period

    @property
    def open(self) -> int:
        return sum(self.open_by_severity.values())


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session that only reads: on SQLite it takes no write lock, so the scheduler's look at
    what is due never makes an acknowledgement wait."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        with Session(bind=connection, expire_on_commit=False) as session:
            yield session


def _bind(value: datetime) -> Any:
    return literal(value, UTCDateTime)


def seconds_between(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(func.extract("epoch", later - earlier), Float)


def sla_state(targets: Mapping[str, Targets], *, now: datetime, warn_at: float) -> Any:
    """'breached', 'at risk' or 'on track' for an open ticket, as a SQL CASE over its severity."""

    def past(fraction: float) -> ColumnElement[bool]:
        per_severity = [
            and_(Ticket.severity == severity, or_(
                and_(Ticket.first_response_at.is_(None), Ticket.created_at <= _bind(now - target.first_response * fraction)),  # type: ignore[union-attr]
                Ticket.created_at <= _bind(now - target.resolution * fraction),
            ))
            for severity, target in targets.items()
        ]
        return or_(*per_severity)

    return case((past(1.0), "breached"), (past(warn_at), "at risk"), else_="on track")


def _team_open(team_id: str) -> list[ColumnElement[bool]]:
    return [Ticket.team_id == team_id, Ticket.status.in_(OPEN_STATUSES)]  # type: ignore[attr-defined]


def _in_period(column: Any, since: datetime | None, now: datetime) -> list[ColumnElement[bool]]:
    bounds = [column <= _bind(now)]
    if since is not None:
        bounds.append(column > _bind(since))
    return bounds


def counts(session: Session, *, team_id: str, since: datetime | None, now: datetime, targets: Mapping[str, Targets], warn_at: float) -> Counts:
    """Open tickets are those open now (a ticket's status is its current one); new and resolved
    are counted over the period (since, now]."""
    state = sla_state(targets, now=now, warn_at=warn_at)
    breached = case((state == "breached", 1), else_=0)
    urgent = Ticket.severity.in_(URGENT)  # type: ignore[attr-defined]
    open_rows = session.execute(
        select(
            Ticket.severity, func.count(),
            func.sum(case((Ticket.status == "needs_info", 1), else_=0)),
            func.sum(breached), func.sum(case((urgent, breached), else_=0)),
        ).where(*_team_open(team_id)).group_by(Ticket.severity)
    ).all()
    by_category = session.execute(
        select(Ticket.category, func.count().label("n"))
        .where(Ticket.team_id == team_id, *_in_period(Ticket.created_at, since, now))
        .group_by(Ticket.category).order_by(text("n DESC"), Ticket.category)
    ).all()
    resolved = session.execute(
        select(func.count()).where(
            Ticket.team_id == team_id, Ticket.status.in_(DONE_STATUSES), *_in_period(Ticket.resolved_at, since, now),  # type: ignore[attr-defined]
        )
    ).scalar_one()
    return Counts(
        open_by_severity={s: int(n) for s, n, *_ in open_rows},
        waiting=sum(int(r[2] or 0) for r in open_rows),
        breaching=sum(int(r[3] or 0) for r in open_rows),
        breaching_urgent=sum(int(r[4] or 0) for r in open_rows),
        new=sum(int(n) for _, n in by_category),
        resolved=int(resolved),
        top_categories=[(str(c), int(n)) for c, n in by_category],
    )


def median_seconds(session: Session, *, team_id: str, later: Any, earlier: Any, where: Sequence[Any]) -> tuple[float | None, int]:
    """The median of `later - earlier` over the matching tickets, and how many there were: one
    query, the middle one or two rows picked by ROW_NUMBER over the sorted durations."""
    duration = seconds_between(session, later, earlier).label("d")
    ranked = (
        select(duration, func.row_number().over(order_by=duration).label("rn"), func.count().over().label("c"))
        .where(Ticket.team_id == team_id, later.is_not(None), *where)
        .subquery()
    )
    middle = or_(ranked.c.rn == (ranked.c.c + 1) // 2, ranked.c.rn == (ranked.c.c + 2) // 2)
    value, count = session.execute(select(func.avg(ranked.c.d), func.max(ranked.c.c)).where(middle)).one()
    if not count:
        return None, 0
    return round(float(value)), int(count)  # to the second: julianday arithmetic is off by microseconds


def medians(session: Session, *, team_id: str, since: datetime | None, now: datetime) -> tuple[tuple[float | None, int], tuple[float | None, int]]:
    """Median time to first response (answered in the period) and to resolution (resolved in it)."""
    first = median_seconds(session, team_id=team_id, later=Ticket.first_response_at, earlier=Ticket.created_at,
                           where=_in_period(Ticket.first_response_at, since, now))
    resolution = median_seconds(session, team_id=team_id, later=Ticket.resolved_at, earlier=Ticket.created_at,
                                where=[Ticket.status.in_(DONE_STATUSES), *_in_period(Ticket.resolved_at, since, now)])  # type: ignore[attr-defined]
    return first, resolution


def _severity_rank() -> Any:
    return case({s: i for i, s in enumerate(SEVERITIES)}, value=Ticket.severity, else_=len(SEVERITIES))


def _rows(session: Session, query: Any) -> list[TicketRow]:
    return [TicketRow(**row._asdict()) for row in session.execute(query).all()]


def _columns(state: Any) -> list[Any]:
    return [Ticket.number, Ticket.title, Ticket.severity, Ticket.status, Ticket.assignee, Ticket.permalink,
            Ticket.created_at, state.label("sla")]


def urgent_open(session: Session, *, team_id: str, now: datetime, targets: Mapping[str, Targets], warn_at: float, limit: int) -> list[TicketRow]:
    """Open critical and high tickets, most severe then oldest first."""
    state = sla_state(targets, now=now, warn_at=warn_at)
    return _rows(session, select(*_columns(state)).where(
        *_team_open(team_id), Ticket.severity.in_(URGENT),  # type: ignore[attr-defined]
    ).order_by(_severity_rank(), Ticket.created_at, Ticket.id).limit(limit))


def breaching_other(session: Session, *, team_id: str, now: datetime, targets: Mapping[str, Targets], warn_at: float, limit: int) -> list[TicketRow]:
    """Open medium/low tickets past a target (the urgent ones show their SLA state in their own list)."""
    state = sla_state(targets, now=now, warn_at=warn_at)
    return _rows(session, select(*_columns(state)).where(
        *_team_open(team_id), Ticket.severity.not_in(URGENT), state == "breached",  # type: ignore[attr-defined]
    ).order_by(_severity_rank(), Ticket.created_at, Ticket.id).limit(limit))


def resolved_in_period(session: Session, *, team_id: str, since: datetime | None, now: datetime, limit: int) -> list[TicketRow]:
    """Tickets resolved in the period, most severe then latest first, with their resolution notes."""
    query = select(*_columns(literal("resolved")), Ticket.resolution).where(
        Ticket.team_id == team_id, Ticket.status.in_(DONE_STATUSES), *_in_period(Ticket.resolved_at, since, now),  # type: ignore[attr-defined]
    ).order_by(_severity_rank(), Ticket.resolved_at.desc(), Ticket.id)  # type: ignore[union-attr]
    return _rows(session, query.limit(limit))


def waiting_on_reporters(session: Session, *, team_id: str, limit: int) -> list[TicketRow]:
    """Tickets in needs_info, longest waiting first (since the reporter was last asked)."""
    since = func.coalesce(Followup.last_asked_at, Ticket.updated_at)
    query = (
        select(*_columns(literal("waiting")), since.label("waiting_since"))
        .select_from(Ticket).outerjoin(Followup, and_(Followup.ticket_id == Ticket.id, Followup.state == "open"))
        .where(Ticket.team_id == team_id, Ticket.status == "needs_info")
        .order_by(since, Ticket.id)
    )
    return _rows(session, query.limit(limit))


def per_day(session: Session, *, team_id: str, days: Sequence[tuple[date, datetime, datetime]]) -> dict[str, dict[date, dict[str, int]]]:
    """Opened and resolved tickets per day and severity (for the chart); `days` are (day, start, end)
    with the bounds in UTC, cut at local midnight by the caller (so a 23- or 25-hour day is right).

    One indexed range count per day rather than a date function on every ticket: the day table is
    a few SELECTs glued by UNION ALL (SQLite has no column names for a VALUES list), joined on the
    range, so the database reads only the index entries of the period and no ticket rows.
    """
    out: dict[str, dict[date, dict[str, int]]] = {"opened": {}, "resolved": {}}
    if not days:
        return out
    table = union_all(*(
        select(literal(index).label("i"), _bind(start).label("start"), _bind(end).label("end"))
        for index, (_, start, end) in enumerate(days)
    )).cte("days")
    for name, column, extra in (
        ("opened", Ticket.created_at, []),
        ("resolved", Ticket.resolved_at, [Ticket.status.in_(DONE_STATUSES)]),  # type: ignore[attr-defined]
    ):
        rows = session.execute(
            select(table.c.i, Ticket.severity, func.count())
            .select_from(table).join(Ticket, and_(column >= table.c.start, column < table.c.end))
            .where(Ticket.team_id == team_id, *extra)
            .group_by(table.c.i, Ticket.severity)
        ).all()
        for index, severity, count in rows:
            out[name].setdefault(days[int(index)][0], {})[str(severity)] = int(count)
    return out


def first_ticket_at(session: Session, *, team_id: str) -> datetime | None:
    return session.execute(select(func.min(Ticket.created_at)).where(Ticket.team_id == team_id)).scalar_one_or_none()


# -- digest runs ------------------------------------------------------------------------------
def last_posted(session: Session, *, team_id: str, channel: str, before: datetime | None = None) -> DigestRun | None:
    """The last digest posted in the channel (a post Slack refused for good does not count)."""
    delivered_or_pending = or_(DigestRun.outbox_id.is_(None), ~select(OutboxMessage.id).where(  # type: ignore[union-attr]
        OutboxMessage.id == DigestRun.outbox_id, OutboxMessage.status == "failed").exists())
    query = select(DigestRun).where(
        DigestRun.team_id == team_id, DigestRun.channel == channel, DigestRun.status == "posted", delivered_or_pending,
    )
    if before is not None:
        query = query.where(DigestRun.as_of <= _bind(before))
    return session.execute(query.order_by(DigestRun.as_of.desc(), DigestRun.id.desc()).limit(1)).scalars().first()  # type: ignore[attr-defined]
