"""What a person sees when a command or click fails unexpectedly: a polite ephemeral answer with an
error id that is also in the log — never a bare 500, which Slack shows as `dispatch_failed`."""
from __future__ import annotations

import uuid
from typing import Any

from bot.tickets.blocks import ephemeral
from bot.intake.modals import notice_modal


def new_error_id() -> str:
    return uuid.uuid4().hex[:10]


def apology_text(error_id: str) -> str:
    return (
        "Sorry, something went wrong on my side and nothing was changed. Please try again in a moment; "
        f"if it keeps happening, give the person who runs Hypercare this error id: `{error_id}`."
    )


def request_kind(body: dict[str, Any]) -> str:
    """command | block_actions | view_submission | message_action | shortcut | event_callback | …"""
    if body.get("command"):
        return "command"
    return str(body.get("type") or "unknown")


def ack_body(body: dict[str, Any], *, error_id: str) -> dict[str, Any] | None:
    """The acknowledgement that carries the apology, where Slack shows one (None: ack empty and
    answer through the request's response_url instead)."""
    kind = request_kind(body)
    if kind == "command":
        return ephemeral(apology_text(error_id))
    if kind == "view_submission":  # on top of the form, which keeps what the person typed
        return {"response_action": "push", "view": notice_modal(apology_text(error_id))}
    return None


def response_url_of(body: dict[str, Any]) -> str | None:
    if body.get("response_url"):
        return str(body["response_url"])
    urls = body.get("response_urls") or []
    return str(urls[0].get("response_url")) if urls and isinstance(urls[0], dict) and urls[0].get("response_url") else None
