"""SLA timers: per-severity targets for first response and resolution, and the alerts when a target
is about to be missed (80 %) and when it is missed.

Each alert is claimed by inserting an `SlaAlert` row under a unique (ticket_id, kind), in the same
transaction as its outbox message: the process that inserts the row first is the only one that
posts, so an alert goes out exactly once, across restarts and with two processes checking at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.delivery import outbox
from bot.tickets import blocks, outbox_rows as ticket_delivery
from bot.errors import ConfigError
from bot.tickets.permissions import load_team
from bot.runtime.settings import Settings
from models import triage_queries
from models.db import session_scope
from models.tables import SEVERITIES, Ticket
from models.triage_tables import SlaAlert

CHECK_SECONDS = 60.0
WARN_AT = 0.8  # "about to be missed": this share of the target has passed
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
CLOCK_LABEL = {"first_response": "first-response", "resolution": "resolution"}


@dataclass(frozen=True)
class Target:
    first_response: timedelta
    resolution: timedelta

    def of(self, clock: str) -> timedelta:
        return self.first_response if clock == "first_response" else self.resolution


@dataclass(frozen=True)
class Due:
    ticket: Ticket
    clock: str  # first_response | resolution
    level: str  # warning | breach
    target: timedelta
    elapsed: timedelta

    @property
    def kind(self) -> str:
        return f"{self.clock}_{self.level}"


def parse_duration(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*", text or "", re.IGNORECASE)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 15m, 4h, 3d or 1w")
    return timedelta(seconds=float(match.group(1)) * UNITS[match.group(2).lower()])


def format_duration(value: timedelta) -> str:
    """15m, 4h, 1h 30m, 3d, 2d 4h: short, for posts and the card."""
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins and not days else ""]
    return " ".join(p for p in parts if p) or "0m"


def targets(settings: Settings) -> dict[str, Target]:
    out: dict[str, Target] = {}
    for severity in SEVERITIES:
        raw = str(getattr(settings, f"sla_{severity}"))
        try:
            first, resolution = (parse_duration(part) for part in raw.split("/", 1))
        except ValueError as exc:
            raise ConfigError(f"HYPERCARE_SLA_{severity.upper()} must look like 15m/4h, got {raw!r}") from exc
        out[severity] = Target(first_response=first, resolution=resolution)
    return out


def due_for(ticket: Ticket, *, target: Target, now: datetime) -> list[Due]:
    """The alerts this open ticket has earned by `now` (at most one level per clock: the highest)."""
    due: list[Due] = []
    elapsed = now - ticket.created_at
    for clock in ("first_response", "resolution"):
        if clock == "first_response" and ticket.first_response_at is not None:
            continue
        limit = target.of(clock)
        if elapsed >= limit:
            due.append(Due(ticket=ticket, clock=clock, level="breach", target=limit, elapsed=elapsed))
        elif elapsed >= limit * WARN_AT:
            due.append(Due(ticket=ticket, clock=clock, level="warning", target=limit, elapsed=elapsed))
    return due


def is_breaching(ticket: Ticket, *, targets_: dict[str, Target], now: datetime) -> bool:
    return any(d.level == "breach" for d in due_for(ticket, target=targets_[ticket.severity], now=now))


def check(session: Session, *, settings: Settings, now: datetime, team_id: str | None = None) -> list[Due]:
    """Claim and post every alert that is due and not yet sent; return the ones posted here."""
    targets_ = targets(settings)
    candidates = triage_queries.sla_candidates(session, targets=targets_, now=now, warn_at=WARN_AT, team_id=team_id)
    if not candidates:
        return []
    sent = {(a, k) for a, k in session.execute(
        select(SlaAlert.ticket_id, SlaAlert.kind).where(SlaAlert.ticket_id.in_([t.id for t in candidates]))  # type: ignore[attr-defined]
    ).all()}
    posted: list[Due] = []
    # Always in (ticket, kind) order: two processes then take the unique keys in the same order,
    # so one waits for the other instead of deadlocking.
    for ticket in sorted(candidates, key=lambda t: t.id or 0):
        for due in due_for(ticket, target=targets_[ticket.severity], now=now):
            if (ticket.id, due.kind) in sent:
                continue
            if due.level == "breach" and (ticket.id, f"{due.clock}_warning") not in sent:
                # Missed before anyone was warned (e.g. the bot was down): the breach says it all.
                _claim(session, ticket, kind=f"{due.clock}_warning", posted=False)
            if _claim(session, ticket, kind=due.kind, posted=True):
                _announce(session, due, settings=settings)
                posted.append(due)
    return posted


def run_check(*, engine: Engine, settings: Settings, now: datetime) -> int:
    """The periodic job: one transaction, so alert rows and their posts commit together."""
    with session_scope(engine) as session:
        return len(check(session, settings=settings, now=now))


def _claim(session: Session, ticket: Ticket, *, kind: str, posted: bool) -> bool:
    assert ticket.id is not None
    try:
        with session.begin_nested():
            session.add(SlaAlert(ticket_id=ticket.id, kind=kind, severity=ticket.severity, posted=posted))
            session.flush()
    except IntegrityError:
        return False  # another process (or an earlier run) claimed it: it is theirs to post
    return True


def _announce(session: Session, due: Due, *, settings: Settings) -> None:
    ticket = due.ticket
    team = load_team(session, team_id=ticket.team_id, settings=settings)
    who = f"<@{ticket.assignee}>" if ticket.assignee else (team.mentions() or "nobody is on the triage team yet (`/hc triagers add`)")
    key = f"<{ticket.permalink}|{ticket.key}>" if ticket.permalink else ticket.key
    what = CLOCK_LABEL[due.clock]
    if due.level == "warning":
        head = f":hourglass_flowing_sand: {key} ({ticket.severity}) will miss its {what} target of {format_duration(due.target)} in {format_duration(due.target - due.elapsed)}"
    else:
        head = f":rotating_light: {key} ({ticket.severity}) missed its {what} target of {format_duration(due.target)} (open {format_duration(due.elapsed)})"
    body = f"{head} — {who}\n>{blocks.safe(ticket.title, limit=200)}"
    fallback = blocks.bot_mrkdwn(f"{ticket.key} {'will miss' if due.level == 'warning' else 'missed'} its {what} target ({ticket.severity})")
    params = {
        "channel": settings.triage_channel or ticket.channel, "text": fallback, "unfurl_links": False,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body}}],
    }
    if not settings.triage_channel:
        params["thread_ts"] = ticket.thread_ts or ticket_delivery.TICKET_THREAD  # no triage channel: the ticket's thread
    if not params["channel"]:
        return  # nowhere to post (a ticket from no channel, and no triage channel): the claim stays
    outbox.enqueue(
        session, method="chat.postMessage", params=params, team_id=ticket.team_id, ticket_id=ticket.id,
        dedupe_key=f"sla:{ticket.id}:{due.kind}",
    )
