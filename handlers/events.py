"""Other Events API events: the :ticket: reaction."""
from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk.web import WebClient

from bot import intake
from handlers.context import db, team_of
from handlers.messages import fetch_message, report_from_message, with_permalink


def register(app: App) -> None:
    app.event("reaction_added")(on_reaction_added)


def on_reaction_added(event: dict[str, Any], body: dict[str, Any], context: Any, client: WebClient) -> None:
    item = event.get("item") or {}
    if event.get("reaction") != intake.TICKET_REACTION or item.get("type") != "message":
        return
    if event.get("user") == context.get("bot_user_id"):
        return  # our own acknowledgement reaction
    message = fetch_message(client, channel=item["channel"], ts=item["ts"])
    if message is None or message.get("bot_id"):
        return
    # The reporter is the message's author, not whoever reacted.
    report = report_from_message(message, team_id=team_of(body), channel=item["channel"])
    intake.file_report(db(context), report=with_permalink(client, report), source="reaction", actor=event.get("user"))
