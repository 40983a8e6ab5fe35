"""Changes the triage team (or the reporter) makes to a ticket, from the card or from `/hc`.

Each change is recorded in the history, announced in the ticket's thread, and the card is
updated in place.
"""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot import blocks, cards
from bot.errors import UserInputError
from bot.tickets import change
from bot.triage import details_needed
from models.tables import CATEGORIES, SEVERITIES, Ticket
from models.types import utcnow

CLOSED = ("resolved", "closed", "duplicate", "wont_fix")


def _describe(name: str, value: Any) -> str:
    if name == "assignee":
        return f"assigned to <@{value}>" if value else "unassigned"
    if name == "category":
        return f"category → {blocks.CATEGORY_LABEL.get(value, value)}"
    return f"{name} → {value}"


def apply(session: Session, ticket: Ticket, *, actor: str, note: str | None = None, announce: bool = True, **changes: Any) -> dict[str, tuple[Any, Any]]:
    """Apply changes made by a person: history, first response, thread announcement, card update."""
    changed = change(session, ticket, actor=actor, note=note, **changes)
    if not changed:
        return changed
    if ticket.first_response_at is None and actor != ticket.reporter:
        ticket.first_response_at = utcnow()  # the first triage action counts as the first response
        session.add(ticket)
    if announce:
        summary = ", ".join(_describe(name, new) for name, (_, new) in changed.items())
        cards.post_in_thread(session, ticket, text=f"<@{actor}> updated {ticket.key}: {summary}" + (f" — {blocks.safe(note, limit=500)}" if note else ""))
    cards.refresh_card(session, ticket)
    return changed


def set_category(session: Session, ticket: Ticket, *, actor: str, category: str) -> dict[str, tuple[Any, Any]]:
    if category not in CATEGORIES:
        raise UserInputError(f"“{category}” is not a category. Use one of: {', '.join(CATEGORIES)}.")
    present = {name for name in ("steps", "expected", "actual", "environment") if getattr(ticket, name)}
    missing = [d for d in details_needed(category) if d not in present]
    return apply(session, ticket, actor=actor, category=category, missing=missing)


def set_severity(session: Session, ticket: Ticket, *, actor: str, severity: str) -> dict[str, tuple[Any, Any]]:
    if severity not in SEVERITIES:
        raise UserInputError(f"“{severity}” is not a severity. Use one of: {', '.join(SEVERITIES)}.")
    return apply(session, ticket, actor=actor, severity=severity)


def assign(session: Session, ticket: Ticket, *, actor: str, assignee: str | None) -> dict[str, tuple[Any, Any]]:
    return apply(session, ticket, actor=actor, assignee=assignee)


def not_an_issue(session: Session, ticket: Ticket, *, actor: str) -> dict[str, tuple[Any, Any]]:
    """Closes as wont_fix; the card shrinks to one line, and no thread announcement adds noise."""
    if ticket.status in CLOSED:
        return {}
    now = utcnow()
    return apply(session, ticket, actor=actor, announce=False, note="not an issue", status="wont_fix", resolution=f"Not an issue (said by <@{actor}>)", resolved_at=now)
