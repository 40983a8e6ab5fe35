"""Changes the triage team (or the reporter) makes to a ticket, from the card, the App Home or `/hc`.

Each change is recorded in the history, announced in the ticket's thread (never the channel), and
the card is updated in place. Permission checks happen before these are called (bot.tickets.permissions).
"""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.followups import questions as followups
from bot.loop import notices as notify
from bot.tickets import blocks, cards, root_causes
from bot.errors import UserInputError
from bot.tickets.service import change, record
from bot.triage import details_needed, mask_pii, severity_for
from models.tables import CATEGORIES, OPEN_STATUSES, SEVERITIES, STATUSES, Ticket
from models.types import utcnow

CLOSED = ("resolved", "closed", "duplicate", "wont_fix")
# Fields an announcement names; the others (resolved_at, missing, …) show on the card instead.
ANNOUNCED = ("assignee", "category", "severity", "status")
Changed = dict[str, tuple[Any, Any]]


def _describe(name: str, value: Any) -> str:
    if name == "assignee":
        return f"assigned to <@{value}>" if value else "unassigned"
    if name == "category":
        return f"category → {blocks.CATEGORY_LABEL.get(value, value)}"
    return f"{name} → {value}"


def apply(
    session: Session, ticket: Ticket, *, actor: str, note: str | None = None, announce: bool = True,
    message: str | None = None, **changes: Any,
) -> Changed:
    """Apply changes made by a person: history, first response, thread announcement, card update.

    `message` replaces the generated announcement (mrkdwn the caller made safe).
    """
    changed = change(session, ticket, actor=actor, note=note, **changes)
    if not changed:
        return changed
    if ticket.first_response_at is None and actor != ticket.reporter:
        ticket.first_response_at = utcnow()  # the first triage action counts as the first response
        session.add(ticket)
    if announce:
        summary = ", ".join(_describe(name, new) for name, (_, new) in changed.items() if name in ANNOUNCED)
        text = message or (f"<@{actor}> updated {ticket.key}: {summary}" + (f" — {blocks.safe(note, limit=500)}" if note else ""))
        # The blocks keep the real mentions (the assignee should hear about it); the notification
        # text goes through bot_mrkdwn() in post_in_thread (user text in it went through safe()).
        cards.post_in_thread(session, ticket, text=text, blocks_=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
    cards.refresh_card(session, ticket)
    return changed


def set_category(session: Session, ticket: Ticket, *, actor: str, category: str) -> Changed:
    if category not in CATEGORIES:
        raise UserInputError(f"“{category}” is not a category. Use one of: {', '.join(CATEGORIES)}.")
    present = {name for name in ("steps", "expected", "actual", "environment") if getattr(ticket, name)}
    missing = [d for d in details_needed(category) if d not in present]
    return apply(session, ticket, actor=actor, category=category, missing=missing)


def set_severity(session: Session, ticket: Ticket, *, actor: str, severity: str) -> Changed:
    if severity not in SEVERITIES:
        raise UserInputError(f"“{severity}” is not a severity. Use one of: {', '.join(SEVERITIES)}.", usage="/hc severity HC-12 critical|high|medium|low")
    return apply(session, ticket, actor=actor, severity=severity)


def assign(session: Session, ticket: Ticket, *, actor: str, assignee: str | None) -> Changed:
    return apply(session, ticket, actor=actor, assignee=assignee)


def not_an_issue(session: Session, ticket: Ticket, *, actor: str) -> Changed:
    """Closes as wont_fix; the card shrinks to one line, and no thread announcement adds noise."""
    if ticket.status in CLOSED:
        return {}
    now = utcnow()
    changed = apply(session, ticket, actor=actor, announce=False, note="not an issue", status="wont_fix", resolution=f"Not an issue (said by <@{actor}>)", resolved_at=now)
    followups.withdraw(session, ticket=ticket, reason="closed as not an issue")  # its questions go quiet too
    if actor != ticket.reporter:  # a reporter withdrawing their own report knows why
        notify.wont_fix(session, ticket, actor=actor, note="The triage team found this is not an issue.")
    return changed


def set_status(session: Session, ticket: Ticket, *, actor: str, status: str, note: str | None = None) -> Changed:
    """`/hc status`: moves between the open statuses; the closing ones have their own commands."""
    note = _masked(note)
    status = status.lower().replace("-", "_")
    if status not in STATUSES:
        raise UserInputError(f"“{status}” is not a status. Use one of: {', '.join(OPEN_STATUSES)} (or resolve, close, dup).", usage="/hc status HC-12 triaged|in_progress|needs_info|new")
    if status == "resolved":
        raise UserInputError("To resolve a ticket, say what fixed it.", usage=f"/hc resolve {ticket.key} <resolution note>")
    if status == "duplicate":
        raise UserInputError("To mark a duplicate, name the original.", usage=f"/hc dup {ticket.key} HC-<original>")
    if status == "closed":
        return close(session, ticket, actor=actor, note=note)
    if status == "wont_fix":
        if ticket.status in CLOSED:
            raise UserInputError(f"{ticket.key} is already {ticket.status}.", usage=f"/hc reopen {ticket.key} [why]")
        if not (note or "").strip():  # the reporters are told why (bot.loop.notices)
            raise UserInputError("Say why it won't be fixed: the reporters are told.", usage=f"/hc status {ticket.key} wont_fix <why>")
        changed = apply(session, ticket, actor=actor, note=note, status="wont_fix", resolved_at=utcnow(), resolution=note)
        notify.wont_fix(session, ticket, actor=actor, note=note or "")
        return changed
    if ticket.status in CLOSED:
        return reopen(session, ticket, actor=actor, why=note, status=status)
    return apply(session, ticket, actor=actor, note=note, status=status)


def resolve(session: Session, ticket: Ticket, *, actor: str, note: str, cause: str | None = None) -> Changed:
    """Resolve with a note: history, announcement in the thread, card updated in place.

    This is the one place a ticket becomes resolved, from `/hc resolve`, the card's modal and the
    App Home alike: whatever else must happen on resolution (telling the reporters) belongs here.
    A root cause comes from the modal's select (`cause`) or the note's `<cause>:` prefix (bot.tickets.root_causes).
    """
    prefixed, note = root_causes.split_note(note or "")
    cause = cause or prefixed
    note = _masked(note) or ""
    if not note:
        raise UserInputError("Please add a resolution note: what was wrong and what fixed it.", usage=f"/hc resolve {ticket.key} <resolution note>")
    if ticket.status == "resolved":
        raise UserInputError(f"{ticket.key} is already resolved.", usage=f"/hc reopen {ticket.key} [why]")
    if ticket.status in CLOSED:
        raise UserInputError(f"{ticket.key} is {ticket.status.replace('_', ' ')}; reopen it first.", usage=f"/hc reopen {ticket.key} [why]")
    text = f":white_check_mark: <@{actor}> resolved {ticket.key}: {blocks.safe(note, limit=1000)}"
    if cause:
        root_causes.set_cause(session, ticket, cause=cause, actor=actor)
        text += f" _(root cause: {root_causes.label(cause)})_"
    changed = apply(session, ticket, actor=actor, note=note, message=text, status="resolved", resolution=note, resolved_at=utcnow())
    notify.resolved(session, ticket, actor=actor, note=note)  # every reporter hears: threads, DMs, ✅
    return changed


def reopen(session: Session, ticket: Ticket, *, actor: str, why: str | None = None, status: str = "triaged") -> Changed:
    if ticket.status not in CLOSED:
        raise UserInputError(f"{ticket.key} is still open ({ticket.status}).", usage=f"/hc status {ticket.key} <status>")
    why = _masked(why)
    reason = f": {blocks.safe(why, limit=500)}" if why else ""
    text = f":leftwards_arrow_with_hook: <@{actor}> reopened {ticket.key}{reason}"
    previous = ticket.status
    root_causes.clear(session, ticket)
    changed = apply(session, ticket, actor=actor, note=why, message=text, status=status, resolved_at=None, resolution=None, duplicate_of=None)
    notify.reopened(session, ticket, previous=previous)
    return changed


def close(session: Session, ticket: Ticket, *, actor: str, note: str | None = None) -> Changed:
    """Closed for good (a resolved ticket confirmed, or the reporter's own report withdrawn)."""
    note = _masked(note)
    if ticket.status in ("closed", "duplicate", "wont_fix"):
        raise UserInputError(f"{ticket.key} is already {ticket.status.replace('_', ' ')}.", usage=f"/hc reopen {ticket.key} [why]")
    reason = f": {blocks.safe(note, limit=500)}" if note else ""
    resolution = ticket.resolution or note or "Closed"
    text = f":lock: <@{actor}> closed {ticket.key}{reason}"
    return apply(session, ticket, actor=actor, note=note, message=text, status="closed", resolved_at=ticket.resolved_at or utcnow(), resolution=resolution)


def original_of(session: Session, ticket: Ticket) -> Ticket:
    """Follow duplicate_of links to the ticket that is not itself a duplicate."""
    from bot.tickets.service import get_ticket

    seen = {ticket.id}
    while ticket.duplicate_of and ticket.status == "duplicate":
        ticket = get_ticket(session, team_id=ticket.team_id, key=ticket.duplicate_of)
        if ticket.id in seen:
            break
        seen.add(ticket.id)
    return ticket


def mark_duplicate(session: Session, ticket: Ticket, *, actor: str, original: Ticket) -> tuple[Ticket, Changed]:
    """`/hc dup HC-13 HC-12`: HC-13 closes as a duplicate; its people join HC-12. Returns the
    original actually used (a duplicate's own original, when HC-12 is itself a duplicate)."""
    original = original_of(session, original)
    if original.id == ticket.id:
        raise UserInputError(f"{ticket.key} can't be a duplicate of itself.", usage="/hc dup HC-<duplicate> HC-<original>")
    if ticket.status in CLOSED:
        raise UserInputError(f"{ticket.key} is already {ticket.status.replace('_', ' ')}.", usage=f"/hc reopen {ticket.key} [why]")
    where = f"<{original.permalink}|{original.key}>" if original.permalink else original.key
    text = f":link: <@{actor}> marked {ticket.key} as a duplicate of {where}: _{blocks.safe(original.title, limit=200)}_"
    changed = apply(
        session, ticket, actor=actor, message=text, status="duplicate", duplicate_of=original.key,
        resolved_at=utcnow(), resolution=f"Duplicate of {original.key}",
    )
    joined = [u for u in ticket.affected_users if u not in original.affected_users]
    original.affected_users = [*original.affected_users, *joined]
    record(session, original, actor=actor, kind="linked", note=f"{ticket.key} was marked a duplicate of this ticket by <@{actor}>")
    severity, reasons = severity_for(category=original.category, text=original.description, affected_count=len(original.affected_users))
    if SEVERITIES.index(severity) < SEVERITIES.index(original.severity):  # more people affected: only ever raise it
        change(session, original, actor=None, note="; ".join(reasons) or f"{len(original.affected_users)} people affected", severity=severity)
    session.add(original)
    cards.post_in_thread(session, original, text=f"{ticket.key} was marked a duplicate of {original.key} ({len(original.affected_users)} people affected).")
    cards.refresh_card(session, original)
    notify.duplicate_closed(session, ticket, original=original, actor=actor)
    return original, changed


def _masked(note: str | None) -> str | None:
    """Notes the triage team types are kept and posted like reports: personal data masked."""
    return mask_pii(note.strip()) if note and note.strip() else None
