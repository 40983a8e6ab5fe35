"""Tables of the stand-up digests (bot/digests/build.py, bot/digests/schedule.py, bot/digests/commands.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.tables import Ticket
from models.types import UTCDateTime, utcnow

DIGEST_DAYS = ("weekdays", "daily")
RUN_KINDS = ("scheduled", "manual")
RUN_STATUSES = ("posted", "skipped")  # skipped: missed by more than the grace window
CHART_STATES = ("pending", "uploading", "shared", "failed", "off")


class DigestSchedule(SQLModel, table=True):
    """When a channel gets its digest: a local time in an IANA timezone, on weekdays or daily.

    Stored (not only held in APScheduler) so every process, and a process started later, knows
    it; `effective_from` keeps a schedule set at 09:30 from posting the 09:00 digest it never had.
    """

    __tablename__ = "digest_schedule"
    __table_args__ = (UniqueConstraint("team_id", "channel", name="uq_digest_schedule_channel"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    hour: int
    minute: int
    timezone: str = Field(max_length=64)
    days: str = Field(default="weekdays", max_length=16)  # one of DIGEST_DAYS
    created_by: Optional[str] = Field(default=None, max_length=32)
    effective_from: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DigestRun(SQLModel, table=True):
    """One digest for one channel and period: the claim, then the record of what was posted.

    The unique (team, channel, period) is what makes a digest go out once: the process that
    inserts the row (in the same transaction as the digest's outbox message) is the only one that
    posts, also after a restart, a misfire, or with two schedulers on one database.
    """

    __tablename__ = "digest_run"
    __table_args__ = (
        UniqueConstraint("team_id", "channel", "period", name="uq_digest_run_period"),
        Index("ix_digest_run_channel_as_of", "team_id", "channel", "as_of"),
        Index("ix_digest_run_chart_state", "chart_state"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    # Scheduled: the occurrence in the schedule's local time ("2025-03-31T09:00"); manual: "now:<utc>".
    period: str = Field(max_length=64)
    kind: str = Field(default="scheduled", max_length=16)  # one of RUN_KINDS
    status: str = Field(default="posted", max_length=16)  # one of RUN_STATUSES
    scheduled_for: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    since: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)  # the previous digest's as_of
    as_of: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)  # what the digest counted up to
    timezone: str = Field(default="UTC", max_length=64)  # the times in the digest (and the chart's days)
    claimed_by: Optional[str] = Field(default=None, max_length=64)
    outbox_id: Optional[int] = Field(default=None)  # the chat.postMessage; its result holds the ts
    message_ts: Optional[str] = Field(default=None, max_length=32)  # copied from the outbox once delivered
    # The headline numbers as posted: the next digest's trend compares against them.
    stats: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    chart_state: Optional[str] = Field(default=None, max_length=16)  # one of CHART_STATES
    chart_file_id: Optional[str] = Field(default=None, max_length=32)
    chart_error: Optional[str] = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# Indexes on `ticket` for the digest's "since the last digest" queries (models.digest_queries):
# without them, counting what was resolved or first answered in a period reads every ticket. They
# cover the columns those queries group by, so counts and the chart's per-day figures are read from
# the index alone. Declared here, with the feature that needs them, so Alembic sees them as schema.
Index("ix_ticket_team_created", Ticket.team_id, Ticket.created_at, Ticket.severity, Ticket.category)
Index("ix_ticket_team_resolved", Ticket.team_id, Ticket.resolved_at, Ticket.status, Ticket.severity)
Index("ix_ticket_team_first_response", Ticket.team_id, Ticket.first_response_at)
