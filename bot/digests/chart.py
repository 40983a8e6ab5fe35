"""The digest's chart: tickets opened vs resolved per day over the hypercare period, by severity.

Drawn by matplotlib from one chart definition (bot.charts; the dashboard draws the same one
as SVG). Shared after the digest with the files upload API: the upload URL is
asked for and the bytes sent (invisible until completed), then files.completeUploadExternal goes
through the outbox under a unique dedupe key, in the channel's lane right behind the digest, so
the chart is shared once and after its digest. A workspace that refuses files just gets no chart.
"""
from __future__ import annotations

import logging
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import charts
from bot.delivery import outbox
from bot.charts import Chart, Series
from bot.charts.spec import SEVERITY_COLORS
from models import digest_queries as dq
from models.db import session_scope
from models.digest_tables import DigestRun
from models.tables import SEVERITIES

logger = logging.getLogger("hypercare.digest")
MAX_DAYS = 28
CHART_WINDOW = timedelta(minutes=15)  # a chart not shared by then is left out rather than posted late
W, H = 960, 440  # the PNG in pixels


@dataclass(frozen=True)
class ChartData:
    days: list[date]
    opened: dict[date, dict[str, int]]
    resolved: dict[date, dict[str, int]]

    @property
    def empty(self) -> bool:
        return not self.opened and not self.resolved


def load(session: Session, *, team_id: str, now: datetime, tz: ZoneInfo) -> ChartData | None:
    """Per-day counts (SQL) from the first ticket, or the last MAX_DAYS days, up to `now`."""
    began = dq.first_ticket_at(session, team_id=team_id)
    if began is None:
        return None
    today = now.astimezone(tz).date()
    first = max(began.astimezone(tz).date(), today - timedelta(days=MAX_DAYS - 1))
    days = [first + timedelta(days=i) for i in range((today - first).days + 1)]

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)

    bounds = [(day, midnight(day), min(midnight(day + timedelta(days=1)), now + timedelta(microseconds=1))) for day in days]
    counts = dq.per_day(session, team_id=team_id, days=bounds)
    return ChartData(days=days, opened=counts["opened"], resolved=counts["resolved"])


# -- drawing ----------------------------------------------------------------------------------
def chart_of(data: ChartData) -> Chart:
    """The one definition of this chart: the digest's PNG and the dashboard's SVG both draw it."""
    series = [
        Series(name=severity, values=tuple(float(counts.get(day, {}).get(severity, 0)) for day in data.days),
               color=SEVERITY_COLORS[severity], group=group)
        for group, counts in (("opened", data.opened), ("resolved", data.resolved))
        for severity in SEVERITIES
    ]
    return Chart(kind="paired_stacked_bar", title="Tickets opened vs resolved per day",
                 note="left bar: opened · right (pale): resolved", labels=tuple(f"{day:%m-%d}" for day in data.days),
                 series=tuple(series), y_label="tickets")


def render_png(data: ChartData) -> bytes:
    return charts.render_png(chart_of(data), width=W / 100, height=H / 100, dpi=100)


# -- sharing ----------------------------------------------------------------------------------
def upload(client: WebClient, *, png: bytes, filename: str) -> str:
    """Ask for an upload URL and send the bytes; the file stays invisible until completed."""
    answer = client.files_getUploadURLExternal(filename=filename, length=len(png))
    request = urllib.request.Request(str(answer["upload_url"]), data=png, method="POST", headers={"Content-Type": "image/png"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - Slack's own upload URL
        if response.status != 200:
            raise OSError(f"upload answered HTTP {response.status}")
    return str(answer["file_id"])


def share_pending(engine: Engine, client: WebClient, *, now: datetime, owner: str) -> int:
    """Upload and share each digest's chart that is waiting (claimed row by row: one process each)."""
    with dq.read_session(engine) as session:
        waiting = session.execute(select(DigestRun.id).where(
            DigestRun.chart_state == "pending", DigestRun.created_at >= now - CHART_WINDOW).order_by(DigestRun.id)).scalars().all()
    shared = 0
    for run_id in waiting:
        with session_scope(engine) as session:  # the claim: only the process whose update matched goes on
            taken = session.execute(update(DigestRun).where(DigestRun.id == run_id, DigestRun.chart_state == "pending")
                                    .values(chart_state="uploading", claimed_by=owner)).rowcount  # type: ignore[attr-defined]
        if taken == 1:
            shared += _share(engine, client, run_id=run_id)
    return shared


def _share(engine: Engine, client: WebClient, *, run_id: int) -> int:
    with session_scope(engine) as session:
        run = session.get(DigestRun, run_id)
        assert run is not None
        tz = ZoneInfo(run.timezone)
        data = load(session, team_id=run.team_id, now=run.as_of, tz=tz)
    if data is None or data.empty:
        return _finish(engine, run_id, state="off", error="no tickets to chart")
    name = f"hypercare-{run.as_of.astimezone(tz):%Y-%m-%d-%H%M}.png"
    try:
        file_id = upload(client, png=render_png(data), filename=name)
    except SlackApiError as exc:  # files not allowed, no files:write scope, …: the digest stands alone
        return _finish(engine, run_id, state="failed", error=str(exc.response.get("error") or exc))
    except OSError as exc:
        return _finish(engine, run_id, state="failed", error=f"upload failed: {exc}")
    with session_scope(engine) as session:
        params = {"files": [{"id": file_id, "title": "Opened vs resolved per day"}], "channel_id": run.channel,
                  "initial_comment": f"Tickets opened vs resolved per day ({tz.key} days), by severity."}
        row = outbox.enqueue(session, method="files.completeUploadExternal", params=params, team_id=run.team_id,
                             dedupe_key=f"digest-chart:{run_id}")
        row.lane = run.channel  # queued behind the digest's own post in that channel, so it follows it
        session.execute(update(DigestRun).where(DigestRun.id == run_id).values(chart_state="shared", chart_file_id=file_id))
    return 1


def _finish(engine: Engine, run_id: int, *, state: str, error: str) -> int:
    logger.info("digest %s: no chart (%s)", run_id, error)
    with session_scope(engine) as session:
        session.execute(update(DigestRun).where(DigestRun.id == run_id).values(chart_state=state, chart_error=error[:2000]))
    return 0
