"""Modal submissions: the new-ticket form, and the resolution note of the card's Resolve…."""
from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.web import WebClient

from bot.intake import service as intake
from bot.tickets import actions as ticket_actions, blocks, cards, home
from bot.errors import UserInputError
from bot.intake.modals import NEW_TICKET, submitted_values, validate_new_ticket
from bot.tickets.permissions import load_team, require_triager
from bot.tickets.service import get_ticket
from handlers.context import db, team_of
from bot.runtime.settings import Settings
from handlers.directory import Directory
from handlers.later import later
from handlers.membership import Membership
from models.db import session_scope
from models.tables import Ticket
from models.types import utcnow


def register(app: App, *, settings: Settings, directory: Directory, membership: Membership) -> None:
    def on_new(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any, client: WebClient) -> None:
        on_new_ticket(ack, body, view, context, client, membership)

    app.view(NEW_TICKET)(on_new)

    def on_resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
        """Resolve with the note; problems are shown in the modal, next to the note, and change nothing."""
        session = db(context)
        meta = json.loads(view.get("private_metadata") or "{}")
        user, team_id = body["user"]["id"], team_of(body)
        team = load_team(session, team_id=team_id, settings=settings, usergroup_members=directory.usergroup_members())
        try:
            require_triager(team, user=user, action="resolve tickets")
            ticket = get_ticket(session, team_id=team_id, key=str(meta.get("key", "")))
            values = submitted_values(view)
            ticket_actions.resolve(session, ticket, actor=user, note=values.get("note") or "", cause=values.get("cause") or None)
        except UserInputError as exc:
            session.rollback()
            ack(response_action="errors", errors={"note": blocks.bot_mrkdwn(str(exc), limit=200)})
            return
        if meta.get("home"):  # resolved from the App Home: show it gone from the queue
            view_ = home.home_view(session, team_id=team_id, user=user, is_triager=team.includes(user), settings=settings, now=utcnow())
            home.publish(session, team_id=team_id, user=user, view=view_)
        ack()

    app.view(blocks.RESOLVE_VIEW)(on_resolve)


def on_new_ticket(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any, client: WebClient, membership: Membership) -> None:
    values = submitted_values(view)
    errors = validate_new_ticket(values)
    meta = json.loads(view.get("private_metadata") or "{}")
    if not errors and membership.known(meta.get("channel", "")) is False:
        errors = {"title": blocks.bot_mrkdwn(blocks.not_a_member_text(meta.get("channel", "")), limit=200)}
    if errors:
        ack(response_action="errors", errors=errors)  # shown in the modal, next to each field
        return
    user = body["user"]["id"]
    form = intake.Form(
        team_id=team_of(body), user=user, channel=meta.get("channel", ""), title=values.get("title") or "",
        description=values.get("description") or "", category=values.get("category") or "bug",
        severity=values.get("severity") or "medium", message_ts=meta.get("message_ts"), reporter=meta.get("reporter"),
        permalink=None, fields={name: values.get(name) for name in ("steps", "expected", "actual", "environment")},
    )
    session = db(context)
    ticket = intake.file_form(session, form=form)
    ack()
    if meta.get("message_ts") and not ticket.permalink:  # asked of Slack after the ack, outside this transaction
        session.flush()
        ticket_id, engine = ticket.id, session.get_bind()
        later(context, lambda: _add_permalink(client, engine, ticket_id=ticket_id, channel=meta["channel"], ts=meta["message_ts"]))


def _add_permalink(client: WebClient, engine: Any, *, ticket_id: int | None, channel: str, ts: str) -> None:
    """After the ack: the report's link for the card (asked of Slack, then one short transaction)."""
    permalink = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    if not permalink or ticket_id is None:
        return
    with session_scope(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None and not ticket.permalink:
            ticket.permalink = str(permalink)
            session.add(ticket)
            cards.refresh_card(session, ticket)  # the card gets its "View the report" link
