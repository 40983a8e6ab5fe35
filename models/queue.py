"""Leasing rows of the durable queues (inbox and outbox), safely across threads and processes.

A worker claims a batch by moving rows from `pending` (or `working` with an expired lease, left by
a worker that died) to `working` under its own name and a lease. On PostgreSQL the inner SELECT
takes `FOR UPDATE SKIP LOCKED`, so two processes never lease the same row; SQLite serialises
writers (BEGIN IMMEDIATE), which gives the same guarantee there.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, literal, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import READ_ONLY
from models.tables import OutboxMessage, SlackEvent
from models.types import utcnow

Row = TypeVar("Row", SlackEvent, OutboxMessage)


def _pk(model: type[Row], alias: Any = None) -> Any:
    source = alias if alias is not None else model
    return source.event_id if model is SlackEvent else source.id


def _due(model: type[Row], now: datetime) -> Any:
    return or_(
        and_(model.status == "pending", model.next_attempt_at <= now),  # type: ignore[arg-type]
        and_(model.status == "working", model.lease_until < now),  # type: ignore[arg-type,operator]
    )


def anything_due(engine: Engine, model: type[Row], *, now: datetime | None = None) -> bool:
    """A cheap read-only look before claiming, so an idle worker never takes the write lock."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        return connection.execute(select(_pk(model)).where(_due(model, now or utcnow())).limit(1)).first() is not None


def claim(
    session: Session,
    model: type[Row],
    *,
    owner: str,
    limit: int,
    lease: timedelta,
    now: datetime | None = None,
    exclude_lanes: frozenset[str] = frozenset(),
) -> list[Row]:
    """Lease up to `limit` due rows, oldest first, and return them (committed by the caller)."""
    now = now or utcnow()
    pk = _pk(model)
    due = _due(model, now)
    # Within a lane, only the oldest unfinished row may go: a row backing off after a 429 holds
    # back the rows behind it, so a follow-up never overtakes the card it follows.
    older = aliased(model)
    ahead = select(literal(1)).where(
        older.lane == model.lane,  # type: ignore[attr-defined]
        older.status.in_(("pending", "working")),  # type: ignore[attr-defined]
        or_(older.created_at < model.created_at, and_(older.created_at == model.created_at, _pk(model, older) < pk)),
    )
    inner = select(pk).where(due, or_(model.lane.is_(None), ~ahead.exists()))  # type: ignore[union-attr]
    if exclude_lanes:
        inner = inner.where(or_(model.lane.is_(None), model.lane.not_in(exclude_lanes)))  # type: ignore[union-attr]
    inner = inner.order_by(model.created_at, pk).limit(limit).with_for_update(skip_locked=True)
    ids = [row[0] for row in session.execute(inner).all()]
    if not ids:
        return []
    session.execute(
        update(model)
        .where(pk.in_(ids))
        .values(status="working", lease_owner=owner, lease_until=now + lease, attempts=model.attempts + 1)
    )
    rows = list(session.exec(select(model).where(pk.in_(ids)).order_by(model.created_at, pk)).scalars())  # type: ignore[call-overload]
    return rows


def finish(session: Session, row: Row, *, owner: str, now: datetime | None = None, also: dict[str, Any] | None = None) -> bool:
    """Mark a leased row done (and set the columns in `also`); False when the lease was lost
    (another worker took it over)."""
    now = now or utcnow()
    pk = _pk(type(row))
    result = session.execute(
        update(type(row))
        .where(and_(pk == getattr(row, pk.key), type(row).lease_owner == owner, type(row).status == "working"))
        .values(status="done", finished_at=now, lease_until=None, error=None, **(also or {}))
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def retry_later(session: Session, row: Row, *, owner: str, delay: timedelta, error: str, max_attempts: int) -> str:
    """Give a failed row back to the queue after `delay`, or fail it for good after max_attempts."""
    status = "failed" if row.attempts >= max_attempts else "pending"
    pk = _pk(type(row))
    session.execute(
        update(type(row))
        .where(and_(pk == getattr(row, pk.key), type(row).lease_owner == owner))
        .values(
            status=status,
            next_attempt_at=utcnow() + delay,
            lease_until=None,
            error=error[:2000],
            finished_at=utcnow() if status == "failed" else None,
        )
    )
    return status


def fail(session: Session, row: Row, *, owner: str, error: str) -> None:
    """A permanent failure: recorded, never retried."""
    pk = _pk(type(row))
    session.execute(
        update(type(row))
        .where(and_(pk == getattr(row, pk.key), type(row).lease_owner == owner))
        .values(status="failed", lease_until=None, error=error[:2000], finished_at=utcnow())
    )
