"""Tables of the triage team's tools: who was added to the team, and which SLA alerts were sent."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

# The four SLA alerts a ticket can get, each at most once (see bot.tickets.sla).
SLA_KINDS = ("first_response_warning", "first_response_breach", "resolution_warning", "resolution_breach")


class TriageMember(SQLModel, table=True):
    """Someone added to the triage team with `/hc triagers add` (besides the configured ones)."""

    __tablename__ = "triage_member"
    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    added_by: Optional[str] = Field(default=None, max_length=32)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlaAlert(SQLModel, table=True):
    """An SLA warning or breach announced for a ticket.

    The unique (ticket_id, kind) is the claim: the alert row and its outbox message are written in
    one transaction, so whichever process inserts the row first is the only one that posts, also
    after a restart.
    """

    __tablename__ = "sla_alert"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", name="uq_sla_alert_ticket_kind"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=32)  # one of SLA_KINDS
    severity: str = Field(max_length=16)  # the severity whose target applied when it was sent
    posted: bool = True  # False: claimed but not posted (a warning overtaken by its breach)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
