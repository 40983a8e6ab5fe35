"""Other Events API events: the :ticket: reaction."""
from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk.web import WebClient

from bot import intake
from handlers.context import db, team_of
from handlers.messages import report_from_event


def register(app: App) -> None:
    app.event("reaction_added")(on_reaction_added)


def on_reaction_added(event: dict[str, Any], body: dict[str, Any], context: Any, client: WebClient) -> None:
    if event.get("reaction") != intake.TICKET_REACTION or (event.get("item") or {}).get("type") != "message":
        return
    if event.get("user") == context.get("bot_user_id"):
        return  # our own acknowledgement reaction
    item = event["item"]
    channel, ts = item["channel"], item["ts"]
    answer = client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
    messages = answer.get("messages") or []
    if not messages or messages[0].get("ts") != ts:
        # Not a top-level message: a thread reply is found through conversations.replies.
        answer = client.conversations_replies(channel=channel, ts=ts, latest=ts, oldest=ts, inclusive=True, limit=1)
        messages = [m for m in answer.get("messages") or [] if m.get("ts") == ts]
    if not messages:
        return
    report = report_from_event(messages[0], team_id=team_of(body), channel=channel)
    intake.file_report(db(context), report=report, source="reaction", actor=event.get("user"), force=True)
