"""Block Kit rendering: every message and view the bot shows is built here.

Text a user typed is passed through `safe()` before it goes into a post, so nothing typed can
make the bot ping @channel, @here or another person.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.triage import neutralize_mentions
from models.tables import CATEGORIES, SEVERITIES, Ticket
from models.types import utcnow

SEVERITY_EMOJI = {"critical": ":red_circle:", "high": ":large_orange_circle:", "medium": ":large_yellow_circle:", "low": ":white_circle:"}
CATEGORY_LABEL = {
    "bug": "Bug", "performance": "Performance", "usability": "Usability", "integration": "Integration",
    "data": "Data", "documentation": "Documentation", "feature_request": "Feature request", "question": "Question",
}
DETAIL_LABEL = {"steps": "steps to reproduce", "expected": "expected behaviour", "actual": "actual behaviour", "environment": "environment"}
MAX_TEXT = 2900  # Slack allows 3,000 characters in a section's text


def safe(text: str | None, *, limit: int = MAX_TEXT) -> str:
    cleaned = neutralize_mentions(text or "")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def age(since: datetime, *, now: datetime | None = None) -> str:
    seconds = max(0, int(((now or utcnow()) - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label}, "value": value}


def ticket_summary(ticket: Ticket) -> str:
    return f"{ticket.key} · {CATEGORY_LABEL.get(ticket.category, ticket.category)} · {ticket.severity} · {ticket.status}"


def ticket_card(ticket: Ticket, *, with_actions: bool = True, now: datetime | None = None) -> list[dict[str, Any]]:
    """The card the bot keeps current in the report's thread (and shows for `/hc show`)."""
    if ticket.status in ("wont_fix", "closed", "duplicate") and with_actions:
        # A closed ticket's card shrinks to one quiet line: the thread should not stay noisy.
        why = ticket.duplicate_of and f"duplicate of {ticket.duplicate_of}" or safe(ticket.resolution, limit=200) or ticket.status
        return [{"type": "context", "block_id": "card", "elements": [{"type": "mrkdwn", "text": f"~{ticket.key}~ closed: {why}"}]}]
    assignee = f"<@{ticket.assignee}>" if ticket.assignee else "unassigned"
    reporter = f"<@{ticket.reporter}>" if ticket.reporter else "unknown"
    lines = [
        f"{SEVERITY_EMOJI.get(ticket.severity, '')} *{ticket.key}* {safe(ticket.title, limit=200)}",
        f"*{CATEGORY_LABEL.get(ticket.category, ticket.category)}* · severity *{ticket.severity}* · status *{ticket.status}*"
        f" · assignee {assignee} · reporter {reporter} · age {age(ticket.created_at, now=now)}",
    ]
    if ticket.missing:
        lines.append("Missing: " + ", ".join(DETAIL_LABEL.get(m, m) for m in ticket.missing))
    if len(ticket.affected_users) > 1:
        lines.append(f"{len(ticket.affected_users)} people affected")
    if ticket.duplicate_of:
        lines.append(f"Duplicate of {ticket.duplicate_of}")
    if ticket.permalink:
        lines.append(f"<{ticket.permalink}|View the report>")
    blocks: list[dict[str, Any]] = [{"type": "section", "block_id": "card", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    if with_actions:
        blocks.append({
            "type": "actions",
            "block_id": f"card_actions:{ticket.key}",
            "elements": [
                {
                    "type": "static_select", "action_id": "set_category",
                    "placeholder": {"type": "plain_text", "text": "Category"},
                    "initial_option": _option(ticket.category, CATEGORY_LABEL[ticket.category]),
                    "options": [_option(c, CATEGORY_LABEL[c]) for c in CATEGORIES],
                },
                {
                    "type": "static_select", "action_id": "set_severity",
                    "placeholder": {"type": "plain_text", "text": "Severity"},
                    "initial_option": _option(ticket.severity, ticket.severity.capitalize()),
                    "options": [_option(s, s.capitalize()) for s in SEVERITIES],
                },
                {"type": "button", "action_id": "assign_me", "text": {"type": "plain_text", "text": "Assign to me"}, "value": ticket.key},
                {"type": "button", "action_id": "not_an_issue", "text": {"type": "plain_text", "text": "Not an issue"}, "value": ticket.key},
            ],
        })
    return blocks


def card_text(ticket: Ticket) -> str:
    """The notification/fallback text for the card (what shows in notifications and screen readers)."""
    return safe(f"{ticket.key}: {ticket.title} ({ticket_summary(ticket)})", limit=300)


def ephemeral(text: str, *, usage: str | None = None) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": safe(text)}}]
    if usage:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Usage: `{safe(usage, limit=500)}`"}]})
    return {"response_type": "ephemeral", "text": safe(text), "blocks": blocks}
