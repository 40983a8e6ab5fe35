"""Closing the loop: the 👍/👎 buttons of a resolution DM and the 👎 reason modal (bot.loop.csat)."""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.web import WebClient

from bot.loop import csat
from bot.tickets import blocks
from bot.errors import UserInputError
from bot.intake.modals import submitted_values
from bot.tickets.permissions import load_team
from handlers.context import db, team_of
from bot.runtime.settings import Settings
from handlers.directory import Directory
from handlers.later import later, open_view_later


def register(app: App, *, settings: Settings, directory: Directory) -> None:

    def on_up(ack: Ack, body: dict[str, Any], context: Any, respond: Respond) -> None:
        ack()
        session = db(context)
        try:
            csat.rate_up(session, notice_id=_value(body), user=body["user"]["id"], where=_where(body))
        except UserInputError as exc:
            session.rollback()
            _tell(body, context, respond, exc)

    def on_down(ack: Ack, body: dict[str, Any], context: Any, client: WebClient, respond: Respond) -> None:
        """Ask why first: the rating is recorded, and the ticket reopened, when the reason is sent."""
        ack()
        try:
            notice, ticket = csat.notice_for(db(context), notice_id=_value(body), user=body["user"]["id"])
        except UserInputError as exc:
            _tell(body, context, respond, exc)
            return
        # A modal must open within 3 s of the click: a direct call right after the ack, not the outbox.
        open_view_later(context, client=client, trigger_id=body["trigger_id"], view=csat.reason_modal(notice, ticket, where=_where(body)),
                        response_url=body.get("response_url"), retry="Please click 👎 again.")

    def on_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
        session = db(context)
        notice_id, where = csat.read_reason_metadata(view.get("private_metadata") or "")
        team = load_team(session, team_id=team_of(body), settings=settings, usergroup_members=directory.usergroup_members())
        try:
            reason = submitted_values(view).get("reason") or ""
            csat.rate_down(session, notice_id=notice_id, user=body["user"]["id"], reason=reason, team=team, where=where)
        except UserInputError as exc:
            session.rollback()  # nothing changes; the reason shows in the modal, next to the field
            ack(response_action="errors", errors={"reason": blocks.bot_mrkdwn(str(exc), limit=200)})
            return
        ack()

    app.action(csat.RATE_UP)(on_up)
    app.action(csat.RATE_DOWN)(on_down)
    app.view(csat.REASON_VIEW)(on_reason)


def _value(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value", ""))


def _where(body: dict[str, Any]) -> csat.Where:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return csat.Where(channel=channel, ts=container.get("message_ts") or (body.get("message") or {}).get("ts"))


def _tell(body: dict[str, Any], context: Any, respond: Respond, exc: UserInputError) -> None:
    if body.get("response_url"):  # after the ack, like every message to Slack
        answer = blocks.error_reply(exc)
        later(context, lambda: respond(**answer, replace_original=False))
