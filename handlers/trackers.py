"""The ticket card's *Send to <tracker>* button (issue 15); `/hc push` is in bot/trackers/commands.py."""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.tickets import blocks
from bot.errors import UserInputError
from bot.tickets.permissions import load_team, require_triager
from bot.tickets.service import get_ticket
from bot.trackers import service
from bot.trackers.card import PUSH_ACTION
from bot.trackers.config import target_for
from handlers.context import db, team_of
from bot.runtime.settings import Settings
from handlers.directory import Directory


def register(app: App, *, settings: Settings, directory: Directory) -> None:

    def on_push(ack: Ack, body: dict[str, Any], context: Any, respond: Respond) -> None:
        ack()
        session = db(context)
        user = body["user"]["id"]
        try:
            team = load_team(session, team_id=team_of(body), settings=settings, usergroup_members=directory.usergroup_members())
            require_triager(team, user=user, action="send tickets to the tracker")
            ticket = get_ticket(session, team_id=team_of(body), key=str(body["actions"][0].get("value", "")))
            target = target_for(session, settings, team_id=ticket.team_id, channel=ticket.channel)
            if target is None:
                raise UserInputError("No tracker is set up for this channel. Set one with `/hc tracker github owner/repo`.")
            service.push(session, ticket, settings=settings, target=target, actor=user)
        except UserInputError as exc:
            session.rollback()  # a refusal changes nothing
            if body.get("response_url"):
                respond(**blocks.error_reply(exc), replace_original=False)

    app.action(PUSH_ACTION)(on_push)
