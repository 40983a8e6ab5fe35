"""Follow-up questions: the "Add details" button and its modal (`/hc ask` lives in bot.followups.commands)."""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.web import WebClient

from bot.followups import questions as followups
from bot.tickets import blocks
from bot.errors import UserInputError
from bot.intake.modals import submitted_values
from bot.tickets.service import get_ticket
from handlers.context import db, team_of
from handlers.later import later, open_view_later


def register(app: App) -> None:
    app.action(followups.ADD_DETAILS_ACTION)(on_add_details)
    app.view(followups.DETAILS_VIEW)(on_details_submitted)


def on_add_details(ack: Ack, body: dict[str, Any], context: Any, client: WebClient, respond: Respond) -> None:
    ack()
    try:
        ticket = get_ticket(db(context), team_id=team_of(body), key=str(body["actions"][0].get("value", "")))
    except UserInputError as exc:
        answer = blocks.ephemeral(str(exc))
        later(context, lambda: respond(**answer, replace_original=False))
        return
    if ticket.status in followups.CLOSED or not followups.pending_details(ticket):
        answer = blocks.ephemeral(f"{ticket.key} doesn't need any more details. Thank you!")
        later(context, lambda: respond(**answer, replace_original=False))
        return
    # A modal must open within 3 s of the click: a direct call right after the ack, not the outbox.
    open_view_later(context, client=client, trigger_id=body["trigger_id"], view=followups.details_view(ticket),
                    response_url=body.get("response_url"), retry=f"Please click “Add details” on {ticket.key} again.")


def on_details_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
    session = db(context)
    values = submitted_values(view)
    try:
        ticket = get_ticket(session, team_id=team_of(body), key=view.get("private_metadata") or "")
        followups.fill_from_form(session, ticket=ticket, actor=body["user"]["id"], values=values)
    except UserInputError as exc:
        session.rollback()  # nothing changes; the reason shows in the form, next to its first field
        first = next(iter(values), None)
        ack(response_action="errors", errors={first: str(exc)}) if first else ack()
        return
    ack()
