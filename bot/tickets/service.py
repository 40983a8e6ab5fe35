"""Tickets: creation, keys, and changes that always leave a line in the history."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot.errors import NotFound, UserInputError
from models import queries
from models.tables import ReportMessage, Ticket, TicketEvent
from models.types import utcnow

KEY_PATTERN = re.compile(r"^\s*(?:hc-?)?(\d{1,9})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class NewTicket:
    """Everything needed to file a ticket; built by intake from a message, a command or a modal."""

    team_id: str
    title: str
    description: str
    category: str
    severity: str
    reporter: str | None
    source: str
    channel: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    permalink: str | None = None
    fields: dict[str, str | None] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    files: tuple[dict[str, Any], ...] = ()
    reasons: tuple[str, ...] = ()
    actor: str | None = None


def parse_key(text: str) -> int:
    """'HC-12', 'hc-12', 'hc12' and '12' all name ticket 12."""
    match = KEY_PATTERN.match(text or "")
    if not match:
        raise UserInputError(f"“{text}” is not a ticket key. Use the form HC-12 (or just 12).")
    return int(match.group(1))


def get_ticket(session: Session, *, team_id: str, key: str) -> Ticket:
    number = parse_key(key)
    ticket = queries.ticket_by_number(session, team_id=team_id, number=number)
    if ticket is None:
        raise NotFound(f"There is no ticket HC-{number} in this workspace.")
    return ticket


def create_ticket(session: Session, new: NewTicket) -> Ticket:
    number = queries.next_ticket_number(session, team_id=new.team_id)
    now = utcnow()
    ticket = Ticket(
        team_id=new.team_id, number=number, title=new.title, description=new.description,
        category=new.category, severity=new.severity, status="new", reporter=new.reporter,
        channel=new.channel, message_ts=new.message_ts, thread_ts=new.thread_ts or new.message_ts,
        permalink=new.permalink, missing=list(new.missing), files=list(new.files), source=new.source,
        affected_users=[new.reporter] if new.reporter else [],
        created_at=now, updated_at=now,
        **{name: value for name, value in new.fields.items() if name in ("steps", "expected", "actual", "environment")},
    )
    session.add(ticket)
    session.flush()
    assert ticket.id is not None
    if new.channel and new.message_ts:
        session.add(ReportMessage(team_id=new.team_id, channel=new.channel, message_ts=new.message_ts, ticket_id=ticket.id, user=new.reporter))
    record(session, ticket, actor=new.actor or new.reporter, kind="created", note=f"filed from {new.source}")
    for reason in new.reasons:
        record(session, ticket, actor=None, kind="triage", note=reason)
    return ticket


def record(
    session: Session,
    ticket: Ticket,
    *,
    actor: str | None,
    kind: str,
    field_name: str | None = None,
    old: Any = None,
    new: Any = None,
    note: str | None = None,
) -> TicketEvent:
    assert ticket.id is not None
    event = TicketEvent(
        ticket_id=ticket.id, actor=actor, kind=kind, field_name=field_name,
        old_value=None if old is None else str(old), new_value=None if new is None else str(new), note=note,
    )
    session.add(event)
    return event


def change(session: Session, ticket: Ticket, *, actor: str | None, note: str | None = None, **changes: Any) -> dict[str, tuple[Any, Any]]:
    """Apply field changes, one history line per field that really changed; return what changed."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in changes.items():
        old = getattr(ticket, name)
        if old == value:
            continue
        setattr(ticket, name, value)
        changed[name] = (old, value)
        record(session, ticket, actor=actor, kind="changed", field_name=name, old=old, new=value, note=note)
    if changed:
        ticket.updated_at = utcnow()
        session.add(ticket)
    return changed
