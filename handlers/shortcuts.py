"""The message shortcut "Create ticket": a modal prefilled from the message."""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.web import WebClient

from bot.errors import UserInputError
from bot.intake.modals import new_ticket_modal, notice_modal
from bot.runtime.manifest import SHORTCUT_CALLBACK
from bot.tickets import blocks
from bot.triage import triage
from handlers.membership import Membership


def register(app: App) -> None:
    membership = Membership(app.client)

    def on_create_ticket(ack: Ack, shortcut: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        channel = (shortcut.get("channel") or {}).get("id", "")
        message = shortcut.get("message") or {}
        try:
            membership.require(channel)
        except UserInputError as exc:
            if shortcut.get("response_url"):
                respond(**blocks.ephemeral(str(exc)))
            else:  # no response_url to answer through: say it in a modal, which needs no channel
                client.views_open(trigger_id=shortcut["trigger_id"], view=notice_modal(str(exc)))
            return
        result = triage(text=message.get("text", ""))
        view = new_ticket_modal(
            channel=channel, title=result.title, description=result.description, category=result.category,
            severity=result.severity, fields=dict(result.fields), message_ts=message.get("ts"), reporter=message.get("user"),
        )
        client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    app.shortcut(SHORTCUT_CALLBACK)(on_create_ticket)
