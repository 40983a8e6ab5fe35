"""Digest schedules, and posting each scheduled digest exactly once.

A schedule is a local time in an IANA timezone, on weekdays or every day, stored in the database
so every process knows it. What is due is computed from the stored schedule and `now`: the latest
occurrence at or before `now`, built with zoneinfo, so a 09:00 digest stays at 09:00 local time on
both sides of a daylight-saving change. Posting it first claims (team, channel, period) under a
unique constraint, in the same transaction that enqueues the post: with two schedulers on one
database, a restart at that minute or a misfire run late, only the first insert posts.

APScheduler runs one CronTrigger per schedule, in the schedule's timezone, to post on the minute;
a tick every 30 s (and once at start-up) reloads the schedules (another process may have added
one), posts a digest missed while the bot was down if it is at most the grace window late, and
records an older one as skipped instead.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from slack_sdk.web import WebClient
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.delivery import outbox
from bot.digests import build as digest, chart as digest_chart
from bot.errors import HypercareError, UserInputError
from bot.delivery.scheduler import Scheduler
from bot.runtime.settings import Settings
from models import digest_queries as dq
from models.db import session_scope
from models.digest_tables import DigestRun, DigestSchedule
from models.tables import OutboxMessage, Ticket

logger = logging.getLogger("hypercare.digest")
TICK_SECONDS = 30.0
JOB_PREFIX = "digest:"


@dataclass(frozen=True)
class Occurrence:
    at: datetime  # UTC
    period: str  # the local date and time it is for: what is claimed, once per channel


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserInputError(f"“{name}” is not a timezone I know. Use an IANA name like Europe/Berlin, America/New_York or UTC.") from exc


def _at(schedule: DigestSchedule, day: date) -> datetime:
    # A time in a spring-forward gap (02:30 on the change night) does not exist; zoneinfo reads it
    # with the offset from before the change, which lands just after the gap (03:30).
    local = datetime.combine(day, time(schedule.hour, schedule.minute), tzinfo=ZoneInfo(schedule.timezone))
    return local.astimezone(timezone.utc)


def _runs_on(schedule: DigestSchedule, day: date) -> bool:
    return schedule.days == "daily" or day.weekday() < 5


def _occurrence(schedule: DigestSchedule, day: date) -> Occurrence:
    return Occurrence(at=_at(schedule, day), period=f"{day.isoformat()}T{schedule.hour:02d}:{schedule.minute:02d}")


def latest_occurrence(schedule: DigestSchedule, *, now: datetime) -> Occurrence | None:
    today = now.astimezone(ZoneInfo(schedule.timezone)).date()
    for back in range(8):
        day = today - timedelta(days=back)
        if _runs_on(schedule, day) and _at(schedule, day) <= now:
            return _occurrence(schedule, day)
    return None


def next_occurrence(schedule: DigestSchedule, *, after: datetime) -> Occurrence:
    today = after.astimezone(ZoneInfo(schedule.timezone)).date()
    for ahead in range(9):
        day = today + timedelta(days=ahead)
        if _runs_on(schedule, day) and _at(schedule, day) > after:
            return _occurrence(schedule, day)
    raise AssertionError("a schedule runs at least on weekdays")


def trigger_for(schedule: DigestSchedule) -> CronTrigger:
    """APScheduler's trigger for a schedule: wall-clock time in its IANA zone, DST and all."""
    return CronTrigger(hour=schedule.hour, minute=schedule.minute, day_of_week="mon-fri" if schedule.days == "weekdays" else "*",
                       timezone=ZoneInfo(schedule.timezone))


def describe(schedule: DigestSchedule) -> str:
    return f"{schedule.hour:02d}:{schedule.minute:02d} {schedule.timezone}, {'weekdays' if schedule.days == 'weekdays' else 'every day'}"


# -- schedules --------------------------------------------------------------------------------
def schedule_for(session: Session, *, team_id: str, channel: str) -> DigestSchedule | None:
    return session.execute(select(DigestSchedule).where(DigestSchedule.team_id == team_id, DigestSchedule.channel == channel)).scalars().first()


def schedules(session: Session, *, team_id: str) -> list[DigestSchedule]:
    return list(session.execute(select(DigestSchedule).where(DigestSchedule.team_id == team_id).order_by(DigestSchedule.channel)).scalars())


def set_schedule(
    session: Session, *, team_id: str, channel: str, hour: int, minute: int, tz: ZoneInfo, days: str, user: str, now: datetime,
) -> DigestSchedule:
    """Create or change a channel's schedule. It takes effect from now: setting 09:00 at 09:30
    does not post the 09:00 digest the channel never had."""
    found = schedule_for(session, team_id=team_id, channel=channel) or DigestSchedule(team_id=team_id, channel=channel, hour=hour, minute=minute, timezone=tz.key)
    found.hour, found.minute, found.timezone, found.days = hour, minute, tz.key, days
    found.created_by, found.effective_from, found.updated_at = user, now, now
    session.add(found)
    session.flush()
    return found


def remove_schedule(session: Session, *, team_id: str, channel: str) -> bool:
    found = schedule_for(session, team_id=team_id, channel=channel)
    if found is None:
        return False
    session.delete(found)
    return True


# -- claiming and posting ---------------------------------------------------------------------
def _claim(session: Session, run: DigestRun) -> bool:
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:  # another process (or an earlier run) has this period: it is theirs to post
        logger.info("digest %s in %s was claimed elsewhere; not posting it here", run.period, run.channel)
        return False
    return True


def post_digest(
    session: Session, *, team_id: str, channel: str, settings: Settings, now: datetime, tz: ZoneInfo, period: str,
    kind: str, owner: str, scheduled_for: datetime | None = None, next_at: datetime | None = None,
) -> DigestRun | None:
    """Claim the period, build the digest and enqueue it, all in the caller's transaction; None
    when the period was already claimed."""
    last = dq.last_posted(session, team_id=team_id, channel=channel, before=now)
    run = DigestRun(team_id=team_id, channel=channel, period=period, kind=kind, status="posted", scheduled_for=scheduled_for,
                    since=last.as_of if last else None, as_of=now, timezone=tz.key, claimed_by=owner, created_at=now)
    if not _claim(session, run):
        return None
    made = digest.build(session, team_id=team_id, settings=settings, now=now, tz=tz, last=last, next_at=next_at)
    params = {"channel": channel, "text": made.text, "blocks": made.blocks, "unfurl_links": False, "unfurl_media": False}
    row = outbox.enqueue(session, method="chat.postMessage", params=params, team_id=team_id, dedupe_key=f"digest:{run.id}")
    session.flush()
    run.outbox_id, run.stats = row.id, made.stats
    run.chart_state = "pending" if settings.digest_chart and not made.quiet else "off"
    session.add(run)
    return run


def timezone_for(session: Session, *, team_id: str, channel: str, settings: Settings) -> tuple[ZoneInfo, DigestSchedule | None]:
    schedule = schedule_for(session, team_id=team_id, channel=channel)
    return (ZoneInfo(schedule.timezone) if schedule else zone(settings.timezone)), schedule


def post_now(session: Session, *, team_id: str, channel: str, settings: Settings, now: datetime, owner: str) -> DigestRun:
    """`/hc digest now` and `hypercare digest send`: a digest outside the schedule. It counts as the
    channel's last digest, so the next scheduled one covers the time since."""
    tz, schedule = timezone_for(session, team_id=team_id, channel=channel, settings=settings)
    next_at = next_occurrence(schedule, after=now).at if schedule else None
    run = post_digest(session, team_id=team_id, channel=channel, settings=settings, now=now, tz=tz,
                      period=f"now:{now.isoformat()}", kind="manual", owner=owner, next_at=next_at)
    if run is None:
        raise UserInputError("A digest was posted in that channel at this very moment. Nothing more to do.")
    return run


def preview(session: Session, *, team_id: str, channel: str, settings: Settings, now: datetime) -> digest.Digest:
    """What the channel's digest would say now; claims nothing and posts nothing."""
    tz, schedule = timezone_for(session, team_id=team_id, channel=channel, settings=settings)
    last = dq.last_posted(session, team_id=team_id, channel=channel, before=now)
    next_at = next_occurrence(schedule, after=now).at if schedule else None
    return digest.build(session, team_id=team_id, settings=settings, now=now, tz=tz, last=last, next_at=next_at, max_blocks=digest.MAX_BLOCKS - 1)


def run_due(engine: Engine, *, settings: Settings, now: datetime, owner: str, schedule_id: int | None = None) -> int:
    """Post every scheduled digest due at `now` that nobody has claimed; returns how many."""
    grace = timedelta(minutes=settings.digest_grace_minutes)
    with dq.read_session(engine) as session:  # a look first: an idle tick takes no write lock
        query = select(DigestSchedule).order_by(DigestSchedule.id)
        found = session.execute(query if schedule_id is None else query.where(DigestSchedule.id == schedule_id)).scalars().all()
        due = [(s, o) for s in found if (o := latest_occurrence(s, now=now)) is not None and o.at >= s.effective_from]
        if not due:
            return 0
        claimed = {tuple(row) for row in session.execute(select(DigestRun.team_id, DigestRun.channel, DigestRun.period)
                                                         .where(DigestRun.period.in_({o.period for _, o in due}))).all()}  # type: ignore[attr-defined]
    posted = 0
    for schedule, occurrence in due:
        if (schedule.team_id, schedule.channel, occurrence.period) in claimed:
            continue
        try:
            with session_scope(engine) as session:
                posted += _run_one(session, schedule, occurrence, settings=settings, now=now, owner=owner, grace=grace)
        except Exception:  # one broken schedule must not keep the others from posting
            logger.exception("digest for %s in %s failed", occurrence.period, schedule.channel)
    return posted


def _run_one(session: Session, schedule: DigestSchedule, occurrence: Occurrence, *, settings: Settings, now: datetime, owner: str, grace: timedelta) -> int:
    if now - occurrence.at > grace:
        skipped = DigestRun(team_id=schedule.team_id, channel=schedule.channel, period=occurrence.period, status="skipped",
                            scheduled_for=occurrence.at, as_of=now, timezone=schedule.timezone, claimed_by=owner, created_at=now)
        if _claim(session, skipped):
            logger.warning("digest %s in %s skipped: %s late, more than the %s grace window", occurrence.period, schedule.channel, now - occurrence.at, grace)
        return 0
    run = post_digest(session, team_id=schedule.team_id, channel=schedule.channel, settings=settings, now=now, tz=ZoneInfo(schedule.timezone),
                      period=occurrence.period, kind="scheduled", owner=owner, scheduled_for=occurrence.at,
                      next_at=next_occurrence(schedule, after=occurrence.at).at)
    return 1 if run is not None else 0


def record_posted(engine: Engine) -> None:
    """Copy each delivered digest's message ts from its outbox row onto the run."""
    with dq.read_session(engine) as session:
        rows = session.execute(
            select(DigestRun.id, OutboxMessage.result).join(OutboxMessage, OutboxMessage.id == DigestRun.outbox_id)
            .where(DigestRun.message_ts.is_(None), DigestRun.status == "posted", OutboxMessage.status == "done").limit(100)  # type: ignore[union-attr]
        ).all()
    found = {run_id: str(result["ts"]) for run_id, result in rows if isinstance(result, dict) and result.get("ts")}
    if found:
        with session_scope(engine) as session:
            for run_id, ts in found.items():
                session.execute(update(DigestRun).where(DigestRun.id == run_id).values(message_ts=ts))


# -- the jobs ---------------------------------------------------------------------------------
class DigestJobs:
    """The scheduler's side: the tick, and one APScheduler cron job per stored schedule."""

    def __init__(self, *, engine: Engine, client: WebClient | None, settings: Settings, scheduler: Scheduler, on_posted: Callable[[], None]) -> None:
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._engine, self._client, self._settings = engine, client, settings
        self._scheduler, self._on_posted = scheduler, on_posted
        self._lock = threading.Lock()
        self._cron: dict[str, tuple[object, ...]] = {}

    def tick(self, now: datetime) -> None:
        if self._scheduler.enabled:
            self.sync()
        self.run(now)

    def run(self, now: datetime, schedule_id: int | None = None) -> int:
        posted = run_due(self._engine, settings=self._settings, now=now, owner=self.owner, schedule_id=schedule_id)
        charts = digest_chart.share_pending(self._engine, self._client, now=now, owner=self.owner) if self._client else 0
        record_posted(self._engine)
        if posted or charts:
            self._on_posted()
        return posted

    def sync(self) -> None:
        """Make APScheduler's cron jobs match the stored schedules (added, changed, removed)."""
        with dq.read_session(self._engine) as session:
            found = {f"{JOB_PREFIX}{s.id}": s for s in session.execute(select(DigestSchedule)).scalars()}
        with self._lock:
            for name in set(self._cron) - set(found):
                self._scheduler.remove(name)
                del self._cron[name]
            for name, schedule in found.items():
                signature = (schedule.hour, schedule.minute, schedule.timezone, schedule.days)
                if self._cron.get(name) != signature:
                    schedule_id = schedule.id
                    self._scheduler.cron(name=name, trigger=trigger_for(schedule), run=lambda now, sid=schedule_id: self.run(now, sid))  # type: ignore[misc]
                    self._cron[name] = signature


def register(*, engine: Engine, client: WebClient, settings: Settings, scheduler: Scheduler, on_posted: Callable[[], None]) -> DigestJobs:
    """The digest tick, its start-up catch-up, and a cron job per schedule (bot.runtime.app.register_jobs)."""
    jobs = DigestJobs(engine=engine, client=client, settings=settings, scheduler=scheduler, on_posted=on_posted)
    scheduler.every(name="digests", seconds=TICK_SECONDS, run=jobs.tick)
    # Once at start-up, without waiting for the first interval: catch up a digest missed while down.
    scheduler.cron(name="digests:start-up", trigger=DateTrigger(), run=jobs.tick)
    return jobs


def only_team(session: Session, *, channel: str) -> str:
    scheduled = session.execute(select(DigestSchedule.team_id).where(DigestSchedule.channel == channel)).scalars().first()
    if scheduled:
        return scheduled
    teams = session.execute(select(Ticket.team_id).distinct().limit(2)).scalars().all()
    if len(teams) != 1:
        raise HypercareError("Say which workspace with --team T… (the database has tickets of several, or none).")
    return teams[0]
