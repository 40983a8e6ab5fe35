"""Follow-up reminders: one nudge after N working hours when the reporter stays silent.

Working hours are 09:00–18:00, Monday to Friday, in the reporter's timezone (read once from their
Slack profile and kept on the follow-up). Each reminder is claimed under a unique (follow-up,
number) row in the same transaction as its post, so two processes on one database send it once.
The scheduler (bot.runtime.app.register_jobs) runs `nudge_job` every NUDGE_JOB_SECONDS. No Bolt; posts
go through the outbox, like every follow-up (bot.followups.questions).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.followups import questions as followups
from bot.runtime.settings import Settings
from bot.tickets.service import record
from models.db import session_scope
from models.followup_tables import Followup, FollowupNudge
from models.tables import Ticket

logger = logging.getLogger("hypercare.followups")

NUDGE_JOB_SECONDS = 60.0
WORK_START, WORK_END = time(9), time(18)


def add_working_hours(start: datetime, *, hours: float, tz: ZoneInfo) -> datetime:
    """`start` plus `hours` counted only 09:00–18:00, Monday to Friday, in `tz` (UTC result)."""
    remaining = timedelta(hours=max(0.0, hours))
    local = start.astimezone(tz)
    for _ in range(3700):  # ten years of days: a bound, never reached
        day = local.date()
        if day.weekday() < 5:
            opens, closes = datetime.combine(day, WORK_START, tzinfo=tz), datetime.combine(day, WORK_END, tzinfo=tz)
            begin = max(local, opens)
            if begin < closes:
                if begin + remaining <= closes:
                    return (begin + remaining).astimezone(timezone.utc)
                remaining -= closes - begin  # wall-clock hours: DST never changes inside a working day
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    raise ValueError("working hours never add up")


def in_working_hours(moment: datetime, *, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz)
    return local.weekday() < 5 and WORK_START <= local.time() < WORK_END


def zone(name: str | None, *, default: str = "UTC") -> ZoneInfo:
    for candidate in (name, default):
        try:
            return ZoneInfo(candidate or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def reporter_timezone(client: WebClient, user: str) -> str | None:
    """The reporter's timezone from their Slack profile; None when Slack can't say."""
    try:
        return (client.users_info(user=user).get("user") or {}).get("tz") or None
    except SlackApiError as exc:
        logger.warning("users.info for %s failed: %s", user, exc.response.get("error"))
        return None


def run_nudges(
    engine: Engine, *, now: datetime, nudge_hours: float, max_nudges: int, default_tz: str,
    lookup_tz: Callable[[str], str | None],
) -> int:
    """Send each reminder that is due; returns how many this process sent."""
    if max_nudges <= 0:
        return 0
    with session_scope(engine) as session:
        rows = session.execute(
            select(Followup.id, Followup.reporter, Followup.reporter_tz, Followup.last_asked_at)
            .where(Followup.state == "open", Followup.nudges_sent < max_nudges).order_by(Followup.id)
        ).all()
    sent = 0
    for followup_id, reporter, tz_name, last_asked_at in rows:
        if tz_name is None:  # asked once per follow-up, outside any transaction, then cached
            tz_name = (lookup_tz(reporter) if reporter else None) or default_tz
            with session_scope(engine) as session:
                session.execute(update(Followup).where(Followup.id == followup_id).values(reporter_tz=tz_name))  # type: ignore[arg-type]
        tz = zone(tz_name, default=default_tz)
        if now >= add_working_hours(last_asked_at, hours=nudge_hours, tz=tz) and in_working_hours(now, tz=tz):
            # Looks due: the claim below re-checks everything under the row lock.
            sent += _nudge(engine, followup_id=followup_id, now=now, nudge_hours=nudge_hours, max_nudges=max_nudges, tz=tz)
    return sent


def _nudge(engine: Engine, *, followup_id: int, now: datetime, nudge_hours: float, max_nudges: int, tz: ZoneInfo) -> int:
    with session_scope(engine) as session:
        followup = session.execute(select(Followup).where(Followup.id == followup_id).with_for_update()).scalars().first()
        if followup is None or followup.state != "open" or followup.nudges_sent >= max_nudges:
            return 0
        ticket = session.get(Ticket, followup.ticket_id)
        if ticket is None or ticket.status in followups.CLOSED:
            followups.finish(session, followup, state="stopped", reason=f"ticket is {ticket.status if ticket else 'gone'}")
            return 0
        pending = followups.pending_details(ticket)
        if not pending:
            followups.finish(session, followup, state="done", reason="nothing missing any more")
            return 0
        due = add_working_hours(followup.last_asked_at, hours=nudge_hours, tz=tz)
        if ticket.status != "needs_info" or now < due or not in_working_hours(now, tz=tz):
            return 0
        number = followup.nudges_sent + 1
        try:
            with session.begin_nested():
                session.add(FollowupNudge(followup_id=followup_id, number=number, due_at=due, sent_at=now))
        except IntegrityError:
            return 0  # another process claimed this reminder first: it sends it
        followup.nudges_sent, followup.last_asked_at = number, now
        session.add(followup)
        record(session, ticket, actor=None, kind="followup_nudge", note=f"reminder {number} of {max_nudges}: still missing {', '.join(pending)}")
        hello = f"<@{ticket.reporter}> a" if ticket.reporter else "A"
        text = (f"{hello} quick reminder about *{ticket.key}*: we still need\n{followups.bullets(ticket, pending)}\n"
                "A reply in this thread is enough, or use the button.")
        followups.post(session, ticket, text=text, button=True, dedupe_key=f"followup:{ticket.id}:nudge:{number}")
    return 1


def nudge_job(*, engine: Engine, client: WebClient, settings: Settings, on_sent: Callable[[], None]) -> Callable[[datetime], None]:
    """The scheduler's job (bot.runtime.app.register_jobs): a function of `now`, safe in many processes."""

    def run(now: datetime) -> None:
        if run_nudges(engine, now=now, nudge_hours=settings.followup_nudge_hours, max_nudges=settings.followup_max_nudges,
                      default_tz=settings.timezone, lookup_tz=lambda user: reporter_timezone(client, user)):
            on_sent()

    return run
