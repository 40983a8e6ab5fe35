"""The `/hc` slash command: answered from the database and caches; Slack is asked after the ack."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.web import WebClient

from bot import blocks
from bot.commands import CommandInput, run
import bot.digest_commands  # noqa: F401  (registers `/hc digest`)
from bot.errors import UserInputError
from models.db import session_scope
from handlers.context import db
from handlers.directory import Directory, directory_of, settings_of
from handlers.later import later, open_view_later, say
from handlers.membership import Asked, Membership, membership_of

# Subcommands that post into the channel they were typed in need the bot to be a member there.
POSTS_IN_CHANNEL = frozenset({"new", "capture"})


def register(app: App) -> None:
    membership = membership_of(app)
    directory = directory_of(app)
    settings = settings_of(app)

    def on_hc(ack: Ack, command: dict[str, Any], context: Any, client: WebClient) -> None:
        session = db(context)
        asked = Asked(membership)
        unknown_names: list[str] = []

        def find_user(name: str) -> str | None:
            found = directory.find_user(name)
            if found is None:
                unknown_names.append(name)
            return found

        request = CommandInput(
            team_id=command.get("team_id", ""), channel=command.get("channel_id", ""), user=command.get("user_id", ""),
            text=command.get("text", ""), trigger_id=command.get("trigger_id"),
            settings=settings, usergroup_members=directory.usergroup_members(), find_user=find_user,
            is_member=asked.is_member,
        )
        response_url = command.get("response_url")
        try:
            if request.text.strip().split(" ", 1)[0].lower() in POSTS_IN_CHANNEL and not asked.is_member(request.channel):
                raise UserInputError(blocks.not_a_member_text(request.channel))
            reply = run(session, request)
        except UserInputError as exc:
            session.rollback()  # nothing a refused command started may stick
            if unknown_names and response_url and directory.could_learn():
                # A name the cached people list does not know: ask Slack after the ack, then answer.
                ack(**blocks.ephemeral(f"Looking up {', '.join(unknown_names)}… I'll answer here in a moment."))
                engine = session.get_bind()
                later(context, lambda: _run_again(engine, request, directory, response_url))
                return
            ack(**blocks.error_reply(exc))
            return
        if reply.open_view is not None and request.trigger_id:
            ack()  # the modal is the answer; it opens right after this acknowledgement
            open_view_later(context, client=client, trigger_id=request.trigger_id, view=reply.open_view,
                            response_url=response_url, retry=f"Please run `/hc {request.text.strip()}` again.")
        else:
            ack(**reply.payload())
        for channel in asked.guessed:  # answered as if the bot were there: check, and correct if not
            later(context, lambda channel=channel: _correct_membership(membership, channel, response_url))

    app.command("/hc")(on_hc)


def _run_again(engine: Any, request: CommandInput, directory: Directory, response_url: str) -> None:
    """After the ack: read the people list again, run the command in a new transaction, answer by response_url."""
    directory.refresh_users()
    try:
        with session_scope(engine) as session:
            reply = run(session, replace(request, find_user=directory.find_user))
        answer = reply.payload()
    except UserInputError as exc:
        answer = blocks.error_reply(exc)
    say(response_url, answer["text"], **{k: v for k, v in answer.items() if k != "text"})


def _correct_membership(membership: Membership, channel: str, response_url: str | None) -> None:
    if membership.check(channel):
        return
    say(response_url, blocks.not_a_member_text(channel, to="post there") + " What I answered above is saved; "
        "once I'm invited, send the same command again and I'll post it.")
