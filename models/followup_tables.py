"""Tables of the follow-up questions feature (bot/followups/questions.py, bot/followups/commands.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class Followup(SQLModel, table=True):
    """The bot's conversation with a reporter about the details their ticket lacks; one per ticket.

    Everything a nudge needs is here, so the schedule survives a restart: the clock runs from
    `last_asked_at` in the reporter's working hours (`reporter_tz`, cached from users.info).
    """

    __tablename__ = "followup"
    __table_args__ = (Index("ix_followup_state", "state"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    team_id: str = Field(max_length=32)
    reporter: Optional[str] = Field(default=None, max_length=32)
    state: str = Field(default="open", max_length=16)  # open | done | stopped
    asked: list[str] = Field(default_factory=list, sa_type=JSON)  # details named in the first question
    answered: list[str] = Field(default_factory=list, sa_type=JSON)  # details filled during this follow-up
    previous_status: str = Field(default="new", max_length=16)  # where the ticket goes back when complete
    asked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_asked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    nudges_sent: int = 0
    reporter_tz: Optional[str] = Field(default=None, max_length=64)
    hinted: bool = False  # told once how to label an answer the bot could not place
    closed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    stop_reason: Optional[str] = Field(default=None, max_length=200)


class FollowupNudge(SQLModel, table=True):
    """One reminder. The unique (followup, number) is the claim: two processes running the nudge
    job at the same moment cannot both insert nudge 1, so it is enqueued exactly once."""

    __tablename__ = "followup_nudge"
    __table_args__ = (UniqueConstraint("followup_id", "number", name="uq_followup_nudge"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    followup_id: int = Field(foreign_key="followup.id", index=True)
    number: int
    due_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FollowupQuestion(SQLModel, table=True):
    """A question the triage team asked with `/hc ask`, and the answer given in the thread."""

    __tablename__ = "followup_question"

    id: Optional[int] = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    team_id: str = Field(max_length=32)
    asked_by: str = Field(max_length=32)
    question: str = Field(sa_type=Text)
    asked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answered_by: Optional[str] = Field(default=None, max_length=32)
    answer: Optional[str] = Field(default=None, sa_type=Text)
    answered_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
