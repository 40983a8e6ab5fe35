"""Tables of "closing the loop" (bot/loop/notices.py, bot/loop/csat.py, bot/loop/commands.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class NotifyPreference(SQLModel, table=True):
    """A person's choice about direct messages from the bot (`/hc notify off|on`).

    No row means the default: DMs on. Thread replies are never affected by this.
    """

    __tablename__ = "notify_preference"
    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    dms: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ResolutionNotice(SQLModel, table=True):
    """One person told by DM that a ticket was resolved, and the rating they gave (CSAT).

    `round` counts the ticket's resolutions (resolved, reopened, resolved again: round 2). The
    unique (ticket, round, user) makes the same resolution DM impossible to send twice, also when
    two triagers resolve the same ticket at the same moment (the second transaction fails).
    """

    __tablename__ = "resolution_notice"
    __table_args__ = (
        UniqueConstraint("ticket_id", "round", "user_id", name="uq_resolution_notice"),
        Index("ix_resolution_notice_rated", "team_id", "rated_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    round: int = 1
    user_id: str = Field(max_length=32)
    resolved_by: Optional[str] = Field(default=None, max_length=32)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    rating: Optional[str] = Field(default=None, max_length=8)  # up | down; the latest click counts
    reason: Optional[str] = Field(default=None, sa_type=Text)  # why 👎, as typed (shown through safe())
    rated_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
