"""Root causes named on resolution: `/hc resolve HC-12 config: <note>`, or the resolve modal's select.

The note's first word, when it ends in a colon and names a cause, is the cause (and is taken off
the note); anything else is an ordinary note ("Fixed: …" names no cause and stays as typed).
"""
from __future__ import annotations

import re

from sqlmodel import Session

from bot.errors import UserInputError
from models.dashboard_tables import ROOT_CAUSE_LABEL, ROOT_CAUSES, TicketRootCause
from models.tables import Ticket
from models.types import utcnow

ALIASES = {
    **{cause: cause for cause in ROOT_CAUSES},
    "code": "code_defect", "defect": "code_defect", "bug": "code_defect", "code-defect": "code_defect", "regression": "code_defect",
    "config": "configuration", "conf": "configuration", "settings": "configuration",
    "infra": "infrastructure", "ops": "infrastructure", "hosting": "infrastructure",
    "third-party": "third_party", "thirdparty": "third_party", "3rd-party": "third_party", "vendor": "third_party", "external": "third_party",
    "user": "user_error", "user-error": "user_error", "training": "user_error", "usage": "user_error",
    "docs": "documentation", "doc": "documentation",
    "not-reproducible": "not_reproducible", "notrepro": "not_reproducible", "no-repro": "not_reproducible", "cnr": "not_reproducible",
    "cant-reproduce": "not_reproducible", "cannot-reproduce": "not_reproducible",
}
_PREFIX = re.compile(r"^\s*([\w\-/]{2,24})\s*:\s*(.*)$", re.S)
USAGE = "/hc resolve HC-12 [cause:] <resolution note> (causes: " + ", ".join(sorted({"code", "config", "data", "infra", "third-party", "user", "docs", "not-reproducible"})) + ")"


def normalise(word: str) -> str | None:
    return ALIASES.get(word.strip().lower().replace("_", "-").replace("/", "-").replace(" ", "-")) or ALIASES.get(word.strip().lower())


def split_note(note: str) -> tuple[str | None, str]:
    """(cause, the rest of the note) when the note starts with `<cause>:`; else (None, note)."""
    match = _PREFIX.match(note or "")
    if not match:
        return None, note
    cause = normalise(match.group(1))
    return (cause, match.group(2).strip()) if cause else (None, note)


def set_cause(session: Session, ticket: Ticket, *, cause: str, actor: str | None) -> None:
    if cause not in ROOT_CAUSES:
        raise UserInputError(f"“{cause}” is not a root cause. Use one of: {', '.join(ROOT_CAUSE_LABEL.values())}.", usage=USAGE)
    assert ticket.id is not None
    row = session.get(TicketRootCause, ticket.id) or TicketRootCause(ticket_id=ticket.id, team_id=ticket.team_id, cause=cause)
    row.cause, row.set_by, row.set_at = cause, actor, utcnow()
    session.add(row)


def clear(session: Session, ticket: Ticket) -> None:
    """A reopened ticket has no cause until it is resolved again (so counting needs no join)."""
    row = session.get(TicketRootCause, ticket.id) if ticket.id is not None else None
    if row is not None:
        session.delete(row)


def label(cause: str | None) -> str:
    return ROOT_CAUSE_LABEL.get(cause or "", "")


def select_element() -> dict[str, object]:
    """The resolve modal's optional select."""
    return {"type": "static_select", "action_id": "value", "placeholder": {"type": "plain_text", "text": "Pick one (optional)"},
            "options": [{"text": {"type": "plain_text", "text": text}, "value": value} for value, text in ROOT_CAUSE_LABEL.items()]}
