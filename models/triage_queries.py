"""Queries of the triage tools: lists, search, the App Home queue, SLA candidates and stats.

Written once for SQLite and PostgreSQL alike: search is word matching with LIKE (wildcards in the
words escaped) ranked in SQL, and durations are computed in SQL with each dialect's date arithmetic.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from models.tables import OPEN_STATUSES, SEVERITIES, Ticket
from models.triage_tables import SlaAlert
from models.types import UTCDateTime

LIST_VIEWS = ("open", "mine", "unassigned", "critical", "needs-info", "all")
DONE_STATUSES = ("resolved", "closed")  # what "resolved" means in stats: fixed, not set aside
STOPWORDS = frozenset("a an and are at be but by for from has have i in is it its of on or so that the this to was were with".split())
MAX_SEARCH_WORDS = 8


class Targets(Protocol):
    """bot.tickets.sla.Target, without importing the domain into storage."""

    first_response: timedelta
    resolution: timedelta


def _severity_rank() -> Any:
    return case({s: i for i, s in enumerate(SEVERITIES)}, value=Ticket.severity, else_=len(SEVERITIES))


def _open() -> ColumnElement[bool]:
    return Ticket.status.in_(OPEN_STATUSES)  # type: ignore[attr-defined]


def _page(session: Session, query: Any, *, limit: int) -> tuple[list[Ticket], int]:
    total = int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    rows = session.execute(query.order_by(_severity_rank(), Ticket.created_at, Ticket.id).limit(limit)).scalars().all()
    return list(rows), total


def list_tickets(
    session: Session, *, team_id: str, view: str, user: str, channel: str | None = None, limit: int = 20
) -> tuple[list[Ticket], int]:
    """Tickets for `/hc list <view>`, most severe and oldest first; also returns how many in all."""
    query = select(Ticket).where(Ticket.team_id == team_id)
    if view != "all":
        query = query.where(_open())
    if view == "mine":
        query = query.where(Ticket.assignee == user)
    elif view == "unassigned":
        query = query.where(Ticket.assignee.is_(None))  # type: ignore[union-attr]
    elif view == "critical":
        query = query.where(Ticket.severity == "critical")
    elif view == "needs-info":
        query = query.where(Ticket.status == "needs_info")
    if channel:
        query = query.where(Ticket.channel == channel)
    return _page(session, query, limit=limit)


def reported_by(session: Session, *, team_id: str, user: str, limit: int) -> tuple[list[Ticket], int]:
    """A person's own reports: open ones first, then the most recent."""
    query = select(Ticket).where(Ticket.team_id == team_id, Ticket.reporter == user)
    total = int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    still_open = case((_open(), 0), else_=1)
    rows = session.execute(query.order_by(still_open, Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)).scalars().all()  # type: ignore[attr-defined]
    return list(rows), total


def queue(session: Session, *, team_id: str, name: str, targets: Mapping[str, Targets], now: datetime, limit: int) -> tuple[list[Ticket], int]:
    """The App Home queue's lists: unassigned, urgent (critical/high), breaching, waiting."""
    query = select(Ticket).where(Ticket.team_id == team_id, _open())
    if name == "unassigned":
        query = query.where(Ticket.assignee.is_(None))  # type: ignore[union-attr]
    elif name == "urgent":
        query = query.where(Ticket.severity.in_(("critical", "high")))  # type: ignore[attr-defined]
    elif name == "breaching":
        query = query.where(past_target(targets, now=now, fraction=1.0))
    elif name == "waiting":
        query = query.where(Ticket.status == "needs_info")
    return _page(session, query, limit=limit)


def past_target(targets: Mapping[str, Targets], *, now: datetime, fraction: float) -> ColumnElement[bool]:
    """Open tickets past `fraction` of their severity's first-response (if unanswered) or resolution target."""
    per_severity = []
    for severity, target in targets.items():
        first_due = now - target.first_response * fraction
        resolution_due = now - target.resolution * fraction
        per_severity.append(and_(
            Ticket.severity == severity,
            or_(and_(Ticket.first_response_at.is_(None), Ticket.created_at <= first_due), Ticket.created_at <= resolution_due),  # type: ignore[union-attr]
        ))
    return or_(*per_severity)


def sla_candidates(session: Session, *, targets: Mapping[str, Targets], now: datetime, warn_at: float, team_id: str | None = None) -> list[Ticket]:
    """Open tickets that may be due an SLA alert (not those whose last alert, the resolution breach, was sent)."""
    final = select(SlaAlert.id).where(SlaAlert.ticket_id == Ticket.id, SlaAlert.kind == "resolution_breach")
    query = select(Ticket).where(_open(), past_target(targets, now=now, fraction=warn_at), ~final.exists())
    if team_id:
        query = query.where(Ticket.team_id == team_id)
    return list(session.execute(query.order_by(Ticket.id)).scalars().all())


# -- search -----------------------------------------------------------------------------------
def search_words(text: str) -> list[str]:
    words = [w for w in re.findall(r"\w+", (text or "").lower()) if len(w) > 1 and w not in STOPWORDS]
    return list(dict.fromkeys(words))[:MAX_SEARCH_WORDS]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, *, team_id: str, text: str, limit: int = 10) -> list[tuple[Ticket, int, int]]:
    """Tickets whose title or description contain the words: ranked by how many of the words
    match, then by title hits (worth 3) and description hits (worth 1), then newest first."""
    words = search_words(text)
    if not words:
        return []
    title, description = func.lower(Ticket.title), func.lower(Ticket.description)
    in_title = [case((title.like(_like(w), escape="\\"), 1), else_=0) for w in words]
    in_description = [case((description.like(_like(w), escape="\\"), 1), else_=0) for w in words]
    matched = sum((case((or_(title.like(_like(w), escape="\\"), description.like(_like(w), escape="\\")), 1), else_=0) for w in words), literal(0))
    score = sum(in_title, literal(0)) * 3 + sum(in_description, literal(0))
    query = (
        select(Ticket, matched.label("matched"), score.label("score"))
        .where(Ticket.team_id == team_id, matched > 0)
        .order_by(matched.desc(), score.desc(), Ticket.number.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    return [(row[0], int(row[1]), int(row[2])) for row in session.execute(query).all()]


# -- stats ------------------------------------------------------------------------------------
def seconds_between(session: Session, later: Any, earlier: Any) -> Any:
    """`later - earlier` in seconds, as SQL, on either database."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(func.extract("epoch", later - earlier), Float)


def counts_by(session: Session, *, team_id: str, column: Any, where: Sequence[Any]) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).where(Ticket.team_id == team_id, *where).group_by(column)).all()
    return {str(value): int(count) for value, count in rows}


def median_seconds(session: Session, *, team_id: str, later: Any, earlier: Any, where: Sequence[Any]) -> tuple[float | None, int]:
    """The median of `later - earlier` over the matching tickets, and how many there were.

    Portable median: count, then let the database sort and pick the middle one or two.
    """
    duration = seconds_between(session, later, earlier)
    filters = [Ticket.team_id == team_id, later.is_not(None), *where]
    count = int(session.execute(select(func.count()).select_from(Ticket).where(*filters)).scalar_one())
    if count == 0:
        return None, 0
    middle = session.execute(
        select(duration.label("d")).where(*filters).order_by(duration).offset((count - 1) // 2).limit(2 - count % 2)
    ).scalars().all()
    # Rounded to the second: SQLite's julianday arithmetic is off by microseconds.
    return round(sum(float(v) for v in middle) / len(middle)), count


def breaches(session: Session, *, team_id: str, since: datetime, now: datetime, targets: Mapping[str, Targets]) -> tuple[int, int]:
    """Tickets opened since `since` that missed their first-response / resolution target (as of now)."""
    now_ = literal(now, UTCDateTime)
    first = func.coalesce(Ticket.first_response_at, now_)
    done = func.coalesce(Ticket.resolved_at, now_)
    first_limit = case({s: t.first_response.total_seconds() for s, t in targets.items()}, value=Ticket.severity, else_=None)
    resolution_limit = case({s: t.resolution.total_seconds() for s, t in targets.items()}, value=Ticket.severity, else_=None)
    base = [Ticket.team_id == team_id, Ticket.created_at >= since]
    missed_first = session.execute(select(func.count()).where(*base, seconds_between(session, first, Ticket.created_at) > first_limit)).scalar_one()
    not_dropped = Ticket.status.not_in(("duplicate", "wont_fix"))  # type: ignore[attr-defined]
    missed_resolution = session.execute(
        select(func.count()).where(*base, not_dropped, seconds_between(session, done, Ticket.created_at) > resolution_limit)
    ).scalar_one()
    return int(missed_first), int(missed_resolution)
