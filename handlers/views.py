"""Modal submissions: the new-ticket form."""
from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.web import WebClient

from bot import intake
from bot.modals import NEW_TICKET, submitted_values, validate_new_ticket
from handlers.context import db, team_of


def register(app: App) -> None:
    app.view(NEW_TICKET)(on_new_ticket)


def on_new_ticket(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any, client: WebClient) -> None:
    values = submitted_values(view)
    errors = validate_new_ticket(values)
    if errors:
        ack(response_action="errors", errors=errors)  # shown in the modal, next to each field
        return
    meta = json.loads(view.get("private_metadata") or "{}")
    user = body["user"]["id"]
    permalink = None
    if meta.get("message_ts"):
        permalink = client.chat_getPermalink(channel=meta["channel"], message_ts=meta["message_ts"]).get("permalink")
    form = intake.Form(
        team_id=team_of(body), user=user, channel=meta.get("channel", ""), title=values.get("title") or "",
        description=values.get("description") or "", category=values.get("category") or "bug",
        severity=values.get("severity") or "medium", message_ts=meta.get("message_ts"), reporter=meta.get("reporter"),
        permalink=permalink, fields={name: values.get(name) for name in ("steps", "expected", "actual", "environment")},
    )
    intake.file_form(db(context), form=form)
    ack()
