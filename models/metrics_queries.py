"""Aggregates for `GET /metrics`: every figure one GROUP BY, read at scrape time."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from models import digest_queries as dq
from models.tables import OPEN_STATUSES, OutboxMessage, ReportMessage, SlackEvent, Ticket

QUEUE_STATES = ("pending", "working")


def tickets_by_status_severity(session: Session) -> list[tuple[str, str, str, int]]:
    rows = session.execute(select(Ticket.team_id, Ticket.status, Ticket.severity, func.count())
                           .group_by(Ticket.team_id, Ticket.status, Ticket.severity)).all()
    return [(str(t), str(st), str(se), int(n)) for t, st, se, n in rows]


def reports_received(session: Session) -> list[tuple[str, str, int]]:
    rows = session.execute(select(ReportMessage.team_id, ReportMessage.role, func.count())
                           .group_by(ReportMessage.team_id, ReportMessage.role)).all()
    return [(str(t), str(r), int(n)) for t, r, n in rows]


def queue_depth(session: Session, model: Any) -> dict[str, tuple[int, datetime | None]]:
    """Rows waiting (pending) and being worked, and the oldest one's creation, per state."""
    rows = session.execute(select(model.status, func.count(), func.min(model.created_at))
                           .where(model.status.in_(QUEUE_STATES)).group_by(model.status)).all()
    out = {state: (0, None) for state in QUEUE_STATES}
    for status, count, oldest in rows:
        out[str(status)] = (int(count), _aware(oldest))
    return out


def failed(session: Session, model: Any) -> int:
    return int(session.execute(select(func.count()).select_from(model).where(model.status == "failed")).scalar_one())


def sla_breaching(session: Session, *, targets: Mapping[str, dq.Targets], now: datetime) -> list[tuple[str, str, int]]:
    """Open tickets past a first-response or resolution target now, per workspace and severity."""
    state = dq.sla_state(targets, now=now, warn_at=1.0)
    rows = session.execute(select(Ticket.team_id, Ticket.severity, func.count())
                           .where(Ticket.status.in_(OPEN_STATUSES), state == "breached")  # type: ignore[attr-defined]
                           .group_by(Ticket.team_id, Ticket.severity)).all()
    return [(str(t), str(s), int(n)) for t, s, n in rows]


def _aware(value: Any) -> datetime | None:
    from datetime import timezone

    if value is None:
        return None
    if isinstance(value, str):  # SQLite's MIN() over a typed column can come back as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


MODELS = {"inbox": SlackEvent, "outbox": OutboxMessage}
