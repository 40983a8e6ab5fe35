"""Leasing rows of the durable queues (inbox and outbox), safely across threads and processes.

A worker claims a batch by moving rows from `pending` (or `working` with an expired lease, left by
a worker that died) to `working` under its own name and a lease. On PostgreSQL the inner SELECT
takes `FOR UPDATE SKIP LOCKED`, so two processes never lease the same row; SQLite serialises
writers (BEGIN IMMEDIATE), which gives the same guarantee there.

A row that fails is given back *beside* its lane (its lane is cleared), so it never stands in front
of the rows behind it; after its attempts it is parked: `failed`, with its error kept.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy import and_, case, delete, func, literal, null, or_, select, update
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


def as_utc(moment: datetime) -> datetime:
    """Aggregates (min) bypass the column type on SQLite and come back naive: they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


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
    # A row taken over from a lease that ran out had an attempt that ended without an outcome (its
    # worker died, maybe because of it): it goes on beside its lane, like any failed row.
    session.execute(
        update(model)
        .where(pk.in_(ids))
        .values(status="working", lease_owner=owner, lease_until=now + lease, attempts=model.attempts + 1,
                lane=case((model.status == "working", null()), else_=model.lane))  # type: ignore[attr-defined]
    )
    rows = list(session.exec(select(model).where(pk.in_(ids)).order_by(model.created_at, pk)).scalars())  # type: ignore[call-overload]
    return rows


def renew(session: Session, model: type[Row], *, owner: str, lease: timedelta, now: datetime | None = None) -> int:
    """Extend the lease of every row `owner` still holds; returns how many. A live worker renews
    its rows (also those waiting in its local queue behind a paced lane), so only a dead or
    wedged process loses them to another one, never a slow moment."""
    now = now or utcnow()
    held = and_(model.lease_owner == owner, model.status == "working")  # type: ignore[arg-type]
    return int(session.execute(update(model).where(held).values(lease_until=now + lease)).rowcount or 0)  # type: ignore[attr-defined]


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


def retry_later(
    session: Session, row: Row, *, owner: str, delay: timedelta, error: str, max_attempts: int,
    keep_lane: bool = False, also: dict[str, Any] | None = None,
) -> str:
    """Give a failed row back to the queue after `delay`, or park it (`failed`) after max_attempts.

    The row leaves its lane, so the rows behind it go on meanwhile; `keep_lane` keeps it in front
    (a 429: Slack throttles the whole channel, the rows behind would only be refused too)."""
    status = "failed" if row.attempts >= max_attempts else "pending"
    pk = _pk(type(row))
    values: dict[str, Any] = dict(
        status=status,
        next_attempt_at=utcnow() + delay,
        lease_until=None,
        error=error[:2000],
        finished_at=utcnow() if status == "failed" else None,
        **(also or {}),
    )
    if not keep_lane:
        values["lane"] = None
    session.execute(update(type(row)).where(and_(pk == getattr(row, pk.key), type(row).lease_owner == owner)).values(**values))
    return status


def fail(session: Session, row: Row, *, owner: str, error: str) -> None:
    """A permanent failure: parked with its error, never retried."""
    pk = _pk(type(row))
    session.execute(
        update(type(row))
        .where(and_(pk == getattr(row, pk.key), type(row).lease_owner == owner))
        .values(status="failed", lease_until=None, error=error[:2000], finished_at=utcnow())
    )


def backoff(*, attempt: int, base: float, cap: float, jitter: float = 0.25) -> float:
    """Seconds before retry number `attempt` (1, 2, …): base, 2·base, 4·base, … up to cap, ±jitter."""
    return min(cap, base * 2 ** min(max(attempt, 1) - 1, 30)) * (1 - jitter + 2 * jitter * random.random())


# -- what /healthz and the retention job read ----------------------------------------------------
@dataclass(frozen=True)
class Parked:
    id: str
    error: str
    attempts: int
    at: datetime | None


@dataclass(frozen=True)
class QueueStats:
    due: int                   # may be worked now: pending and due, or leased by a worker that died
    working: int               # leased, lease still running
    waiting: int               # pending, backing off until a later attempt
    parked: int                # failed for good, kept with its error
    oldest_due_seconds: float  # how long the longest-waiting due row has waited (0: none)
    recent_parked: list[Parked]


def stats(engine: Engine, model: type[Row], *, now: datetime | None = None, parked_limit: int = 10) -> QueueStats:
    """Counts by state and the age of the oldest due row, read-only (no write lock on SQLite)."""
    now = now or utcnow()
    pk = _pk(model)
    pending_due = and_(model.status == "pending", model.next_attempt_at <= now)  # type: ignore[arg-type]
    lost = and_(model.status == "working", model.lease_until < now)  # type: ignore[arg-type,operator]
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        counts = {status: int(n) for status, n in connection.execute(select(model.status, func.count()).group_by(model.status)).all()}  # type: ignore[arg-type]
        n_pending_due, since_pending = connection.execute(select(func.count(), func.min(model.next_attempt_at)).where(pending_due)).one()
        n_lost, since_lost = connection.execute(select(func.count(), func.min(model.lease_until)).where(lost)).one()
        recent = connection.execute(
            select(pk, model.error, model.attempts, model.finished_at)
            .where(model.status == "failed").order_by(model.finished_at.desc()).limit(parked_limit)  # type: ignore[union-attr]
        ).all()
    oldest = min((as_utc(t) for t in (since_pending, since_lost) if t is not None), default=None)
    return QueueStats(
        due=int(n_pending_due) + int(n_lost),
        working=counts.get("working", 0) - int(n_lost),
        waiting=counts.get("pending", 0) - int(n_pending_due),
        parked=counts.get("failed", 0),
        oldest_due_seconds=round(max(0.0, (now - oldest).total_seconds()), 1) if oldest is not None else 0.0,
        recent_parked=[Parked(id=str(i), error=e or "", attempts=int(a), at=as_utc(f) if f else None) for i, e, a, f in recent],
    )


def delete_finished(session: Session, model: type[Row], *, before: datetime, batch: int = 500) -> int:
    """Delete up to `batch` rows finished (done, or parked) before `before`; returns how many."""
    pk = _pk(model)
    old = select(pk).where(model.status.in_(("done", "failed")), model.finished_at < before).limit(batch)  # type: ignore[attr-defined,operator]
    ids = [row[0] for row in session.execute(old).all()]
    if ids:
        session.execute(delete(model).where(pk.in_(ids)))
    return len(ids)
