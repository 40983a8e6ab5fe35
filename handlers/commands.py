"""The `/hc` slash command: answered from the database and caches; Slack is asked after the ack."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.web import WebClient

from bot.dashboard import commands as commands_dashboard
from bot.digests import commands as digest_commands
from bot.followups import commands as followup_commands
from bot.intake import commands as commands_intake
from bot.loop import commands as commands_notify, exit_commands as commands_exit
from bot.report import commands as commands_report
from bot.tickets import blocks, query_commands as commands_queries, triage_commands as commands_triage
from bot.trackers import commands as commands_trackers
from bot.commands.router import CommandInput, Reply, Router
from bot.errors import PermissionDenied, UserInputError
from bot.runtime.settings import Settings
from handlers.context import db
from handlers.directory import Directory
from handlers.later import guarded, later, open_view_later, say
from handlers.membership import Asked, Membership
from models.db import session_scope

# Subcommands that post into the channel they were typed in need the bot to be a member there.
POSTS_IN_CHANNEL = frozenset({"new", "capture"})
# Every `/hc` subcommand, from the table of the domain it belongs to.
ROUTER = Router(
    commands_intake.subcommands, commands_queries.subcommands, commands_triage.subcommands,
    followup_commands.subcommands, digest_commands.subcommands, commands_notify.subcommands,
    commands_dashboard.subcommands, commands_exit.subcommands, commands_report.subcommands, commands_trackers.subcommands,
)


# A report is stored at once even where the bot's membership is not known yet (nothing typed may be
# lost): it is answered optimistically and corrected by response_url. Other commands that need a
# fact the caches lack are answered "one moment", then run again once Slack has told us.
STORES_AT_ONCE = frozenset({"new"})


class Lookups:
    """What one run of a command needed and the caches did not know."""

    def __init__(self, membership: Membership, directory: Directory) -> None:
        self.asked = Asked(membership)
        self._directory = directory
        self.names: list[str] = []

    def find_user(self, name: str) -> str | None:
        found = self._directory.find_user(name)
        if found is None:
            self.names.append(name)
        return found


def _execute(session: Any, request: CommandInput, lookups: Lookups) -> Reply:
    request = replace(request, find_user=lookups.find_user, is_member=lookups.asked.is_member)
    subcommand = _subcommand(request)
    member = subcommand not in POSTS_IN_CHANNEL or lookups.asked.is_member(request.channel)
    if not member and subcommand not in STORES_AT_ONCE:
        raise UserInputError(blocks.not_a_member_text(request.channel))
    reply = ROUTER.run(session, request)
    if not member and reply.open_view is None:  # stored all the same: say why its card may not appear
        reply = replace(reply, text=f"{reply.text}\n{_not_there(request.channel)}", blocks=None)
    return reply


def _not_there(channel: str) -> str:
    return (blocks.not_a_member_text(channel, to="post there") + " What I answered is saved; once I'm invited, "
            "send the same command again and I'll post it.")


def _subcommand(request: CommandInput) -> str:
    return request.text.strip().split(" ", 1)[0].lower()


def register(app: App, *, settings: Settings, directory: Directory, membership: Membership) -> None:
    """`membership`: the cache of the bot's channels, shared with the shortcut and the form (handlers/__init__)."""

    def on_hc(ack: Ack, command: dict[str, Any], context: Any, client: WebClient) -> None:
        session = db(context)
        request = CommandInput(
            team_id=command.get("team_id", ""), channel=command.get("channel_id", ""), user=command.get("user_id", ""),
            text=command.get("text", ""), trigger_id=command.get("trigger_id"),
            settings=settings, usergroup_members=directory.usergroup_members(),
        )
        response_url = command.get("response_url")
        lookups = Lookups(membership, directory)
        reply: Reply | None = None
        refusal: UserInputError | None = None
        try:
            reply = _execute(session, request, lookups)
        except UserInputError as exc:
            session.rollback()  # nothing a refused command started may stick
            refusal = exc
        names = lookups.names if lookups.names and directory.could_learn(lookups.names) else []
        stored = _subcommand(request) in STORES_AT_ONCE and reply is not None
        channels = [] if stored else lookups.asked.guessed + lookups.asked.doubted
        group = isinstance(refusal, PermissionDenied) and directory.group_unknown()  # they may be in it
        if (names or channels or group) and response_url:
            session.rollback()
            ack(**blocks.ephemeral("One moment, I'm checking with Slack… I'll answer here."))
            engine = session.get_bind()
            later(context, guarded(lambda: _run_again(engine, request, membership, directory, names, channels, group, response_url),
                                   response_url=response_url))
            return
        if reply is None:
            assert refusal is not None
            ack(**blocks.error_reply(refusal))
            return
        if reply.open_view is not None and request.trigger_id:
            ack()  # the modal is the answer; it opens right after this acknowledgement
            open_view_later(context, client=client, trigger_id=request.trigger_id, view=reply.open_view,
                            response_url=response_url, retry=f"Please run `/hc {blocks.safe(request.text.strip(), limit=200)}` again.")
            for channel in lookups.asked.guessed:  # known by the time the form is sent (handlers.views)
                membership.check_in_background(channel)
            return
        ack(**reply.payload())
        for channel in lookups.asked.guessed:  # stored optimistically: check, and correct if need be
            later(context, lambda channel=channel: _correct_membership(membership, channel, response_url))

    app.command("/hc")(on_hc)


def _run_again(engine: Any, request: CommandInput, membership: Membership, directory: Directory,
               names: list[str], channels: list[str], group: bool, response_url: str) -> None:
    """After the ack: ask Slack what the caches lacked, run the command in a new transaction, answer by response_url."""
    if names:
        directory.refresh_users()
    for channel in channels:
        membership.check(channel)
    if group:
        request = replace(request, usergroup_members=directory.refresh_group())
    lookups = Lookups(membership, directory)
    try:
        with session_scope(engine) as session:
            answer = _execute(session, request, lookups).payload()
    except UserInputError as exc:
        answer = blocks.error_reply(exc)
    directory.note_missing(lookups.names)
    say(response_url, answer["text"], **{k: v for k, v in answer.items() if k != "text"})


def _correct_membership(membership: Membership, channel: str, response_url: str | None) -> None:
    if not membership.check(channel):
        say(response_url, _not_there(channel))
