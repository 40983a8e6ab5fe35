"""The message shortcut "Create ticket": a modal prefilled from the message, opened right after the ack."""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk.web import WebClient

from bot.runtime import log
from bot.tickets.blocks import not_a_member_text
from bot.runtime.manifest import SHORTCUT_CALLBACK
from bot.intake.modals import new_ticket_modal, notice_modal
from bot.triage import triage
from handlers.later import open_view_later, say_later
from handlers.membership import Membership

RETRY = "Please use “Create ticket” on the message again."


def register(app: App, *, membership: Membership) -> None:

    def on_create_ticket(ack: Ack, shortcut: dict[str, Any], client: WebClient, context: Any) -> None:
        ack()
        channel = (shortcut.get("channel") or {}).get("id", "")
        message = shortcut.get("message") or {}
        response_url = shortcut.get("response_url")
        trigger_id = shortcut["trigger_id"]
        known = membership.known(channel)
        if known is False:
            if response_url:
                say_later(context, response_url, not_a_member_text(channel))
            else:  # no response_url to answer through: say it in a modal, which needs no channel
                open_view_later(context, client=client, trigger_id=trigger_id, view=notice_modal(not_a_member_text(channel)), response_url=None, retry=RETRY)
            return
        result = triage(text=message.get("text", ""))
        view = new_ticket_modal(
            channel=channel, title=result.title, description=result.description, category=result.category,
            severity=result.severity, fields=dict(result.fields), message_ts=message.get("ts"), reporter=message.get("user"),
        )

        def correct(view_id: str) -> None:
            """The cache did not know the channel: the form opened optimistically; now ask Slack."""
            if known is None and view_id and not membership.check(channel):
                try:
                    client.views_update(view_id=view_id, view=notice_modal(not_a_member_text(channel)))
                except Exception as exc:  # noqa: BLE001 - the submission is refused anyway (handlers.views)
                    log.after_ack_failed("views.update", exc)

        open_view_later(context, client=client, trigger_id=trigger_id, view=view, response_url=response_url, retry=RETRY, then=correct)

    app.shortcut(SHORTCUT_CALLBACK)(on_create_ticket)
