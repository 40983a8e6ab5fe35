"""Seeded tickets for the dashboard, /metrics and report tests (written straight to the database,
with the times the tests need), and a plain HTTP GET against the running bot."""
from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.dashboard_tables import TicketRootCause
from models.loop_tables import ResolutionNotice
from models.tables import OutboxMessage, ReportMessage, SlackEvent, Ticket
from tests.conftest import RunningBot, start_bot, stop_bot
from tests.fake_slack import FakeSlack

OTHER_TEAM = "T_OTHER"
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with _opener.open(url, timeout=20) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def seed(engine: Engine, *, team_id: str, now: datetime, prefix: str = "") -> dict[str, int]:
    """A small hypercare: 10 tickets over 4 days in every status the tiles count. Returns the
    figures the page must show."""
    day = timedelta(days=1)
    rows = [
        # (number, severity, status, created, first response, resolved, affected, category, assignee)
        (1, "critical", "in_progress", now - 3 * day, now - 3 * day + timedelta(minutes=10), None, 5, "bug", "U_A"),
        (2, "critical", "resolved", now - 3 * day, now - 3 * day + timedelta(minutes=20), now - 2 * day, 9, "performance", "U_A"),
        (3, "high", "triaged", now - 2 * day, now - 2 * day + timedelta(hours=1), None, 2, "integration", "U_B"),
        (4, "high", "needs_info", now - 2 * day, None, None, 1, "bug", None),
        (5, "medium", "needs_info", now - day, None, None, 1, "usability", None),
        (6, "medium", "new", now - timedelta(minutes=30), None, None, 1, "data", None),
        (7, "low", "resolved", now - 2 * day, now - 2 * day + timedelta(minutes=30), now - timedelta(minutes=20), 1, "documentation", "U_B"),
        (8, "low", "closed", now - 3 * day, now - 3 * day + timedelta(hours=2), now - day, 3, "question", "U_B"),
        (9, "medium", "duplicate", now - day, None, now - day + timedelta(hours=1), 1, "bug", None),
        (10, "high", "new", now - timedelta(minutes=10), None, None, 4, "bug", None),
    ]
    with Session(engine) as session:
        ids = {}
        for number, severity, status, created, first, resolved, affected, category, assignee in rows:
            ticket = Ticket(team_id=team_id, number=number, title=f"{prefix}Checkout problem {number}", description=f"details of {number}: {category}",
                            severity=severity, status=status, created_at=created, updated_at=created, first_response_at=first,
                            resolved_at=resolved, resolution="fixed" if resolved else None, category=category, assignee=assignee,
                            channel="C100", permalink=f"https://fake.slack.com/archives/C100/p{number}000",
                            affected_users=[f"U{n}" for n in range(affected)])
            session.add(ticket)
            session.flush()
            ids[number] = ticket.id
            session.add(ReportMessage(team_id=team_id, channel="C100", message_ts=f"{number}.0001", ticket_id=ticket.id, user="U0"))
        session.add(ReportMessage(team_id=team_id, channel="C100", message_ts="99.0001", ticket_id=ids[2], user="U5", role="duplicate"))
        session.add(TicketRootCause(ticket_id=ids[2], team_id=team_id, cause="configuration"))
        session.add(TicketRootCause(ticket_id=ids[7], team_id=team_id, cause="documentation"))
        for user, rating in (("U1", "up"), ("U2", "up"), ("U3", "up"), ("U4", "down")):
            session.add(ResolutionNotice(team_id=team_id, ticket_id=ids[2], user_id=user, rating=rating, rated_at=now - day))
        session.commit()
    return {"open_critical": 1, "open_high": 3, "open_medium": 2, "open_low": 0, "new_today": 2, "resolved_today": 1,
            "waiting": 2, "satisfaction": 75, "total": 10}


def seed_queues(engine: Engine, *, now: datetime) -> None:
    with Session(engine) as session:
        session.add(SlackEvent(event_id="EvPENDING1", team_id="T001", event_type="message", status="pending", created_at=now - timedelta(seconds=90)))
        session.add(SlackEvent(event_id="EvDONE1", team_id="T001", event_type="message", status="done", created_at=now - timedelta(hours=1)))
        session.add(OutboxMessage(team_id="T001", method="chat.postMessage", status="failed", created_at=now - timedelta(hours=2)))
        session.add(OutboxMessage(team_id="T001", method="chat.postMessage", status="failed", created_at=now - timedelta(hours=2)))
        # Backing off (not due): the running bot's outbox worker leaves it pending while the test reads the depth.
        session.add(OutboxMessage(team_id="T001", method="chat.postMessage", status="pending", created_at=now - timedelta(seconds=30),
                                  next_attempt_at=now + timedelta(hours=1)))
        session.commit()


@pytest.fixture
def dash_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url, triage_users=("U_T1",), scheduler_enabled=False,
                        public_url="https://hc.example.com")
    yield running
    stop_bot(running)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
