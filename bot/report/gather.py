"""What the exit report says, as plain data, all from SQL (one workspace, from `since` to `now`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from bot.loop import csat, exit_criteria
from bot.charts import Chart
from bot.dashboard import data as dashboard_data
from bot.runtime.settings import Settings
from bot.tickets.sla import targets
from models import dashboard_queries as q
from models import triage_queries as tq
from models.dashboard_tables import TicketRootCause
from models.loop_tables import ResolutionNotice
from models.tables import OPEN_STATUSES, SEVERITIES, Ticket

TOP_PROBLEMS = 15
MAX_OPEN = 200  # the hand-over list; more is counted
MAX_COMMENTS = 50


@dataclass(frozen=True)
class Report:
    team_id: str
    since: datetime | None
    now: datetime
    tz: ZoneInfo
    total: int
    by_severity: dict[str, int]
    by_status: dict[str, int]
    by_category: dict[str, int]
    root_causes: dict[str, int]
    medians: dict[str, tuple[float | None, int]]  # first_response, resolution
    breaches: tuple[int, int]  # first response, resolution
    satisfaction: csat.Satisfaction
    comments: list[tuple[str, str, str]]  # (key, rating, reason)
    problems: list[Any]
    still_open: list[Any]
    open_total: int
    charts: dict[str, Chart]
    tiles: dict[str, Any]
    exit: list[Any] | None = None  # bot.loop.exit_criteria.Result per criterion; None: none set


def gather(session: Session, *, team_id: str, settings: Settings, now: datetime, since: datetime | None) -> Report:
    tz = ZoneInfo(settings.timezone)
    period = [Ticket.team_id == team_id] + ([Ticket.created_at >= since] if since else [])
    done = [Ticket.status.in_(q.DONE_STATUSES)]  # type: ignore[attr-defined]
    first = tq.median_seconds(session, team_id=team_id, later=Ticket.first_response_at, earlier=Ticket.created_at, where=period[1:])
    resolution = tq.median_seconds(session, team_id=team_id, later=Ticket.resolved_at, earlier=Ticket.created_at, where=period[1:] + done)
    earliest = since or q.dq.first_ticket_at(session, team_id=team_id) or now
    causes = select(TicketRootCause.cause, func.count()).join(Ticket, Ticket.id == TicketRootCause.ticket_id).where(*period, *done)
    comments = session.execute(
        select(Ticket.number, ResolutionNotice.rating, ResolutionNotice.reason).join(Ticket, Ticket.id == ResolutionNotice.ticket_id)
        .where(ResolutionNotice.team_id == team_id, ResolutionNotice.reason.is_not(None), *period[1:])  # type: ignore[union-attr]
        .order_by(ResolutionNotice.rated_at.desc()).limit(MAX_COMMENTS)  # type: ignore[union-attr]
    ).all()
    open_where = [Ticket.team_id == team_id, Ticket.status.in_(OPEN_STATUSES)]  # type: ignore[attr-defined]
    still_open = session.execute(
        select(Ticket.number, Ticket.title, Ticket.severity, Ticket.status, Ticket.assignee, Ticket.created_at, Ticket.permalink,
               q.affected_count(session).label("affected"))
        .where(*open_where).order_by(tq._severity_rank(), Ticket.created_at).limit(MAX_OPEN)  # noqa: SLF001
    ).all()
    problems = session.execute(
        select(Ticket.number, Ticket.title, Ticket.severity, Ticket.status, Ticket.resolution, Ticket.permalink,
               q.affected_count(session).label("affected"), TicketRootCause.cause)
        .outerjoin(TicketRootCause, TicketRootCause.ticket_id == Ticket.id)
        .where(*period).order_by(q.affected_count(session).desc(), Ticket.id.desc()).limit(TOP_PROBLEMS)
    ).all()
    return Report(
        team_id=team_id, since=since, now=now, tz=tz, total=q.count(session, *period),
        by_severity=q.by(session, Ticket.severity, *period), by_status=q.by(session, Ticket.status, *period),
        by_category=q.by(session, Ticket.category, *period),
        root_causes={str(c): int(n) for c, n in session.execute(causes.group_by(TicketRootCause.cause)).all()},
        medians={"first_response": first, "resolution": resolution},
        breaches=tq.breaches(session, team_id=team_id, since=earliest, now=now, targets=targets(settings)),
        satisfaction=csat.satisfaction(session, team_id=team_id, since=since),
        comments=[(f"HC-{n}", str(r), str(reason)) for n, r, reason in comments],
        problems=list(problems), still_open=list(still_open), open_total=q.count(session, *open_where),
        charts=dashboard_data.charts(session, team_id=team_id, now=now, tz=tz),
        tiles=dashboard_data.tiles(session, team_id=team_id, settings=settings, now=now, tz=tz),
        exit=exit_criteria.results(session, team_id=team_id, settings=settings, now=now),
    )


__all__ = ["SEVERITIES", "Report", "gather"]
