"""The App Home tab: a person's own reports, and for the triage team the queue, with buttons that act.

Slack refuses a view of more than 100 blocks, so every list is capped and says how many it left
out (with the `/hc list` that shows them); `fit` enforces the limit whatever the lists hold.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.delivery import outbox
from bot.tickets import blocks
from bot.runtime.settings import Settings
from bot.tickets.sla import targets
from models import triage_queries as tq
from models.tables import OPEN_STATUSES, Ticket

MAX_BLOCKS = 100
PER_LIST = 10
QUEUE = (
    ("unassigned", "Unassigned", "/hc list unassigned"),
    ("urgent", "Critical and high, open", "/hc list critical"),
    ("breaching", "Breaching SLA", "/hc list open"),
    ("waiting", "Waiting on reporters", "/hc list needs-info"),
)


def _row(ticket: Ticket, *, accessory: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": blocks.ticket_line(ticket, now=now)}}
    if accessory:
        block["accessory"] = accessory
    return block


def _triage_button(ticket: Ticket) -> dict[str, Any]:
    # The next step for a queued ticket: take it if nobody has, otherwise resolve it.
    if ticket.assignee is None:
        return blocks.button("assign_me", "Assign to me", ticket.key)
    return blocks.button(blocks.RESOLVE, "Resolve…", ticket.key)


def _section(title: str, tickets: list[Ticket], total: int, *, more: str, now: datetime, accessory: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": f"{title} ({total})"}}]
    if not tickets:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "Nothing here."}]})
    out += [_row(t, accessory=accessory(t), now=now) for t in tickets]
    if total > len(tickets):
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {total - len(tickets)} more: `{more}`"}]})
    return out


def home_view(
    session: Session, *, team_id: str, user: str, is_triager: bool, settings: Settings, now: datetime, notice: str | None = None
) -> dict[str, Any]:
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Hypercare"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Updated {now:%Y-%m-%d %H:%M} UTC · `/hc help` for every command"}]},
    ]
    if notice:
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": f":warning: {blocks.bot_mrkdwn(notice, limit=500)}"}})
    mine, total = tq.reported_by(session, team_id=team_id, user=user, limit=PER_LIST)
    own = lambda t: blocks.button(blocks.CLOSE, "Close", t.key) if t.status in OPEN_STATUSES else None  # noqa: E731
    out += _section("Your reports", mine, total, more="/hc search <words>", now=now, accessory=own)
    if is_triager:
        targets_ = targets(settings)
        for name, title, more in QUEUE:
            tickets, count = tq.queue(session, team_id=team_id, name=name, targets=targets_, now=now, limit=PER_LIST)
            out.append({"type": "divider"})
            out += _section(title, tickets, count, more=more, now=now, accessory=_triage_button)
    else:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "The triage queue shows here for the triage team (`/hc triagers list`)."}]})
    return {"type": "home", "blocks": fit(out)}


def fit(view_blocks: list[dict[str, Any]], *, limit: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    """At most `limit` blocks: the tail is cut and replaced by a pointer to `/hc list`."""
    if len(view_blocks) <= limit:
        return view_blocks
    return view_blocks[: limit - 1] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": "More in `/hc list all`."}]}]


def publish(session: Session, *, team_id: str, user: str, view: dict[str, Any]) -> None:
    """views.publish through the outbox, in one lane per person so an older view never lands last."""
    row = outbox.enqueue(session, method="views.publish", team_id=team_id, params={"user_id": user, "view": view})
    row.lane = f"home:{user}"
