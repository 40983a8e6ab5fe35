"""Posting about a ticket: in its thread, and keeping its card current (all through the outbox)."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.delivery import outbox
from bot.tickets import blocks, outbox_rows as ticket_delivery
from models.tables import Ticket

def post_in_thread(session: Session, ticket: Ticket, *, text: str, blocks_: list[dict[str, Any]] | None = None, dedupe_key: str | None = None) -> None:
    """A reply in the ticket's thread (the report's thread, or the card's for /hc new tickets)."""
    assert ticket.channel
    params: dict[str, Any] = {"channel": ticket.channel, "thread_ts": ticket.thread_ts or ticket_delivery.TICKET_THREAD, "text": blocks.bot_mrkdwn(text), "unfurl_links": False}
    if blocks_:
        params["blocks"] = blocks_
    outbox.enqueue(session, method="chat.postMessage", params=params, team_id=ticket.team_id, ticket_id=ticket.id, dedupe_key=dedupe_key)


def refresh_card(session: Session, ticket: Ticket) -> None:
    """Update the ticket card in place (chat.update) once it exists."""
    if not ticket.channel:
        return
    outbox.enqueue(
        session, method="chat.update", team_id=ticket.team_id, ticket_id=ticket.id,
        params={"channel": ticket.card_channel or ticket.channel, "ts": ticket_delivery.TICKET_CARD, "blocks": ticket_delivery.RENDER_CARD, "text": ticket_delivery.RENDER_CARD},
    )

