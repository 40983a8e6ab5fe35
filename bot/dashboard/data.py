"""Everything the dashboard shows, as plain data (the JSON the page refreshes from) and the
chart definitions (bot.charts) its SVGs are drawn from. One workspace only, always."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.digests import chart as digest_chart
from bot.loop import csat, exit_criteria
from bot.charts import Chart, Series
from bot.charts.spec import PALETTE, SEVERITY_COLORS
from bot.runtime.settings import Settings
from bot.tickets.sla import targets
from models import dashboard_queries as q
from models import metrics_queries as mq
from models.dashboard_tables import ROOT_CAUSE_LABEL, ROOT_CAUSES
from models.tables import CATEGORIES, OPEN_STATUSES, SEVERITIES, STATUSES, Ticket
from models.tracker_tables import TrackerLink

MEDIAN_DAYS = 7  # the tiles' medians cover tickets opened in the last week
BACKLOG_DAYS = 90  # the burn-down covers the hypercare, at most this many days back
TABLE_LIMIT = 100
PROBLEMS = 10
CHART_NAMES = ("backlog", "flow", "resolution", "categories", "causes")


def tracker_links(session: Session, *, ticket_ids: Sequence[int]) -> dict[int, str]:
    """Ticket id → the URL of its issue in GitHub/Jira/Linear, for the tickets pushed there and
    answered (a pending or failed push has no issue to link to)."""
    if not ticket_ids:
        return {}
    rows = session.exec(select(TrackerLink.ticket_id, TrackerLink.url).where(
        TrackerLink.ticket_id.in_(list(ticket_ids)), TrackerLink.state == "linked", TrackerLink.url.is_not(None)))  # type: ignore[union-attr,attr-defined]
    return {int(ticket_id): str(url) for ticket_id, url in rows}


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def _days(first: datetime | None, now: datetime, tz: ZoneInfo, *, most: int) -> list[date]:
    if first is None:
        return []
    today = now.astimezone(tz).date()
    start = max(first.astimezone(tz).date(), today - timedelta(days=most - 1))
    return [start + timedelta(days=i) for i in range((today - start).days + 1)]


def tiles(session: Session, *, team_id: str, settings: Settings, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    team = Ticket.team_id == team_id
    midnight = _midnight(now.astimezone(tz).date(), tz)
    open_by = q.by(session, Ticket.severity, team, Ticket.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
    # Medians over the last MEDIAN_DAYS: how the team is doing now (the report has the whole period).
    recent = [Ticket.created_at >= now - timedelta(days=MEDIAN_DAYS)]
    first, first_n = q.tq.median_seconds(session, team_id=team_id, later=Ticket.first_response_at, earlier=Ticket.created_at, where=recent)
    resolution, resolution_n = q.tq.median_seconds(session, team_id=team_id, later=Ticket.resolved_at, earlier=Ticket.created_at,
                                                   where=[*recent, Ticket.status.in_(q.DONE_STATUSES)])  # type: ignore[attr-defined]
    rating = csat.satisfaction(session, team_id=team_id)
    breaches = sum(n for t, _, n in mq.sla_breaching(session, targets=targets(settings), now=now) if t == team_id)
    return {
        "open_by_severity": {s: open_by.get(s, 0) for s in SEVERITIES}, "open": sum(open_by.values()),
        "new_today": q.count(session, team, Ticket.created_at >= midnight),
        "resolved_today": q.count(session, team, Ticket.status.in_(q.DONE_STATUSES), Ticket.resolved_at >= midnight),  # type: ignore[attr-defined,operator]
        "median_days": MEDIAN_DAYS, "median_first_response": first, "first_responses": first_n,
        "median_resolution": resolution, "resolutions": resolution_n,
        "satisfaction": None if rating.rate is None else round(rating.rate * 100), "ratings": rating.ratings,
        "sla_breaches": breaches,
        "waiting": q.count(session, team, Ticket.status == "needs_info"),
    }


def charts(session: Session, *, team_id: str, now: datetime, tz: ZoneInfo) -> dict[str, Chart]:
    """The page's charts (the flow chart is the digest's, defined once in bot.digests.chart)."""
    first = q.dq.first_ticket_at(session, team_id=team_id)
    days = _days(first, now, tz, most=BACKLOG_DAYS)
    labels = tuple(f"{d:%m-%d}" for d in days)
    ends = [min(_midnight(d + timedelta(days=1), tz), now + timedelta(microseconds=1)) for d in days]
    out: dict[str, Chart] = {}
    # Backlog at the end of each day = opened so far − closed so far (resolved_at is set on every
    # closing status and cleared on reopening), from two indexed per-day counts.
    if days:
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        spans = [(epoch, _midnight(days[0], tz))] + [(_midnight(d, tz), e) for d, e in zip(days, ends)]
        opened = q.per_day(session, team_id=team_id, column=Ticket.created_at, bounds=spans)
        closed = q.per_day(session, team_id=team_id, column=Ticket.resolved_at, bounds=spans)
        running = {s: 0 for s in SEVERITIES}
        backlog: dict[str, list[float]] = {s: [] for s in SEVERITIES}
        for index in range(len(spans)):
            for s in SEVERITIES:
                running[s] += opened.get(index, {}).get(s, 0) - closed.get(index, {}).get(s, 0)
                if index:
                    backlog[s].append(float(running[s]))
    else:
        backlog = {s: [] for s in SEVERITIES}
    out["backlog"] = Chart(kind="stacked_area", title="Open backlog by severity", note="open tickets at the end of each day",
                           labels=labels, series=tuple(Series(s, tuple(backlog[s]), SEVERITY_COLORS[s]) for s in SEVERITIES), y_label="open")
    flow = digest_chart.load(session, team_id=team_id, now=now, tz=tz)
    out["flow"] = digest_chart.chart_of(flow) if flow is not None else Chart(kind="paired_stacked_bar", title="Tickets opened vs resolved per day", labels=(), series=())
    medians = q.medians_by_severity(session, team_id=team_id)
    out["resolution"] = Chart(kind="bar", title="Median time to resolution by severity", note="hours, resolved and closed tickets",
                              labels=SEVERITIES, series=(Series("hours", tuple(round(medians.get(s, (0, 0))[0] / 3600, 1) for s in SEVERITIES)),),
                              y_label="hours", extra=dict(SEVERITY_COLORS))
    categories = q.by(session, Ticket.category, Ticket.team_id == team_id)
    names = [c for c in CATEGORIES if categories.get(c)]
    out["categories"] = Chart(kind="hbar", title="Tickets by category", labels=tuple(c.replace("_", " ") for c in names),
                              series=(Series("tickets", tuple(float(categories[c]) for c in names), PALETTE[0]),))
    causes = q.root_causes(session, team_id=team_id)
    named = [c for c in ROOT_CAUSES if causes.get(c)]
    out["causes"] = Chart(kind="hbar", title="Root causes of resolved tickets", labels=tuple(ROOT_CAUSE_LABEL[c] for c in named),
                          series=(Series("tickets", tuple(float(causes[c]) for c in named), PALETTE[2]),))
    return out


def _ticket(row: Any, *, tracker: dict[int, str]) -> dict[str, Any]:
    data = {k: v for k, v in row._asdict().items()}
    data["key"] = f"HC-{row.number}"
    data["tracker_url"] = tracker.get(row.id)
    for name in ("created_at", "resolved_at"):
        if isinstance(data.get(name), datetime):
            data[name] = data[name].isoformat()
    data.pop("id", None)
    return data


def overview(session: Session, *, team_id: str, settings: Settings, now: datetime) -> tuple[dict[str, Any], dict[str, Chart]]:
    """What every viewer of the workspace sees alike (tiles, charts, problems, filter choices):
    the costly aggregates, which the web layer keeps for a few seconds (bot.dashboard.web)."""
    tz = ZoneInfo(settings.timezone)
    problems = q.biggest(session, team_id=team_id, limit=PROBLEMS)
    tracker = tracker_links(session, ticket_ids=[r.id for r in problems])
    channels, assignees = q.choices(session, team_id=team_id)
    drawn = charts(session, team_id=team_id, now=now, tz=tz)
    body = {
        "team": team_id, "as_of": now.isoformat(), "timezone": tz.key,
        "tiles": tiles(session, team_id=team_id, settings=settings, now=now, tz=tz),
        "charts": {name: chart.fingerprint() for name, chart in drawn.items()},
        "problems": [_ticket(r, tracker=tracker) for r in problems if r.affected],
        "exit": [{"text": r.text, "met": r.met, "now": r.now} for r in exit_criteria.results(session, team_id=team_id, settings=settings, now=now) or []],
        "choices": {"status": ["open", *STATUSES], "severity": list(SEVERITIES), "category": list(CATEGORIES),
                    "channel": channels, "assignee": assignees},
    }
    return body, drawn


def table(session: Session, *, team_id: str, filters: q.Filters) -> dict[str, Any]:
    """The ticket table under the viewer's filters (always fresh)."""
    rows, total = q.ticket_rows(session, team_id=team_id, filters=filters, limit=TABLE_LIMIT)
    tracker = tracker_links(session, ticket_ids=[r.id for r in rows])
    return {"rows": [_ticket(r, tracker=tracker) for r in rows], "total": total, "limit": TABLE_LIMIT}
