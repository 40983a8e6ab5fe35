"""The stand-up digest: what stakeholders read once a day to know where the launch stands.

Every number comes from SQL (models.digest_queries); this module only decides what to show and
renders it as Block Kit within Slack's limits (50 blocks, 3,000 characters per text), listing the
most important tickets and saying how many more there are rather than growing without bound.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.loop import csat, exit_criteria
from bot.tickets import blocks
from bot.runtime.settings import Settings
from bot.tickets.sla import WARN_AT, format_duration, targets
from bot.tickets.stats import root_cause_breakdown
from models import dashboard_queries
from models import digest_queries as dq
from models.digest_tables import DigestRun
from models.tables import SEVERITIES

MAX_BLOCKS = 50
MAX_TEXT = 3000
SECTION_TEXT = 2900  # a little under Slack's 3,000, for the "…and N more" line
HEADER_TEXT = 150  # a header block's plain_text limit
# How many tickets each list shows; the rest is counted, with the command that lists them all.
LIST_URGENT, LIST_RESOLVED, LIST_WAITING, LIST_BREACHING = 15, 10, 10, 10
SLA_LABEL = {"breached": ":rotating_light: SLA breached", "at risk": ":hourglass_flowing_sand: SLA at risk", "on track": "SLA on track"}


@dataclass(frozen=True)
class Digest:
    """A rendered digest: fallback text, blocks, and the headline numbers to remember for the trend."""

    text: str
    blocks: list[dict[str, Any]]
    stats: dict[str, Any]
    quiet: bool = False  # nothing to report: one short line (and no chart)


@dataclass(frozen=True)
class DigestData:
    now: datetime
    tz: ZoneInfo
    since: datetime | None  # the previous digest in the channel; None: since hypercare began
    began: datetime | None  # the first ticket
    previous: dict[str, Any]  # the previous digest's headline numbers ({} when there was none)
    counts: dq.Counts
    urgent: list[dq.TicketRow]
    resolved: list[dq.TicketRow]
    waiting: list[dq.TicketRow]
    breaching: list[dq.TicketRow]  # medium/low past target (urgent ones carry their SLA state)
    first_response: tuple[float | None, int]
    resolution: tuple[float | None, int]
    satisfaction: csat.Satisfaction  # 👍/👎 answers to the resolution DMs given in the period
    root_causes: dict[str, int] | None = None  # of the tickets resolved in the period (bot.tickets.root_causes)
    exit_lines: list[str] | None = None  # each exit criterion, met or not (bot.loop.exit_criteria); None: none set


def gather(
    session: Session, *, team_id: str, settings: Settings, now: datetime, tz: ZoneInfo,
    since: datetime | None, previous: dict[str, Any] | None = None,
) -> DigestData:
    """Everything the digest shows, as of `now`, for the period after `since`."""
    targets_ = targets(settings)
    counts = dq.counts(session, team_id=team_id, since=since, now=now, targets=targets_, warn_at=WARN_AT)
    first, resolution = dq.medians(session, team_id=team_id, since=since, now=now)
    return DigestData(
        now=now, tz=tz, since=since, began=dq.first_ticket_at(session, team_id=team_id), previous=previous or {}, counts=counts,
        urgent=dq.urgent_open(session, team_id=team_id, now=now, targets=targets_, warn_at=WARN_AT, limit=LIST_URGENT),
        resolved=dq.resolved_in_period(session, team_id=team_id, since=since, now=now, limit=LIST_RESOLVED),
        waiting=dq.waiting_on_reporters(session, team_id=team_id, limit=LIST_WAITING),
        breaching=dq.breaching_other(session, team_id=team_id, now=now, targets=targets_, warn_at=WARN_AT, limit=LIST_BREACHING),
        first_response=first, resolution=resolution, satisfaction=csat.satisfaction(session, team_id=team_id, since=since),
        root_causes=dashboard_queries.root_causes(session, team_id=team_id, since=since),
        exit_lines=exit_criteria.digest_lines(session, team_id=team_id, settings=settings, now=now),
    )


def build(
    session: Session, *, team_id: str, settings: Settings, now: datetime, tz: ZoneInfo, last: DigestRun | None,
    next_at: datetime | None = None, max_blocks: int = MAX_BLOCKS,
) -> Digest:
    """The digest as of `now`, covering the time since `last` (the channel's previous digest,
    `dq.last_posted`; None: since hypercare began)."""
    data = gather(session, team_id=team_id, settings=settings, now=now, tz=tz,
                  since=last.as_of if last else None, previous=last.stats if last else None)
    return render(data, next_at=next_at, max_blocks=max_blocks)


# -- rendering --------------------------------------------------------------------------------
def when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %H:%M")


def stats_of(data: DigestData) -> dict[str, Any]:
    c = data.counts
    return {"open": c.open, "open_by_severity": c.open_by_severity, "new": c.new, "resolved": c.resolved,
            "waiting": c.waiting, "breaching": c.breaching}


def is_quiet(data: DigestData) -> bool:
    c = data.counts
    urgent = sum(c.open_by_severity.get(s, 0) for s in dq.URGENT)
    return not (c.new or c.resolved or urgent or c.breaching or c.waiting)


def render(data: DigestData, *, next_at: datetime | None = None, max_blocks: int = MAX_BLOCKS) -> Digest:
    c = data.counts
    period = f"since the last digest ({when(data.since, data.tz)})" if data.since else "since hypercare began"
    if is_quiet(data):
        rest = f"{c.open} open, all medium or low and within their SLA." if c.open else "no open tickets."
        line = f":white_check_mark: *Hypercare stand-up* — nothing to report {period}: nothing new, nothing resolved; {rest}"
        return Digest(text=line.replace("*", ""), blocks=[_section(line)], stats=stats_of(data), quiet=True)
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Hypercare stand-up · {data.now.astimezone(data.tz):%a %d %b}"[:HEADER_TEXT]}},
        _section(_headline(data, period)),
    ]
    urgent_total = sum(c.open_by_severity.get(s, 0) for s in dq.URGENT)
    # (heading, lines, how many the lines stand for, where to see the rest, whether to show it at all)
    lists = [
        (f"*Critical and high — {urgent_total} open*", [_urgent_line(r, data.now) for r in data.urgent], urgent_total,
         "`/hc list critical` and `/hc list open` show them all.", urgent_total > 0),
        (f"*Resolved {period} — {c.resolved}*", [_resolved_line(r) for r in data.resolved], c.resolved,
         "`/hc stats` has the totals.", c.resolved > 0),
        (f"*Waiting on reporters — {c.waiting}*", [_waiting_line(r, data.now) for r in data.waiting], c.waiting,
         "`/hc list needs-info` shows them all.", c.waiting > 0),
        # Critical/high breaches carry their SLA state in their own list; only the others are listed.
        (_breaches_heading(data), [_breaching_line(r, data.now) for r in data.breaching], c.breaching - c.breaching_urgent,
         "`/hc list open` shows every open ticket.", c.breaching > 0),
    ]
    for heading, lines, total, more, shown in lists:
        if shown:
            out.append({"type": "divider"})
            out += _listed(heading, lines, total=total, more=more)
    out.append({"type": "divider"})
    out.append(_section(_period_summary(data, period)))
    start = data.since or data.began
    footer = [f"Covers {when(start, data.tz) if start else 'the start'} → {when(data.now, data.tz)} ({data.tz.key})"]
    if next_at is not None:
        footer.append(f"next digest {when(next_at, data.tz)}")
    out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(footer)}]})
    by_severity = ", ".join(f"{c.open_by_severity.get(s, 0)} {s}" for s in dq.URGENT)
    text = f"Hypercare stand-up: {c.open} open ({by_severity}); {c.new} new and {c.resolved} resolved {period}."
    return Digest(text=blocks.bot_mrkdwn(text, limit=MAX_TEXT), blocks=fit(out, max_blocks=max_blocks), stats=stats_of(data))


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _trend(now: int, before: Any, *, unit: str = "") -> str:
    if not isinstance(before, int):
        return ""
    if now == before:
        return f" (same as the period before{unit})"
    arrow = ":arrow_up_small:" if now > before else ":arrow_down_small:"
    return f" ({arrow}{abs(now - before)} on the period before{unit})"


def _headline(data: DigestData, period: str) -> str:
    c, prev = data.counts, data.previous
    severities = " · ".join(f"{blocks.SEVERITY_EMOJI[s]} {c.open_by_severity.get(s, 0)} {s}" for s in SEVERITIES)
    open_line = f"*{c.open} open* — {severities}"
    if isinstance(prev.get("open"), int):
        delta = c.open - prev["open"]
        open_line += f" ({'+' if delta > 0 else ''}{delta} since the last digest)" if delta else " (unchanged since the last digest)"
    moves = (f"{period[0].upper()}{period[1:]}: *{c.new} new*{_trend(c.new, prev.get('new'))}"
             f" · *{c.resolved} resolved*{_trend(c.resolved, prev.get('resolved'))}")
    return f"{open_line}\n{moves}"


def _key(row: dq.TicketRow) -> str:
    return f"<{row.permalink}|{row.key}>" if row.permalink else row.key


def _who(row: dq.TicketRow) -> str:
    return f"<@{row.assignee}>" if row.assignee else "unassigned"


def _urgent_line(row: dq.TicketRow, now: datetime) -> str:
    return (f"{blocks.SEVERITY_EMOJI.get(row.severity, '')} *{_key(row)}* {blocks.safe(row.title, limit=90)}"
            f" — {blocks.age(row.created_at, now=now)} old · {_who(row)} · {SLA_LABEL.get(row.sla, row.sla)}")


def _resolved_line(row: dq.TicketRow) -> str:
    note = " ".join((row.resolution or "").split())  # one line: a long note must not take over the digest
    return f":white_check_mark: *{_key(row)}* {blocks.safe(row.title, limit=80)}" + (f" — _{blocks.safe(note, limit=140)}_" if note else "")


def _waiting_line(row: dq.TicketRow, now: datetime) -> str:
    waited = blocks.age(row.waiting_since or row.created_at, now=now)
    return f"{blocks.SEVERITY_EMOJI.get(row.severity, '')} *{_key(row)}* {blocks.safe(row.title, limit=90)} — asked {waited} ago · {_who(row)}"


def _breaching_line(row: dq.TicketRow, now: datetime) -> str:
    return (f"{blocks.SEVERITY_EMOJI.get(row.severity, '')} *{_key(row)}* {blocks.safe(row.title, limit=90)}"
            f" — {row.severity}, {blocks.age(row.created_at, now=now)} old · {_who(row)}")


def _breaches_heading(data: DigestData) -> str:
    c = data.counts
    urgent = f" ({c.breaching_urgent} critical/high, marked above)" if c.breaching_urgent else ""
    return f"*SLA breaches — {c.breaching} open tickets past target*{urgent}"


def _median(value: tuple[float | None, int]) -> str:
    seconds, count = value
    return "no data" if seconds is None else f"*{format_duration(timedelta(seconds=seconds))}* (of {count})"


def _period_summary(data: DigestData, period: str) -> str:
    top = data.counts.top_categories[:3]
    categories = " · ".join(f"{blocks.CATEGORY_LABEL.get(name, name)} {n}" for name, n in top) or "no new tickets"
    text = (f"*Top categories {period}:* {categories}\n"
            f"*Median time to first response:* {_median(data.first_response)} · *to resolution:* {_median(data.resolution)}\n"
            f"*Satisfaction {period}:* {data.satisfaction.describe()}")
    if data.root_causes:
        text += f"\n*Root causes of what was resolved:* {root_cause_breakdown(data.root_causes)}"
    if data.exit_lines:
        text += "\n*Exit criteria:* " + " · ".join(data.exit_lines)
    return text


def _listed(heading: str, lines: list[str], *, total: int, more: str) -> list[dict[str, Any]]:
    """A heading and lines packed into as few sections as fit 2,900 characters each, then how
    many were left out and where to see them."""
    out: list[dict[str, Any]] = []
    current = heading
    for line in lines:
        if len(current) + 1 + len(line) > SECTION_TEXT:
            out.append(_section(current))
            current = line
        else:
            current = f"{current}\n{line}"
    out.append(_section(current))
    if total > len(lines):
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {total - len(lines)} more. {more}"}]})
    return out


def fit(out: list[dict[str, Any]], *, max_blocks: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    """The last guard: at most `max_blocks` blocks, no text over Slack's limit (whatever the lists
    above did, the post must never be refused as invalid_blocks)."""
    if len(out) > max_blocks:
        out = out[: max_blocks - 1] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": "…more in `/hc digest preview`."}]}]
    for block in out:
        for holder in [block.get("text"), *block.get("elements", [])]:
            if isinstance(holder, dict) and isinstance(holder.get("text"), str) and len(holder["text"]) > MAX_TEXT:
                holder["text"] = holder["text"][: MAX_TEXT - 1] + "…"
    return out
