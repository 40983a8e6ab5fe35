"""Tables of the dashboard, root causes and exit criteria (bot/dashboard, bot/insights)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Index, Text, func
from sqlmodel import Field, SQLModel

from models.tables import Ticket
from models.types import UTCDateTime, utcnow

LINK_KINDS = ("personal", "shared")  # personal: `/hc dashboard` (expires); shared: a wall screen's
ROOT_CAUSES = ("code_defect", "configuration", "data", "infrastructure", "third_party", "user_error", "documentation", "not_reproducible")
ROOT_CAUSE_LABEL = {
    "code_defect": "Code defect", "configuration": "Configuration", "data": "Data", "infrastructure": "Infrastructure",
    "third_party": "Third-party", "user_error": "User error / training", "documentation": "Documentation",
    "not_reproducible": "Not reproducible",
}


class DashboardLink(SQLModel, table=True):
    """One dashboard link handed out. The URL carries the id, expiry and an HMAC; the row is what
    lets a link be revoked (and says whose workspace it shows)."""

    __tablename__ = "dashboard_link"
    __table_args__ = (Index("ix_dashboard_link_team", "team_id", "kind", "revoked_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    kind: str = Field(default="personal", max_length=16)  # one of LINK_KINDS
    nonce: str = Field(max_length=32)  # random: a link id alone can't be guessed into a signature
    created_by: Optional[str] = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    revoked_by: Optional[str] = Field(default=None, max_length=32)


class TicketRootCause(SQLModel, table=True):
    """Why a resolved ticket happened, named when it was resolved (`/hc resolve HC-12 config: …`)."""

    __tablename__ = "ticket_root_cause"
    __table_args__ = (Index("ix_ticket_root_cause_team", "team_id", "cause"),)

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    team_id: str = Field(max_length=32)
    cause: str = Field(max_length=32)  # one of ROOT_CAUSES
    set_by: Optional[str] = Field(default=None, max_length=32)
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ExitCriteria(SQLModel, table=True):
    """A workspace's criteria for leaving hypercare (`/hc exit set …`), and whether the triage
    channel was told they were all met (told once: `announced_at` is set in the same transaction
    as the outbox message)."""

    __tablename__ = "exit_criteria"
    team_id: str = Field(primary_key=True, max_length=32)
    criteria: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    text: str = Field(default="", sa_type=Text)  # as typed, for `/hc exit`
    set_by: Optional[str] = Field(default=None, max_length=32)
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    announced_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class ReportRequest(SQLModel, table=True):
    """`/hc report`: stored when asked (answered at once), then built and uploaded by a job
    (bot.report.upload), claimed row by row so one process uploads it, and shared once."""

    __tablename__ = "report_request"
    __table_args__ = (Index("ix_report_request_state", "state", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    requested_by: str = Field(max_length=32)
    fmt: str = Field(default="html", max_length=8)
    since: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    state: str = Field(default="pending", max_length=16)  # pending | uploading | shared | failed
    claimed_by: Optional[str] = Field(default=None, max_length=64)
    file_id: Optional[str] = Field(default=None, max_length=32)
    error: Optional[str] = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# Indexes on `ticket` for the dashboard's filters and lists (models.dashboard_queries): the filter
# choices (distinct channels and assignees) and "biggest problems" (most affected people) would
# otherwise read every ticket. Declared here, with the feature that needs them (as digest_tables does).
Index("ix_ticket_team_channel", Ticket.team_id, Ticket.channel)
Index("ix_ticket_team_assignee", Ticket.team_id, Ticket.assignee)
Index("ix_ticket_team_affected", Ticket.team_id, func.json_array_length(Ticket.affected_users))
