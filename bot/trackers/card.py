"""What a ticket card shows about trackers: where the ticket is tracked, or a *Send to …* button."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from bot.runtime.settings import Settings
from bot.trackers.config import NAMES, configured, target_for
from bot.triage import neutralize_mentions
from models.tables import Ticket
from models.tracker_tables import TrackerLink

PUSH_ACTION = "tracker_push"  # handlers/trackers.py


def extras_for(settings: Settings) -> Callable[[Session, Ticket], dict[str, Any] | None] | None:
    """What the outbox renders into cards; None (no extra query per card) when no tracker is set up."""
    if not configured(settings):
        return None
    return lambda session, ticket: badge(session, ticket, settings=settings)


def badge(session: Session, ticket: Ticket, *, settings: Settings) -> dict[str, Any] | None:
    """{"line": mrkdwn for the card} and/or {"button": (action_id, label)}; None: nothing to show."""
    link = session.execute(select(TrackerLink).where(TrackerLink.ticket_id == ticket.id)).scalars().first()
    if link is not None and link.state == "linked":
        key = neutralize_mentions(link.external_key or link.target)
        return {"line": f":link: Tracked in <{link.url}|{key}>" if link.url else f":link: Tracked in {key}"}
    if link is not None and link.state == "pending":
        return {"line": f"Sending to {NAMES[link.tracker]} {neutralize_mentions(link.target)}…"}
    target = target_for(session, settings, team_id=ticket.team_id, channel=ticket.channel)
    if target is None:
        return None
    found: dict[str, Any] = {"button": (PUSH_ACTION, f"Send to {NAMES[target.tracker]}")}
    if link is not None:  # failed: say so, and offer it again
        found["line"] = f":warning: Not sent to {NAMES[link.tracker]}: {neutralize_mentions((link.error or '')[:200])}"
    return found
