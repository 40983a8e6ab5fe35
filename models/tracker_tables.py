"""Tables of the tracker hand-off (issue 15, bot.trackers): where a ticket went, and where a
channel's tickets go."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

TRACKERS = ("github", "jira", "linear")


class TrackerLink(SQLModel, table=True):
    """One ticket's issue in a tracker. Written when the push is asked for (state `pending`), so
    a second push of the same ticket finds it; filled in when the tracker answered (`linked`), or
    marked `failed` with the tracker's reason and the fix."""

    __tablename__ = "tracker_link"
    __table_args__ = (
        UniqueConstraint("ticket_id", name="uq_tracker_link_ticket"),
        Index("ix_tracker_link_external", "tracker", "external_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    ticket_id: int = Field(foreign_key="ticket.id")
    tracker: str = Field(max_length=16)  # github | jira | linear
    target: str = Field(max_length=200)  # owner/repo, a Jira project key, a Linear team key
    state: str = Field(default="pending", max_length=16)  # pending | linked | failed
    external_id: Optional[str] = Field(default=None, max_length=100)  # issue number / Jira key / Linear id
    external_key: Optional[str] = Field(default=None, max_length=200)  # acme/shop#12, SHOP-341, ENG-7
    url: Optional[str] = Field(default=None, max_length=500)
    pushed_by: Optional[str] = Field(default=None, max_length=32)  # None: pushed automatically
    error: Optional[str] = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TrackerCarried(SQLModel, table=True):
    """A ticket event the tracker already has: carried there by bot.trackers.sync, caused by the
    tracker itself, or older than the push. One row per event, not a high-water mark: PostgreSQL
    takes an event's id at insert and transactions commit in any order, so a mark moved past id 11
    would skip id 10 committed a moment later (a duplicate linked while a thread reply was saved)."""

    __tablename__ = "tracker_carried"
    link_id: int = Field(foreign_key="tracker_link.id", primary_key=True)
    event_id: int = Field(foreign_key="ticket_event.id", primary_key=True)


class TrackerChannel(SQLModel, table=True):
    """`/hc tracker` in a channel: its target, which severities go automatically, comments back."""

    __tablename__ = "tracker_channel"
    team_id: str = Field(primary_key=True, max_length=32)
    channel: str = Field(primary_key=True, max_length=32)
    tracker: Optional[str] = Field(default=None, max_length=16)  # None: the configured default
    target: Optional[str] = Field(default=None, max_length=200)
    auto: str = Field(default="", max_length=64)  # "critical,high", "all" or "" (off)
    auto_since: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)  # tickets filed from then on
    comments: bool = False  # tracker comments come back into the ticket's thread
    updated_by: Optional[str] = Field(default=None, max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
