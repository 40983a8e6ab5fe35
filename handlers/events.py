"""Other Events API events: the :ticket: reaction, and opening the App Home."""
from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk.web import WebClient

from bot.intake import service as intake
from bot.tickets import home
from bot.tickets.permissions import load_team
from handlers.context import db, team_of
from bot.runtime.settings import Settings
from handlers.directory import Directory
from handlers.messages import fetch_message, report_from_message, with_permalink
from models.types import utcnow


def register(app: App, *, settings: Settings, directory: Directory) -> None:
    app.event("reaction_added")(on_reaction_added)

    def on_app_home_opened(event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        """The Home tab shows the person's reports, and the queue to the triage team."""
        if event.get("tab", "home") != "home" or not event.get("user"):
            return  # the Messages tab: nothing to publish
        session = db(context)
        user, team_id = event["user"], team_of(body)
        team = load_team(session, team_id=team_id, settings=settings, usergroup_members=directory.usergroup_members())
        view = home.home_view(session, team_id=team_id, user=user, is_triager=team.includes(user), settings=settings, now=utcnow())
        home.publish(session, team_id=team_id, user=user, view=view)

    app.event("app_home_opened")(on_app_home_opened)


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
