"""Who gave a ticket's reproduction details: a person (the form, an answer in the thread, the
triage team), or the bot, reading them out of the report's text.

The answer to a follow-up question treats the two differently (bot.followups.questions): the reporter's
own labelled words ("Actual: red banner …") replace what the bot guessed, but what a person gave
is only ever added to. The history already knows: the latest change of each field, or the
ticket's creation, says who set it and how.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from bot.tickets import blocks
from bot.tickets.service import change
from models.tables import DETAILS, Ticket, TicketEvent

EXCERPT = 80  # how much of each detail the thanks quotes

# History notes of changes where the bot read a detail out of text nobody labelled for it.
FOUND_IN_REPORT = "found in the report"
FOUND_IN_EDIT = "added by editing the report"
GUESS_NOTES = (FOUND_IN_REPORT, FOUND_IN_EDIT)
# Ticket sources whose details were typed into their own fields by a person.
FORM_SOURCES = ("modal", "shortcut")


@dataclass(frozen=True)
class Origin:
    guessed: bool  # True: the bot read it out of the report; False: a person gave it
    by: str | None  # the person (None: the bot, or a person unknown)

    def says(self) -> str:
        """How a history note names the origin: "<@U1>" or "Hypercare (read from the report)"."""
        return f"<@{self.by}>" if self.by and not self.guessed else "Hypercare (read from the report)"


def field_origins(session: Session, ticket: Ticket) -> dict[str, Origin]:
    """The origin of each reproduction detail that holds a value."""
    held = [d for d in DETAILS if getattr(ticket, d)]
    if not held or ticket.id is None:
        return {}
    rows = session.execute(
        select(TicketEvent.field_name, TicketEvent.actor, TicketEvent.note)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "changed", TicketEvent.field_name.in_(held))  # type: ignore[union-attr]
        .order_by(TicketEvent.id)
    ).all()
    latest = {name: (actor, note or "") for name, actor, note in rows}  # the last change of each field wins
    origins: dict[str, Origin] = {}
    for name in held:
        if name in latest:
            actor, note = latest[name]
            guessed = actor is None or note.startswith(GUESS_NOTES)
            origins[name] = Origin(guessed=guessed, by=actor)
        elif ticket.source in FORM_SOURCES:  # as filed: typed into the form, by whoever filled it in
            origins[name] = Origin(guessed=False, by=_filed_by(session, ticket))
        else:  # as filed: triage's reading of the message
            origins[name] = Origin(guessed=True, by=None)
    return origins


def _filed_by(session: Session, ticket: Ticket) -> str | None:
    actor = session.execute(
        select(TicketEvent.actor).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "created").limit(1)
    ).scalar()
    return actor or ticket.reporter


def store_details(
    session: Session, ticket: Ticket, *, fills: dict[str, str], actor: str, note: str, said: dict[str, str],
    replaced: set[str], origins: dict[str, Origin], name: Callable[[str], str],
) -> str:
    """Write the details, one history line each saying whose value was replaced or added to, and
    return how the thanks names them: every field changed, with what was said (`name`: a detail's
    label in this ticket's words). `said`: the message's own text per detail."""
    before = {d: getattr(ticket, d) for d in fills}
    change(session, ticket, actor=actor, note=note, missing=[d for d in ticket.missing if d not in fills])
    named: list[str] = []
    for d, value in fills.items():
        if not before[d]:
            change(session, ticket, actor=actor, note=note, **{d: value})
            named.append(f"{name(d)} (“{blocks.safe(value, limit=EXCERPT)}”)")
        elif d in replaced:
            change(session, ticket, actor=actor, note=f"{note}; replaces what Hypercare read from the report", **{d: value})
            named.append(f"{name(d)} (“{blocks.safe(said.get(d, value), limit=EXCERPT)}”, in place of what I read from the report)")
        else:
            origin = origins.get(d)
            change(session, ticket, actor=actor, note=f"{note}; added to what {origin.says() if origin else 'was there'} gave", **{d: value})
            named.append(f"{name(d)} (added “{blocks.safe(said.get(d, value), limit=EXCERPT)}”)")
    return "; ".join(named)
