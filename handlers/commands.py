"""The `/hc` slash command."""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk.web import WebClient

from bot import (
    blocks, commands_dashboard, commands_exit, commands_intake, commands_notify, commands_queries, commands_report, commands_trackers, commands_triage,
    digest_commands, followup_commands,
)
from bot.commands import CommandInput, Router
from bot.errors import UserInputError
from handlers.context import db
from bot.settings import Settings
from handlers.directory import Directory
from handlers.membership import Membership

# Subcommands that post into the channel they were typed in need the bot to be a member there.
POSTS_IN_CHANNEL = frozenset({"new", "capture"})
# Every `/hc` subcommand, from the table of the domain it belongs to.
ROUTER = Router(
    commands_intake.subcommands, commands_queries.subcommands, commands_triage.subcommands,
    followup_commands.subcommands, digest_commands.subcommands, commands_notify.subcommands,
    commands_dashboard.subcommands, commands_exit.subcommands, commands_report.subcommands, commands_trackers.subcommands,
)


def register(app: App, *, settings: Settings, directory: Directory) -> None:
    membership = Membership(app.client)

    def on_hc(ack: Ack, command: dict[str, Any], context: Any, client: WebClient) -> None:
        session = db(context)
        request = CommandInput(
            team_id=command.get("team_id", ""), channel=command.get("channel_id", ""), user=command.get("user_id", ""),
            text=command.get("text", ""), trigger_id=command.get("trigger_id"),
            settings=settings, usergroup_members=directory.usergroup_members(), find_user=directory.find_user,
            is_member=membership.is_member,
        )
        try:
            if request.text.strip().split(" ", 1)[0].lower() in POSTS_IN_CHANNEL:
                membership.require(request.channel)
            reply = ROUTER.run(session, request)
        except UserInputError as exc:
            session.rollback()  # nothing a refused command started may stick
            ack(**blocks.error_reply(exc))
            return
        if reply.open_view is not None and request.trigger_id:
            # A modal must open within 3 s of the trigger, so this is a direct call, not the outbox.
            client.views_open(trigger_id=request.trigger_id, view=reply.open_view)
            ack()
            return
        ack(**reply.payload())

    app.command("/hc")(on_hc)
