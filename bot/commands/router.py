"""`/hc <subcommand>`: the router. Each domain lists its subcommands in a SubcommandTable; the
Slack adapter (handlers/commands.py) builds one Router from those tables, explicitly."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot.tickets import blocks
from bot.errors import UserInputError
from bot.tickets.permissions import TriageTeam, load_team
from bot.runtime.settings import Settings

HELP_USAGE = "/hc help"


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


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    handler: Handler
    triage_only: bool = False  # only the triage team may use it (bot.tickets.permissions); help lists it apart


class SubcommandTable:
    """One domain's subcommands, filled by `@table.add(...)` on the functions of its own module."""

    def __init__(self) -> None:
        self.entries: dict[str, Subcommand] = {}

    def add(self, name: str, usage: str, *, triage_only: bool = False) -> Callable[[Handler], Handler]:
        def register(func: Handler) -> Handler:
            if name in self.entries:
                raise ValueError(f"/hc {name} is declared twice")
            self.entries[name] = Subcommand(name=name, usage=usage, handler=func, triage_only=triage_only)
            return func

        return register


class Router:
    """Every `/hc` subcommand of the tables it is given; `help` lists them."""

    def __init__(self, *tables: SubcommandTable) -> None:
        self.subcommands: dict[str, Subcommand] = {}
        for table in tables:
            for name, entry in table.entries.items():
                if name in self.subcommands or name == "help":
                    raise ValueError(f"/hc {name} is declared by two tables")
                self.subcommands[name] = entry

    def run(self, session: Session, command: CommandInput) -> Reply:
        words = command.text.strip().split()
        if not words or words[0].lower() == "help":
            return self.help_reply()
        name, args = words[0].lower(), words[1:]
        entry = self.subcommands.get(name)
        if entry is None:
            raise UserInputError(f"I don't know the subcommand “{words[0]}”. Try `/hc help` for the list.", usage=HELP_USAGE)
        return entry.handler(session, command, args)

    def help_reply(self) -> Reply:
        usage = {HELP_USAGE: False, **{entry.usage: entry.triage_only for entry in self.subcommands.values()}}
        ordered = sorted(usage, key=lambda line: line.split()[1] if len(line.split()) > 1 else line)
        lines = ["*Hypercare* turns reports in this channel into tickets. Commands:"]
        lines += [f"• `{line}`" for line in ordered if not usage[line]]
        lines.append("*For the triage team* (a reporter may also close their own ticket):")
        lines += [f"• `{line}`" for line in ordered if usage[line]]
        lines.append("Tickets: `HC-12`, `hc-12` or `12`. People: `@name` or `me`.")
        text = "\n".join(lines)
        return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
