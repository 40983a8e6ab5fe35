"""`/hc <subcommand>`: parsing and dispatch to the domain. Answers are Reply objects the handler sends."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot import blocks, intake
from bot.errors import UserInputError
from bot.permissions import TriageTeam, load_team, require_triager
from bot.settings import Settings
from models import queries
from models.types import utcnow

USAGE = {
    "help": "/hc help",
    "new": "/hc new <what went wrong>",
}


@dataclass(frozen=True)
class CommandInput:
    team_id: str
    channel: str
    user: str
    text: str
    trigger_id: str | None = None
    # Resolved by the Slack adapter (handlers.directory), so the domain never calls Slack:
    settings: Settings = field(default_factory=Settings)
    usergroup_members: frozenset[str] = frozenset()  # members of HYPERCARE_TRIAGE_USERGROUP
    find_user: Callable[[str], str | None] | None = None  # a bare @name → user id
    is_member: Callable[[str], bool] | None = None  # is the bot in this channel? (None: not asked)

    def team(self, session: Session) -> TriageTeam:
        return load_team(session, team_id=self.team_id, settings=self.settings, usergroup_members=self.usergroup_members)

    def require_member(self, channel: str, *, to: str) -> None:
        """Refuse, saying how to invite the bot, when it is not in `channel` (where it is to post)."""
        if self.is_member is not None and not self.is_member(channel):
            raise UserInputError(blocks.not_a_member_text(channel, to=to))


@dataclass
class Reply:
    """What the bot answers: an ephemeral message, optionally a modal to open with the trigger_id."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    response_type: str = "ephemeral"
    open_view: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"response_type": self.response_type, "text": blocks.bot_mrkdwn(self.text)}
        if self.blocks is not None:
            body["blocks"] = self.blocks
        return body


Handler = Callable[[Session, CommandInput, list[str]], Reply]
_SUBCOMMANDS: dict[str, Handler] = {}


def subcommand(name: str, usage: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _SUBCOMMANDS[name] = func
        USAGE.setdefault(name, usage)
        return func

    return register


def run(session: Session, command: CommandInput) -> Reply:
    words = command.text.strip().split()
    if not words:
        return help_reply()
    name, args = words[0].lower(), words[1:]
    handler = _SUBCOMMANDS.get(name)
    if handler is None:
        raise UserInputError(f"I don't know the subcommand “{words[0]}”. Try `/hc help` for the list.", usage="/hc help")
    return handler(session, command, args)


# Subcommands only the triage team may use (bot.permissions); help lists them apart.
TRIAGE_ONLY = {"assign", "severity", "status", "resolve", "reopen", "close", "dup", "capture", "triagers"}


def help_reply() -> Reply:
    lines = ["*Hypercare* turns reports in this channel into tickets. Commands:"]
    lines += [f"• `{USAGE[name]}`" for name in sorted(USAGE) if name not in TRIAGE_ONLY]
    lines.append("*For the triage team* (a reporter may also close their own ticket):")
    lines += [f"• `{USAGE[name]}`" for name in sorted(USAGE) if name in TRIAGE_ONLY]
    lines.append("Tickets: `HC-12`, `hc-12` or `12`. People: `@name` or `me`.")
    text = "\n".join(lines)
    return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


@subcommand("help", USAGE["help"])
def _help(session: Session, command: CommandInput, args: list[str]) -> Reply:
    return help_reply()


@subcommand("new", USAGE["new"])
def _new(session: Session, command: CommandInput, args: list[str]) -> Reply:
    text = command.text.strip()[len("new"):].strip()
    if not text:
        from bot.modals import new_ticket_modal

        return Reply(text="Opening the new-ticket form…", open_view=new_ticket_modal(channel=command.channel))
    ticket = intake.file_text(session, team_id=command.team_id, channel=command.channel, user=command.user, text=text)
    return Reply(text=f"Filed {ticket.key}: {blocks.safe(ticket.title, limit=200)}", blocks=blocks.ticket_card(ticket, with_actions=False))


@subcommand("capture", "/hc capture auto|confirm|off")
def _capture(session: Session, command: CommandInput, args: list[str]) -> Reply:
    modes = {"auto": "I'll file every report in this channel as a ticket.",
             "confirm": "I'll ask the author before filing a report from this channel.",
             "off": "I won't file tickets from messages here; /hc new, the shortcut and :ticket: still work."}
    if len(args) != 1 or args[0].lower() not in modes:
        current = queries.channel_setting(session, team_id=command.team_id, channel=command.channel).capture
        raise UserInputError(f"Capture in this channel is `{current}`. Say which mode you want.", usage=USAGE["capture"])
    require_triager(command.team(session), user=command.user, action="change how this channel is captured")
    mode = args[0].lower()
    setting = queries.channel_setting(session, team_id=command.team_id, channel=command.channel)
    setting.capture, setting.updated_by, setting.updated_at = mode, command.user, utcnow()
    session.add(setting)
    return Reply(text=f"Capture is now `{mode}` in <#{command.channel}>. {modes[mode]}")


def _import_subcommand_modules() -> None:
    """Every `bot/commands_*.py` registers its subcommands with @subcommand when imported."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("commands_*.py")):
        importlib.import_module(f"bot.{path.stem}")


_import_subcommand_modules()
