"""Helpers and the `digest_bot` fixture shared by the digest tests (test_digest.py,
test_digest_schedule.py)."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.digests import schedule as ds
from models.digest_tables import DigestRun, DigestSchedule
from models.tables import Ticket
from tests.conftest import RunningBot, start_bot
from tests.conftest import stop_bot as stop  # the digest tests import it by this name
from tests.fake_slack import Call, FakeSlack


def add_ticket(bot: RunningBot, *, number: int, title: str, created_at: datetime, **fields: Any) -> None:
    """A ticket as the triage tools leave it, with the times the test needs. From no channel, so
    the SLA job (which also runs in run_all) has no thread to post its alerts in."""
    with Session(bot.engine) as session:
        values: dict[str, Any] = {"severity": "medium", "status": "new", "category": "bug", "updated_at": created_at, **fields}
        session.add(Ticket(team_id=bot.fake.team_id, number=number, title=title, created_at=created_at, **values))
        session.commit()


def change_ticket(bot: RunningBot, number: int, **fields: Any) -> None:
    with Session(bot.engine) as session:
        found = session.execute(select(Ticket).where(Ticket.number == number)).scalars().one()
        for name, value in fields.items():
            setattr(found, name, value)
        session.add(found)
        session.commit()


def set_schedule(bot: RunningBot, *, channel: str, hour: int, minute: int, tz: str, days: str, at: datetime) -> None:
    """What `/hc digest schedule` stores, as if typed at `at` (it takes effect from then)."""
    with Session(bot.engine) as session:
        ds.set_schedule(session, team_id=bot.fake.team_id, channel=channel, hour=hour, minute=minute, tz=ds.zone(tz), days=days, user="U_T1", now=at)
        session.commit()


def digest_posts(fake: FakeSlack, channel: str | None = None) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage")
            if "Hypercare stand-up" in str(c.params.get("text")) and (channel is None or c.params.get("channel") == channel)]


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for block in blocks:
        for holder in [block.get("text"), *block.get("elements", [])]:
            if isinstance(holder, dict) and "text" in holder:
                out.append(holder["text"])
    return out


def text_of(call: Call) -> str:
    return "\n".join(texts(call.params["blocks"]))


_answers = itertools.count(1)


def hc(bot: RunningBot, text: str, *, user: str = "U_T1", channel: str = "C100") -> dict[str, Any]:
    """The answer as Slack shows it; one that needs Slack first (e.g. is the bot in that channel?)
    comes after the acknowledgement, by response_url, and that is what is returned."""
    key = f"digest-{next(_answers)}"
    response = bot.slack.command(text=text, user=user, channel=channel, response_url=bot.fake.response_url(key=key))
    assert response.status == 200, response.body
    answer = response.json()
    if answer["text"].startswith("One moment, I'm checking with Slack"):
        answer = bot.fake.wait_for(f"response_url:{key}")[0].params
    assert answer["response_type"] == "ephemeral"
    return answer


def schedules(bot: RunningBot) -> list[tuple[str, int, int, str, str]]:
    with Session(bot.engine) as session:
        rows = session.execute(select(DigestSchedule).order_by(DigestSchedule.channel)).scalars()
        return [(s.channel, s.hour, s.minute, s.timezone, s.days) for s in rows]


def runs(bot: RunningBot) -> list[DigestRun]:
    with Session(bot.engine) as session:
        return list(session.execute(select(DigestRun).order_by(DigestRun.id)).scalars())


@pytest.fixture
def digest_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False, digest_chart=False,
                        triage_users=("U_T1",), timezone="America/New_York")
    yield running
    stop(running)
