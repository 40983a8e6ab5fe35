"""What the outbox fills in from a ticket at delivery: the ticket domain's renderer of outbox rows.

Some parts of a post cannot be known when the row is written: the ticket's card or thread may
still be waiting in the outbox, and a card update must show the ticket as it is when delivered
(so queued updates all converge on the current state). Rows carry these placeholders; the outbox
(bot.delivery.outbox, which knows rows and Slack calls, nothing of tickets) asks this renderer, registered
by the app factory, to fill them, and tells it what became of each row.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from bot.tickets import blocks
from models.tables import OutboxMessage, Ticket, TicketEvent
from models.types import utcnow

# The values are stored in queued rows: never change them.
TICKET_THREAD = "$ticket.thread_ts"
TICKET_CARD = "$ticket.card_ts"
RENDER_CARD = "$render.ticket_card"
# A link to the ticket's thread, anywhere in a post's text or blocks: the report's permalink, or
# (for a ticket whose card started the thread) the card's, asked of chat.getPermalink at delivery.
TICKET_LINK = "$ticket.link"
ON_RESULT_CARD = "ticket_card"  # the posted message is the ticket's card: remember its ts


class TicketRows:
    """bot.delivery.outbox.RowRenderer for rows about a ticket (row.ticket_id)."""

    link_placeholder = TICKET_LINK

    def __init__(self, *, card_extras: Callable[[Session, Ticket], dict[str, Any] | None] | None = None) -> None:
        # More for a card rendered at delivery (bot.trackers.card: where it is tracked, a Send to … button).
        self._card_extras = card_extras

    def wants(self, row: OutboxMessage, params: dict[str, Any]) -> bool:
        new_card = self._card_extras is not None and row.on_result == ON_RESULT_CARD and bool(row.ticket_id)
        return new_card or row.method == "chat.update" or any(v in (TICKET_THREAD, TICKET_CARD) for v in params.values())

    def fill(self, session: Session, row: OutboxMessage, params: dict[str, Any]) -> dict[str, Any] | None:
        """`params` with the ticket's parts filled in; None while the card or thread is not posted."""
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
        for key, value in list(params.items()):
            if value not in (TICKET_THREAD, TICKET_CARD):
                continue
            filled = None
            if ticket is not None:
                filled = ticket.thread_ts if value == TICKET_THREAD else ticket.card_ts
            if filled is None:
                return None
            params[key] = filled
        extras = self._card_extras(session, ticket) if ticket is not None and self._card_extras else None
        if ticket is not None and params.get("blocks") == RENDER_CARD:
            params.update(blocks=blocks.ticket_card(ticket, tracker=extras), text=blocks.card_text(ticket))
        elif ticket is not None and extras and row.on_result == ON_RESULT_CARD and isinstance(params.get("blocks"), list):
            params["blocks"] = blocks.ticket_card(ticket, tracker=extras)  # a new card gets the extras too
        return params

    def link(self, session: Session, row: OutboxMessage) -> tuple[str | None, str, str] | None:
        """(known permalink or None, channel, ts) of the ticket's thread; None while it has none."""
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is None or not ticket.channel or not ticket.thread_ts:
            return None
        return (ticket.permalink if ticket.message_ts else None), ticket.channel, ticket.thread_ts

    def delivered(self, session: Session, row: OutboxMessage, result: dict[str, Any]) -> None:
        if row.on_result != ON_RESULT_CARD or row.ticket_id is None:
            return
        ticket = session.get(Ticket, row.ticket_id)
        if ticket is None or not result.get("ts"):
            return
        ticket.card_channel = result.get("channel") or row.params.get("channel")
        ticket.card_ts = result["ts"]
        if ticket.thread_ts is None:  # a ticket with no report message: its card starts the thread
            ticket.thread_ts = result["ts"]
        ticket.updated_at = utcnow()
        session.add(ticket)

    def failed(self, session: Session, row: OutboxMessage, note: str) -> None:
        if row.ticket_id:
            session.add(TicketEvent(ticket_id=row.ticket_id, kind="delivery_failed", note=note))
