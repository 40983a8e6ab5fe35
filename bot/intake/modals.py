"""Modal views (Block Kit) and reading their submitted values."""
from __future__ import annotations

import json
from typing import Any

from bot.tickets.blocks import CATEGORY_LABEL, bot_mrkdwn
from models.tables import CATEGORIES, SEVERITIES

NEW_TICKET = "hc_new_ticket"


def _input(block_id: str, label: str, *, initial: str | None, multiline: bool, optional: bool, max_length: int) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    return {"type": "input", "block_id": block_id, "optional": optional, "label": {"type": "plain_text", "text": label}, "element": element}


def _select(block_id: str, label: str, options: list[tuple[str, str]], initial: str) -> dict[str, Any]:
    opts = [{"text": {"type": "plain_text", "text": text}, "value": value} for value, text in options]
    chosen = next(o for o in opts if o["value"] == initial)
    return {
        "type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
        "element": {"type": "static_select", "action_id": "value", "options": opts, "initial_option": chosen},
    }


def new_ticket_modal(
    *,
    channel: str,
    title: str = "",
    description: str = "",
    category: str = "bug",
    severity: str = "medium",
    fields: dict[str, str | None] | None = None,
    message_ts: str | None = None,
    reporter: str | None = None,
) -> dict[str, Any]:
    fields = fields or {}
    meta = json.dumps({"channel": channel, "message_ts": message_ts, "reporter": reporter})
    return {
        "type": "modal",
        "callback_id": NEW_TICKET,
        "private_metadata": meta,
        "title": {"type": "plain_text", "text": "New ticket"},
        "submit": {"type": "plain_text", "text": "File ticket"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input("title", "Title", initial=title, multiline=False, optional=False, max_length=120),
            _input("description", "What happened?", initial=description, multiline=True, optional=False, max_length=3000),
            _select("category", "Category", [(c, CATEGORY_LABEL[c]) for c in CATEGORIES], category),
            _select("severity", "Severity", [(s, s.capitalize()) for s in SEVERITIES], severity),
            _input("steps", "Steps to reproduce", initial=fields.get("steps"), multiline=True, optional=True, max_length=2000),
            _input("expected", "Expected behaviour", initial=fields.get("expected"), multiline=True, optional=True, max_length=1000),
            _input("actual", "Actual behaviour", initial=fields.get("actual"), multiline=True, optional=True, max_length=1000),
            _input("environment", "Environment (browser, device, version)", initial=fields.get("environment"), multiline=False, optional=True, max_length=300),
        ],
    }


def notice_modal(text: str) -> dict[str, Any]:
    """A modal that only says something (when there is no channel to say it in)."""
    return {
        "type": "modal", "title": {"type": "plain_text", "text": "Hypercare"}, "close": {"type": "plain_text", "text": "OK"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": bot_mrkdwn(text)}}],
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str | None]:
    """Flatten `view.state.values` to {block_id: value} for inputs and selects."""
    out: dict[str, str | None] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for action in actions.values():
            if action.get("type") == "static_select":
                out[block_id] = (action.get("selected_option") or {}).get("value")
            else:
                out[block_id] = action.get("value")
    return out


def validate_new_ticket(values: dict[str, str | None]) -> dict[str, str]:
    """Errors keyed by block_id, as Slack shows them in the modal; empty when the form is fine."""
    errors: dict[str, str] = {}
    title = (values.get("title") or "").strip()
    if not title:
        errors["title"] = "Please give the ticket a short title."
    elif len(title) > 120:
        errors["title"] = "Keep the title to 120 characters or fewer."
    if not (values.get("description") or "").strip():
        errors["description"] = "Please describe what happened."
    if values.get("category") not in CATEGORIES:
        errors["category"] = "Pick a category."
    if values.get("severity") not in SEVERITIES:
        errors["severity"] = "Pick a severity."
    return errors
