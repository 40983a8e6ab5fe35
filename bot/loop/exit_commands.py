"""`/hc exit` and `/hc exit set …`: the hypercare's exit criteria (bot.loop.exit_criteria)."""
from __future__ import annotations

from sqlmodel import Session

from bot.loop import exit_criteria
from bot.tickets import blocks
from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.tickets.permissions import require_triager
from models.types import utcnow

subcommands = SubcommandTable()  # collected explicitly by handlers/commands.py

USAGE = {"exit": "/hc exit [set <criterion>; <criterion>; …]"}


@subcommands.add("exit", USAGE["exit"])
def _exit(session: Session, command: CommandInput, args: list[str]) -> Reply:
    if args and args[0].lower() == "set":
        require_triager(command.team(session), user=command.user, action="set the exit criteria")
        typed = command.text.strip()[len("exit"):].strip()[len("set"):].strip()
        exit_criteria.set_criteria(session, team_id=command.team_id, user=command.user, text=typed)
        session.flush()
    found = exit_criteria.results(session, team_id=command.team_id, settings=command.settings, now=utcnow())
    if found is None:
        text = f"No exit criteria are set. For example: `{exit_criteria.USAGE}`"
        return Reply(text=text)
    met = sum(r.met for r in found)
    text = f"*Hypercare exit criteria* — {met} of {len(found)} met\n" + "\n".join(r.line() for r in found)
    if args and args[0].lower() == "set":
        text = "Saved. " + text
        if exit_criteria.announce_if_met(session, team_id=command.team_id, settings=command.settings, now=utcnow()):
            text += "\nAll met: I've told the triage channel."
    return Reply(text=blocks.bot_mrkdwn(text), blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": blocks.bot_mrkdwn(text)}}])
