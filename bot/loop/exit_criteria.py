"""Exit criteria: when the hypercare may end. `/hc exit set no-critical-for 72h; high-open-below 3;
satisfaction-above 80%` stores them; `/hc exit` shows each met or not, as do the digest and the
dashboard; the triage channel is told once, the first time they are all met.

Criteria (separated by `;`):
  no-<severity>-for <duration>   no ticket of that severity open at any time in the last <duration>
  <severity>-open-below <n>      fewer than n open tickets of that severity (`open-below <n>`: all)
  satisfaction-above <p>%        the share of 👍 among all ratings is above p (no ratings: not met)
  breaches-below <n>             fewer than n open tickets past an SLA target
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.delivery import outbox
from bot.loop import csat
from bot.tickets import blocks
from bot.errors import UserInputError
from bot.runtime.settings import Settings
from bot.tickets.sla import format_duration, parse_duration, targets
from models import metrics_queries as mq
from models.dashboard_tables import ExitCriteria
from models.db import session_scope
from models.tables import OPEN_STATUSES, SEVERITIES, Ticket
from models.types import utcnow

USAGE = "/hc exit set no-critical-for 72h; high-open-below 3; satisfaction-above 80%"
CHECK_SECONDS = 60.0
MAX_CRITERIA = 10
_SEV = "|".join(SEVERITIES)
PATTERNS = (
    ("no_severity_for", re.compile(rf"^no[- ]({_SEV})[- ]for\s+(\d+(?:\.\d+)?\s*[mhdw])$")),
    ("open_below", re.compile(rf"^(?:({_SEV})[- ])?open[- ]below\s+(\d{{1,6}})$")),
    ("satisfaction_above", re.compile(r"^satisfaction[- ]above\s+(\d{1,3}(?:\.\d+)?)\s*%?$")),
    ("breaches_below", re.compile(r"^(?:sla[- ])?breaches[- ]below\s+(\d{1,6})$")),
)


@dataclass(frozen=True)
class Result:
    text: str  # the criterion as a person reads it
    met: bool
    now: str  # where things stand

    def line(self) -> str:
        return f"{':white_check_mark:' if self.met else ':black_square_button:'} {self.text} ({self.now})"


def parse(text: str) -> list[dict[str, Any]]:
    parts = [p.strip().lower() for p in re.split(r"[;\n]", text or "") if p.strip()]
    if not parts:
        raise UserInputError("Say which criteria, separated by semicolons.", usage=USAGE)
    if len(parts) > MAX_CRITERIA:
        raise UserInputError(f"At most {MAX_CRITERIA} criteria.", usage=USAGE)
    out = []
    for part in parts:
        for kind, pattern in PATTERNS:
            match = pattern.match(re.sub(r"\s+", " ", part))
            if not match:
                continue
            if kind == "no_severity_for":
                out.append({"kind": kind, "severity": match.group(1), "seconds": parse_duration(match.group(2)).total_seconds()})
            elif kind == "open_below":
                out.append({"kind": kind, "severity": match.group(1), "count": int(match.group(2))})
            elif kind == "satisfaction_above":
                if float(match.group(1)) > 100:
                    raise UserInputError("Satisfaction is a percentage: at most 100%.", usage=USAGE)
                out.append({"kind": kind, "percent": float(match.group(1))})
            else:
                out.append({"kind": kind, "count": int(match.group(1))})
            break
        else:
            raise UserInputError(f"I don't understand the criterion “{blocks.safe(part, limit=80)}”.", usage=USAGE)
    return out


def describe(criterion: dict[str, Any]) -> str:
    kind = criterion["kind"]
    if kind == "no_severity_for":
        return f"no {criterion['severity']} for {format_duration(timedelta(seconds=criterion['seconds']))}"
    if kind == "open_below":
        return f"{(criterion.get('severity') or '') + ' ' if criterion.get('severity') else ''}open below {criterion['count']}"
    if kind == "satisfaction_above":
        return f"satisfaction above {criterion['percent']:g}%"
    return f"SLA breaches below {criterion['count']}"


def _count(session: Session, *where: Any) -> int:
    return int(session.execute(select(func.count()).select_from(Ticket).where(*where)).scalar_one())


def evaluate(session: Session, *, team_id: str, settings: Settings, now: datetime, criteria: list[dict[str, Any]]) -> list[Result]:
    out = []
    team = Ticket.team_id == team_id
    is_open = Ticket.status.in_(OPEN_STATUSES)  # type: ignore[attr-defined]
    for c in criteria:
        kind, text = c["kind"], describe(c)
        if kind == "no_severity_for":
            since = now - timedelta(seconds=c["seconds"])
            touched = _count(session, team, Ticket.severity == c["severity"],
                             or_(is_open, Ticket.created_at >= since, Ticket.resolved_at >= since))  # type: ignore[operator]
            out.append(Result(text, touched == 0, f"{touched} {c['severity']} open in that time" if touched else f"none in {format_duration(timedelta(seconds=c['seconds']))}"))
        elif kind == "open_below":
            where = [team, is_open] + ([Ticket.severity == c["severity"]] if c.get("severity") else [])
            n = _count(session, *where)
            out.append(Result(text, n < c["count"], f"{n} open"))
        elif kind == "satisfaction_above":
            rating = csat.satisfaction(session, team_id=team_id)
            rate = None if rating.rate is None else rating.rate * 100
            out.append(Result(text, rate is not None and rate > c["percent"], "no ratings yet" if rate is None else f"{rate:.0f}% of {rating.ratings}"))
        else:
            n = sum(k for t, _, k in mq.sla_breaching(session, targets=targets(settings), now=now) if t == team_id)
            out.append(Result(text, n < c["count"], f"{n} breaching"))
    return out


def current(session: Session, *, team_id: str) -> ExitCriteria | None:
    return session.get(ExitCriteria, team_id)


def set_criteria(session: Session, *, team_id: str, user: str, text: str) -> ExitCriteria:
    criteria = parse(text)
    row = current(session, team_id=team_id) or ExitCriteria(team_id=team_id)
    row.criteria, row.text, row.set_by, row.set_at, row.announced_at = criteria, text.strip()[:1000], user, utcnow(), None
    session.add(row)
    return row


def results(session: Session, *, team_id: str, settings: Settings, now: datetime) -> list[Result] | None:
    row = current(session, team_id=team_id)
    if row is None or not row.criteria:
        return None
    return evaluate(session, team_id=team_id, settings=settings, now=now, criteria=row.criteria)


def digest_lines(session: Session, *, team_id: str, settings: Settings, now: datetime) -> list[str] | None:
    found = results(session, team_id=team_id, settings=settings, now=now)
    return None if found is None else [r.line() for r in found]


def announce_if_met(session: Session, *, team_id: str, settings: Settings, now: datetime) -> bool:
    """Tell the triage channel, once, that every criterion is met (the row's announced_at and the
    outbox message are written in one transaction, under a dedupe key: never twice)."""
    row = current(session, team_id=team_id)
    if row is None or row.announced_at is not None or not row.criteria or not settings.triage_channel:
        return False
    found = evaluate(session, team_id=team_id, settings=settings, now=now, criteria=row.criteria)
    if not all(r.met for r in found):
        return False
    text = ":tada: *All hypercare exit criteria are met.*\n" + "\n".join(r.line() for r in found)
    outbox.enqueue(session, method="chat.postMessage", team_id=team_id,
                   params={"channel": settings.triage_channel, "text": blocks.bot_mrkdwn(text), "unfurl_links": False},
                   dedupe_key=f"exit-met:{team_id}:{row.set_at.timestamp():.0f}")
    row.announced_at = now
    session.add(row)
    return True


def check_job(*, engine: Engine, settings: Settings) -> Any:
    def run(now: datetime) -> bool:
        told = False
        with session_scope(engine) as session:
            teams = session.execute(select(ExitCriteria.team_id).where(ExitCriteria.announced_at.is_(None))).scalars().all()  # type: ignore[union-attr]
        for team_id in teams:
            with session_scope(engine) as session:
                told = announce_if_met(session, team_id=team_id, settings=settings, now=now) or told
        return told

    return run
