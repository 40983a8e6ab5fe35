"""The SQLModel tables. Schema changes go through an Alembic migration in models/migrations."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

CATEGORIES = ("bug", "performance", "usability", "integration", "data", "documentation", "feature_request", "question")
SEVERITIES = ("critical", "high", "medium", "low")
STATUSES = ("new", "needs_info", "triaged", "in_progress", "resolved", "closed", "duplicate", "wont_fix")
OPEN_STATUSES = ("new", "needs_info", "triaged", "in_progress")
DETAILS = ("steps", "expected", "actual", "environment")


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("team_id", "number", name="uq_ticket_team_number"),
        Index("ix_ticket_team_status", "team_id", "status"),
        Index("ix_ticket_created_at", "created_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    number: int
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    category: str = Field(default="bug", max_length=32)
    severity: str = Field(default="medium", max_length=16)
    status: str = Field(default="new", max_length=16)
    reporter: Optional[str] = Field(default=None, max_length=32)
    assignee: Optional[str] = Field(default=None, max_length=32)
    channel: Optional[str] = Field(default=None, max_length=32)
    message_ts: Optional[str] = Field(default=None, max_length=32)
    thread_ts: Optional[str] = Field(default=None, max_length=32)
    permalink: Optional[str] = Field(default=None, max_length=500)
    steps: Optional[str] = Field(default=None, sa_type=Text)
    expected: Optional[str] = Field(default=None, sa_type=Text)
    actual: Optional[str] = Field(default=None, sa_type=Text)
    environment: Optional[str] = Field(default=None, sa_type=Text)
    missing: list[str] = Field(default_factory=list, sa_type=JSON)
    duplicate_of: Optional[str] = Field(default=None, max_length=32)
    affected_users: list[str] = Field(default_factory=list, sa_type=JSON)
    files: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    source: str = Field(default="message", max_length=16)
    # The bot's acknowledgement in the report's thread: the ticket card that chat.update keeps current.
    card_channel: Optional[str] = Field(default=None, max_length=32)
    card_ts: Optional[str] = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_response_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    resolved_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    resolution: Optional[str] = Field(default=None, sa_type=Text)

    @property
    def key(self) -> str:
        return f"HC-{self.number}"


class TicketEvent(SQLModel, table=True):
    """Append-only history: who changed what on a ticket, when, and why."""

    __tablename__ = "ticket_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: Optional[str] = Field(default=None, max_length=32)  # a Slack user id, or None for the bot itself
    kind: str = Field(max_length=32)  # created, changed, comment, linked, edited, deleted, note, …
    field_name: Optional[str] = Field(default=None, max_length=32)
    old_value: Optional[str] = Field(default=None, sa_type=Text)
    new_value: Optional[str] = Field(default=None, sa_type=Text)
    note: Optional[str] = Field(default=None, sa_type=Text)


class ReportMessage(SQLModel, table=True):
    """A Slack message that is part of a ticket: the original report, or one linked as a duplicate.

    The unique (channel, ts) is what makes a second :ticket: reaction, a Slack retry or a replayed
    event unable to file the same message twice.
    """

    __tablename__ = "report_message"
    __table_args__ = (UniqueConstraint("team_id", "channel", "message_ts", name="uq_report_message"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    message_ts: str = Field(max_length=32)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    user: Optional[str] = Field(default=None, max_length=32)
    role: str = Field(default="report", max_length=16)  # report | duplicate
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TicketCounter(SQLModel, table=True):
    """The last ticket number handed out per workspace (HC-<n> is unique per workspace)."""

    __tablename__ = "ticket_counter"
    team_id: str = Field(primary_key=True, max_length=32)
    last_number: int = 0


class ChannelSetting(SQLModel, table=True):
    __tablename__ = "channel_setting"
    team_id: str = Field(primary_key=True, max_length=32)
    channel: str = Field(primary_key=True, max_length=32)
    capture: str = Field(default="auto", max_length=16)  # auto | confirm | off
    updated_by: Optional[str] = Field(default=None, max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QueueRow(SQLModel):
    """Columns shared by the durable queues (inbox and outbox).

    A row is `pending` until a worker leases it (`working`, with `lease_until`); a worker that dies
    leaves an expired lease that another worker takes over, so nothing stored is ever dropped.
    """

    status: str = Field(default="pending", max_length=16)  # pending | working | done | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_owner: Optional[str] = Field(default=None, max_length=64)
    lease_until: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    error: Optional[str] = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Rows of one lane are handled one at a time, in order: a Slack channel, so a report's edit never
    # overtakes the report and posts into one channel keep to Slack's pace.
    lane: Optional[str] = Field(default=None, max_length=64)


class SlackEvent(QueueRow, table=True):
    """Every Slack event received, stored under its event_id before Slack is acknowledged."""

    __tablename__ = "slack_event"
    __table_args__ = (Index("ix_slack_event_claim", "status", "next_attempt_at"), Index("ix_slack_event_lane", "lane", "status"))
    event_id: str = Field(primary_key=True, max_length=64)
    team_id: Optional[str] = Field(default=None, max_length=32)
    event_type: str = Field(default="", max_length=64)
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    retries_seen: int = 0  # how many Slack retries of this event arrived (and were dropped)


class OutboxMessage(QueueRow, table=True):
    """A Web API call the bot must make exactly once, written in the transaction that causes it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_claim", "status", "next_attempt_at"), Index("ix_outbox_lane", "lane", "status"))
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: Optional[str] = Field(default=None, max_length=32)
    method: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    ticket_id: Optional[int] = Field(default=None, index=True)
    # What to do with the answer, e.g. remember the posted ts as the ticket card.
    on_result: Optional[str] = Field(default=None, max_length=32)
    dedupe_key: Optional[str] = Field(default=None, max_length=191, unique=True)
    result: Optional[dict[str, Any]] = Field(default=None, sa_type=JSON)

