"""`/hc stats [7d]`: what happened in a period, counted and measured in SQL."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.loop import csat
from bot.errors import UserInputError
from bot.runtime.settings import Settings
from bot.tickets.sla import format_duration, targets
from models import dashboard_queries
from models import triage_queries as tq
from models.dashboard_tables import ROOT_CAUSE_LABEL, ROOT_CAUSES
from models.tables import CATEGORIES, SEVERITIES, Ticket

USAGE = "/hc stats [7d|24h|2w]"
MAX_PERIOD = timedelta(days=366)
PERIOD_UNITS = {"h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Stats:
    period: timedelta
    since: datetime
    opened_by_severity: dict[str, int]
    opened_by_category: dict[str, int]
    resolved_by_severity: dict[str, int]
    resolved_by_category: dict[str, int]
    median_first_response: float | None  # seconds
    first_responses: int
    median_resolution: float | None
    resolutions: int
    waiting_on_reporters: int
    first_response_breaches: int
    resolution_breaches: int
    satisfaction: csat.Satisfaction | None = None  # 👍/👎 answers to the resolution DMs (bot.loop.csat)
    root_causes: dict[str, int] | None = None  # of the tickets resolved in the period (bot.tickets.root_causes)


def parse_period(text: str | None) -> timedelta:
    if not text:
        return timedelta(days=7)
    match = re.fullmatch(r"(\d{1,4})\s*([hdw])", text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise UserInputError(f"“{text}” is not a period. Say how far back, like 7d, 24h or 2w.", usage=USAGE)
    period = timedelta(seconds=int(match.group(1)) * PERIOD_UNITS[match.group(2)])
    if period > MAX_PERIOD:
        raise UserInputError("Stats go back at most a year.", usage=USAGE)
    return period


def compute(session: Session, *, team_id: str, settings: Settings, period: timedelta, now: datetime) -> Stats:
    since = now - period
    opened = [Ticket.created_at >= since]
    done = [Ticket.resolved_at >= since, Ticket.status.in_(tq.DONE_STATUSES)]  # type: ignore[attr-defined,operator]
    first_median, first_count = tq.median_seconds(session, team_id=team_id, later=Ticket.first_response_at, earlier=Ticket.created_at, where=opened)
    resolution_median, resolution_count = tq.median_seconds(session, team_id=team_id, later=Ticket.resolved_at, earlier=Ticket.created_at, where=done)
    missed_first, missed_resolution = tq.breaches(session, team_id=team_id, since=since, now=now, targets=targets(settings))
    waiting = tq.counts_by(session, team_id=team_id, column=Ticket.status, where=[Ticket.status == "needs_info"]).get("needs_info", 0)
    return Stats(
        period=period, since=since,
        opened_by_severity=tq.counts_by(session, team_id=team_id, column=Ticket.severity, where=opened),
        opened_by_category=tq.counts_by(session, team_id=team_id, column=Ticket.category, where=opened),
        resolved_by_severity=tq.counts_by(session, team_id=team_id, column=Ticket.severity, where=done),
        resolved_by_category=tq.counts_by(session, team_id=team_id, column=Ticket.category, where=done),
        median_first_response=first_median, first_responses=first_count,
        median_resolution=resolution_median, resolutions=resolution_count,
        waiting_on_reporters=waiting, first_response_breaches=missed_first, resolution_breaches=missed_resolution,
        satisfaction=csat.satisfaction(session, team_id=team_id, since=since),
        root_causes=dashboard_queries.root_causes(session, team_id=team_id, since=since),
    )


def _breakdown(counts: dict[str, int], order: tuple[str, ...]) -> str:
    parts = [f"{name.replace('_', ' ')} {counts[name]}" for name in order if counts.get(name)]
    return " · ".join(parts) or "none"


def root_cause_breakdown(counts: dict[str, int]) -> str:
    parts = [f"{ROOT_CAUSE_LABEL[name]} {counts[name]}" for name in ROOT_CAUSES if counts.get(name)]
    return " · ".join(parts) or "none named"


def _median(seconds: float | None, count: int) -> str:
    if seconds is None:
        return "no data yet"
    return f"{format_duration(timedelta(seconds=seconds))} (median of {count})"


def render(stats: Stats) -> tuple[str, list[dict[str, Any]]]:
    days = stats.period.total_seconds() / 86400
    label = f"{int(days)} day{'s' if days != 1 else ''}" if days >= 1 and days == int(days) else format_duration(stats.period)
    opened, resolved = sum(stats.opened_by_severity.values()), sum(stats.resolved_by_severity.values())
    lines = [
        f"*Hypercare stats — last {label}* (since {stats.since:%Y-%m-%d %H:%M} UTC)",
        f"*Opened:* {opened} — {_breakdown(stats.opened_by_severity, SEVERITIES)}",
        f"      by category: {_breakdown(stats.opened_by_category, CATEGORIES)}",
        f"*Resolved:* {resolved} — {_breakdown(stats.resolved_by_severity, SEVERITIES)}",
        f"      by category: {_breakdown(stats.resolved_by_category, CATEGORIES)}",
        f"*Time to first response:* {_median(stats.median_first_response, stats.first_responses)}",
        f"*Time to resolution:* {_median(stats.median_resolution, stats.resolutions)}",
        f"*Waiting on reporters:* {stats.waiting_on_reporters}",
        f"*SLA breaches:* {stats.first_response_breaches} first response · {stats.resolution_breaches} resolution",
    ]
    if stats.satisfaction is not None:
        lines.append(f"*Satisfaction:* {stats.satisfaction.describe()}")
    if stats.root_causes is not None:
        lines.append(f"*Root causes:* {root_cause_breakdown(stats.root_causes)}")
    text = "\n".join(lines)
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
