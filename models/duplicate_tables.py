"""Tables of duplicate detection (bot/intake/linking.py): what the bot suggested, and what people decided."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class DuplicatePair(SQLModel, table=True):
    """A report's ticket and a ticket the bot said it may repeat.

    `kind`: `suggested` (an open ticket, asked with *Same problem* / *Different*) or `resolved`
    (a recently resolved ticket, a note for the triage team). `decision`: None until someone
    clicks, then `same` or `different`. The unique (ticket, other) is what keeps the bot from
    suggesting the same pair twice, whatever was decided.
    """

    __tablename__ = "duplicate_pair"
    __table_args__ = (UniqueConstraint("ticket_id", "other_id", name="uq_duplicate_pair"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    other_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(default="suggested", max_length=16)  # suggested | resolved
    score: float = 0.0
    margin: float = 0.0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decision: Optional[str] = Field(default=None, max_length=16)  # same | different
    decided_by: Optional[str] = Field(default=None, max_length=32)
    decided_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
