"""`/hc notify off|on`: whether the bot may send you direct messages (anyone may set their own).

Thread replies are not affected: someone who turned DMs off still sees how their report ended in
its thread. Its SubcommandTable is collected by handlers/commands.py.
"""
from __future__ import annotations

from sqlmodel import Session

from bot.loop import notices as notify
from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.errors import UserInputError

subcommands = SubcommandTable()  # collected explicitly by handlers/commands.py

USAGE = {"notify": "/hc notify off|on"}
STATE = {
    True: "I send you a direct message when a ticket you reported is resolved, closed or merged into another.",
    False: "I don't send you direct messages. You still see what happens to your reports in their threads.",
}


@subcommands.add("notify", USAGE["notify"])
def _notify(session: Session, command: CommandInput, args: list[str]) -> Reply:
    current = notify.dms_enabled(session, team_id=command.team_id, user=command.user)
    if not args:
        return _reply(f"Direct messages are *{'on' if current else 'off'}* for you. {STATE[current]}")
    if len(args) != 1 or args[0].lower() not in ("on", "off"):
        raise UserInputError("Say `on` or `off`.", usage=USAGE["notify"])
    wanted = args[0].lower() == "on"
    if not notify.set_dms(session, team_id=command.team_id, user=command.user, enabled=wanted):
        return _reply(f"Direct messages were already *{args[0].lower()}* for you. {STATE[wanted]}")
    other = "off" if wanted else "on"
    return _reply(f"Done: direct messages are now *{args[0].lower()}* for you. {STATE[wanted]} (`/hc notify {other}` to change it back.)")


def _reply(text: str) -> Reply:
    return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
