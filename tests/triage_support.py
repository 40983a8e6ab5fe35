"""Helpers for the triage-tool tests: `/hc` over HTTP, reading tickets back, seeding many tickets.

Seeding goes through the domain's own create_ticket (no Slack round trip), for tests that need
tickets with controlled times or in numbers; everything under test is still driven over HTTP.
"""
from __future__ import annotations

import itertools
import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from bot.tickets.service import NewTicket, create_ticket
from models.tables import Ticket, TicketEvent
from models.types import utcnow
from tests.conftest import RunningBot
from tests.fake_slack import Call
from tests.slack_requests import new_ts

_answers = itertools.count(1)


def hc(bot: RunningBot, text: str, *, user: str = "U_T1", channel: str = "C100") -> dict[str, Any]:
    """`/hc <text>`: the ephemeral answer as Slack shows it. One that needs Slack first (a name
    the bot does not know yet, a channel it has not seen) is answered after the acknowledgement, by response_url: that later answer is returned."""
    key = f"hc-{next(_answers)}"
    response = bot.slack.command(text=text, user=user, channel=channel, response_url=bot.fake.response_url(key=key))
    assert response.status == 200, response.body
    answer = response.json() if response.body else {}
    if answer.get("text", "").startswith("One moment, I'm checking with Slack"):
        answer = bot.fake.wait_for(f"response_url:{key}")[0].params
    if answer:
        assert answer["response_type"] == "ephemeral"
    return answer


def shown(answer: dict[str, Any]) -> str:
    """Everything the person sees in an answer (text and blocks), as one string."""
    return json.dumps(answer, ensure_ascii=False)


def ticket(bot: RunningBot, key: str) -> Ticket:
    number = int(key.split("-")[1])
    with Session(bot.engine) as session:
        found = session.execute(select(Ticket).where(Ticket.number == number)).scalars().one()
        session.expunge(found)
        return found


def all_tickets(bot: RunningBot) -> list[Ticket]:
    with Session(bot.engine) as session:
        return list(session.execute(select(Ticket).order_by(Ticket.number)).scalars())


def ticket_events(bot: RunningBot, kind: str) -> list[TicketEvent]:
    """Every ticket's history entries of one kind, oldest first."""
    with Session(bot.engine) as session:
        return list(session.execute(select(TicketEvent).where(TicketEvent.kind == kind).order_by(TicketEvent.id)).scalars())


def file_ticket(bot: RunningBot, text: str, *, user: str = "U_REP", channel: str = "C100") -> Ticket:
    """`/hc new <text>`, then wait for its card (posted in the channel; its thread is the ticket's)."""
    answer = hc(bot, f"new {text}", user=user, channel=channel)
    match = re.search(r"HC-\d+", answer.get("text", ""))
    assert match, answer
    bot.settle()
    filed = ticket(bot, match.group(0))
    assert filed.card_ts and filed.thread_ts
    return filed


def seed(
    bot: RunningBot, title: str, *, description: str = "", severity: str = "medium", reporter: str = "U_REP",
    channel: str | None = "C100", created_at: datetime | None = None, **fields: Any,
) -> Ticket:
    with Session(bot.engine, expire_on_commit=False) as session:
        new = NewTicket(team_id=bot.fake.team_id, title=title, description=description or title, category="bug",
                        severity=severity, reporter=reporter, source="command", channel=channel)
        made = create_ticket(session, new)
        made.created_at = created_at or utcnow()
        if channel:  # like a filed ticket: its thread and its card exist in Slack
            made.thread_ts, made.card_channel, made.card_ts = new_ts(), channel, new_ts()
        for name, value in fields.items():
            setattr(made, name, value)
        session.add(made)
        session.commit()
        return made


def thread_posts(bot: RunningBot, filed: Ticket) -> list[Call]:
    return [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == filed.thread_ts and c.params.get("channel") == filed.channel]


def card_updates(bot: RunningBot, filed: Ticket) -> list[Call]:
    return [c for c in bot.fake.calls_to("chat.update") if c.params.get("ts") == filed.card_ts]
