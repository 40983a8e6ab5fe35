"""Block Kit rendering: every message and view the bot shows is built here.

Text a user typed (ticket titles, descriptions, notes, details: readable text, after
slack_to_text) goes through `safe()` before it goes into a post: its `&`, `<` and `>` are escaped,
so it can never become the bot's own link, mention or command, and its pings are neutralised.
The bot's own mrkdwn around it (its mentions, `<url|label>` links) goes through `bot_mrkdwn()`,
which only neutralises pings. docs/safety.md has the rules.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.tickets.root_causes import select_element as root_cause_select
from bot.triage import escape_mrkdwn, neutralize_mentions, neutralize_pings
from models.tables import CATEGORIES, SEVERITIES, Ticket
from models.types import utcnow

SEVERITY_EMOJI = {"critical": ":red_circle:", "high": ":large_orange_circle:", "medium": ":large_yellow_circle:", "low": ":white_circle:"}
CATEGORY_LABEL = {
    "bug": "Bug", "performance": "Performance", "usability": "Usability", "integration": "Integration",
    "data": "Data", "documentation": "Documentation", "feature_request": "Feature request", "question": "Question",
}
DETAIL_LABEL = {"steps": "steps to reproduce", "expected": "expected behaviour", "actual": "actual behaviour", "environment": "environment"}
MAX_TEXT = 2900  # Slack allows 3,000 characters in a section's text
CLOSED_QUIETLY = ("wont_fix", "closed", "duplicate")
# Buttons of the card and App Home (handlers/actions.py) and the resolve modal (handlers/views.py).
RESOLVE, REOPEN, CLOSE, RESOLVE_VIEW = "resolve_ticket", "reopen_ticket", "close_ticket", "hc_resolve"


# A bare channel reference (the bot's own history notes say "in <#C123>") pings nobody and names a
# real channel: it may stay a link. Typed "<#C123|general>" is "#general" by then (slack_to_text).
_CHANNEL_REF = re.compile(r"&lt;#(C[A-Z0-9]{2,})&gt;")
_CUT_ENTITY = re.compile(r"&[a-z]{0,3}$")


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return _CUT_ENTITY.sub("", text[: limit - 1]) + "…"  # never half an "&lt;"


def safe(text: str | None, *, limit: int = MAX_TEXT) -> str:
    """User-typed, readable text made safe to put into the bot's mrkdwn: pings neutralised, then
    `&`, `<`, `>` escaped, so `<https://evil.example|Reset your password>` shows as typed, never as
    a link with the bot's authority. A real link the user made was turned into "label (URL)" by
    slack_to_text, so its URL stays visible. Not for text holding the bot's own markup: bot_mrkdwn."""
    cleaned = escape_mrkdwn(neutralize_pings(text or ""))
    if "&lt;#C" in cleaned:
        cleaned = _CHANNEL_REF.sub(r"<#\1>", cleaned)
    return _clip(cleaned, limit)


def bot_mrkdwn(text: str | None, *, limit: int = MAX_TEXT) -> str:
    """The bot's own mrkdwn (its mentions, `<url|label>` links), whose user-typed parts already went
    through safe(): only pings are neutralised (a fallback `text` must not ping either).
    Its @-mentions of people are neutralised too: the bot's mentions go in blocks, not via this."""
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


def ticket_card(ticket: Ticket, *, with_actions: bool = True, now: datetime | None = None, tracker: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The card the bot keeps current in the report's thread (and shows for `/hc show`).

    `tracker` (bot.trackers.card.badge): a line saying where the ticket is tracked, and/or a
    (action_id, label) button that sends it there."""
    tracker = tracker or {}
    if ticket.status in CLOSED_QUIETLY and with_actions:
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
    if ticket.missing and ticket.status != "resolved":
        lines.append("Missing: " + ", ".join(DETAIL_LABEL.get(m, m) for m in ticket.missing))
    if len(ticket.affected_users) > 1:
        lines.append(f"{len(ticket.affected_users)} people affected")
    if ticket.duplicate_of:
        lines.append(f"Duplicate of {ticket.duplicate_of}")
    if ticket.status == "resolved" and ticket.resolution:
        lines.append(f"Resolved: {safe(ticket.resolution, limit=500)}")
    if tracker.get("line"):
        lines.append(str(tracker["line"]))
    if ticket.permalink:
        lines.append(f"<{ticket.permalink}|View the report>")
    blocks: list[dict[str, Any]] = [{"type": "section", "block_id": "card", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    if with_actions and ticket.status == "resolved":
        # Resolved is not closed: the one thing left to do from the card is to reopen it.
        blocks.append({"type": "actions", "block_id": f"card_actions:{ticket.key}", "elements": [button(REOPEN, "Reopen", ticket.key)]})
    elif with_actions:
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
                button(RESOLVE, "Resolve…", ticket.key, style="primary"),
                {"type": "button", "action_id": "not_an_issue", "text": {"type": "plain_text", "text": "Not an issue"}, "value": ticket.key},
                *([button(tracker["button"][0], tracker["button"][1], ticket.key)] if tracker.get("button") else []),
            ],
        })
    return blocks


def card_text(ticket: Ticket) -> str:
    """The notification/fallback text for the card (what shows in notifications and screen readers)."""
    return safe(f"{ticket.key}: {ticket.title} ({ticket_summary(ticket)})", limit=300)


def not_a_member_text(channel: str, *, to: str = "post tickets there") -> str:
    """What to say when the bot is not in a channel it was asked to post in: plainly, and how to fix it."""
    return f"I'm not a member of <#{channel}>, so I can't {to}. Invite me first: type `/invite @Hypercare` in <#{channel}>, then try again."


def ephemeral(text: str, *, usage: str | None = None) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": bot_mrkdwn(text)}}]
    if usage:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Usage: `{bot_mrkdwn(usage, limit=500)}`"}]})
    return {"response_type": "ephemeral", "text": bot_mrkdwn(text), "blocks": blocks}


def button(action_id: str, label: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": label}, "value": value}
    if style:
        button["style"] = style
    return button


def _mention(user: str | None, *, none: str) -> str:
    return f"<@{user}>" if user else none


def ticket_line(ticket: Ticket, *, now: datetime | None = None) -> str:
    """One ticket on one line, for lists, search results and the App Home."""
    key = f"<{ticket.permalink}|{ticket.key}>" if ticket.permalink else ticket.key
    return (
        f"{SEVERITY_EMOJI.get(ticket.severity, '')} *{key}* {safe(ticket.title, limit=120)}\n"
        f"{ticket.severity} · {ticket.status} · {_mention(ticket.assignee, none='unassigned')} · {age(ticket.created_at, now=now)} old"
    )


def ticket_list(heading: str, tickets: list[Ticket], *, total: int, now: datetime | None = None, more: str = "", empty: str = "Nothing here.") -> list[dict[str, Any]]:
    """An ephemeral list: a heading, one section per ticket, and how many were left out."""
    out: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": heading}}]
    if not tickets:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": empty}]})
    out += [{"type": "section", "text": {"type": "mrkdwn", "text": ticket_line(t, now=now)}} for t in tickets]
    if total > len(tickets):
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {total - len(tickets)} more. {more}".strip()}]})
    return out


def ticket_detail(ticket: Ticket, *, history: list[str], now: datetime | None = None, tracker: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`/hc show`: the card, what was reported, the latest history (lines already made safe), and
    the card's controls."""
    out = ticket_card(ticket, with_actions=False, now=now, tracker=tracker)
    if ticket.description:
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": ">" + safe(ticket.description, limit=1500).replace("\n", "\n>")}})
    if ticket.resolution and ticket.status != "resolved":
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Resolution: {safe(ticket.resolution, limit=500)}"}]})
    if history:
        # The caller made each line safe (user text through safe(), actors as real mentions).
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "\n".join(history)[:MAX_TEXT]}]})
    actions = ticket_card(ticket, with_actions=True, now=now, tracker=tracker)
    if len(actions) > 1:
        out.append(actions[-1])
    return out


def error_reply(exc: Exception) -> dict[str, Any]:
    """A refusal or bad-input answer: what was wrong, the right usage, and for a permission refusal
    who can do it (ids from the configuration and the database, never from what was typed)."""
    reply = ephemeral(str(exc), usage=getattr(exc, "usage", None))
    who: tuple[str, ...] = getattr(exc, "who", ())
    group: str | None = getattr(exc, "usergroup", None)
    names = [f"<@{u}>" for u in who[:8]] + ([f"…and {len(who) - 8} more"] if len(who) > 8 else [])
    if group:
        names.append(f"members of <!subteam^{group}>")
    if names:
        reply["blocks"].insert(1, {"type": "context", "elements": [{"type": "mrkdwn", "text": "Who can: " + ", ".join(names)}]})
    return reply


def resolve_modal(ticket: Ticket, *, private_metadata: str) -> dict[str, Any]:
    """Asks for the resolution note; submitting it resolves the ticket (handlers/views.py)."""
    return {
        "type": "modal", "callback_id": RESOLVE_VIEW, "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": f"Resolve {ticket.key}"},
        "submit": {"type": "plain_text", "text": "Resolve"}, "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{ticket.key}* {safe(ticket.title, limit=200)}"}},
            {"type": "input", "block_id": "note", "label": {"type": "plain_text", "text": "Resolution note"},
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 2000,
                         "placeholder": {"type": "plain_text", "text": "What was wrong and what fixed it"}}},
            {"type": "input", "block_id": "cause", "optional": True, "label": {"type": "plain_text", "text": "Root cause"},
             "element": root_cause_select()},
        ],
    }
