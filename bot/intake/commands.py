"""`/hc new` and `/hc capture`: filing a report by command, and how a channel's messages are captured."""
from __future__ import annotations

from sqlmodel import Session

from bot.intake import service as intake
from bot.tickets import blocks
from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.errors import UserInputError
from bot.intake.modals import new_ticket_modal
from bot.tickets.permissions import require_triager
from models import queries
from models.types import utcnow

subcommands = SubcommandTable()
USAGE = {
    "new": "/hc new <what went wrong>",
    "capture": "/hc capture auto|confirm|off",
}


@subcommands.add("new", USAGE["new"])
def _new(session: Session, command: CommandInput, args: list[str]) -> Reply:
    text = command.text.strip()[len("new"):].strip()
    if not text:
        return Reply(text="Opening the new-ticket form…", open_view=new_ticket_modal(channel=command.channel))
    earlier = intake.earlier_same_text(session, team_id=command.team_id, channel=command.channel, user=command.user, text=text)
    if earlier is not None:
        return Reply(text=f"Already filed as {earlier.key}: {blocks.safe(earlier.title, limit=200)} (you sent this a moment ago; it is filed once).",
                     blocks=blocks.ticket_card(earlier, with_actions=False))
    ticket = intake.file_text(session, team_id=command.team_id, channel=command.channel, user=command.user, text=text)
    return Reply(text=f"Filed {ticket.key}: {blocks.safe(ticket.title, limit=200)}", blocks=blocks.ticket_card(ticket, with_actions=False))


@subcommands.add("capture", USAGE["capture"], triage_only=True)
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
