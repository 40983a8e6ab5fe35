"""`/hc push` and `/hc tracker` (issue 15): thin parsing around bot.trackers."""
from __future__ import annotations

from sqlmodel import Session

from bot.tickets import blocks
from bot.commands.args import ticket_arg
from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.errors import UserInputError
from bot.tickets.permissions import require_triager
from bot.trackers import service
from bot.trackers.config import NAMES, channel_config, configured, default_target, parse_auto, parse_target, target_for
from models.tracker_tables import TrackerChannel
from models.types import utcnow

subcommands = SubcommandTable()  # collected explicitly by handlers/commands.py

USAGE: dict[str, str] = {
    "push": "/hc push HC-12 [github owner/repo|jira KEY|linear KEY]",
    "tracker": "/hc tracker [github owner/repo|jira KEY|linear KEY|auto critical,high|all|off|comments on|off]",
}


def _say(text: str) -> Reply:
    return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


@subcommands.add("push", USAGE["push"], triage_only=True)
def _push(session: Session, command: CommandInput, args: list[str]) -> Reply:
    require_triager(command.team(session), user=command.user, action="send tickets to the tracker")
    if not args:
        raise UserInputError("Say which ticket to send.", usage=USAGE["push"])
    ticket = ticket_arg(session, command, args[0], usage=USAGE["push"])
    if args[1:]:
        target = parse_target(command.settings, args[1:], usage=USAGE["push"])
    else:
        found = target_for(session, command.settings, team_id=command.team_id, channel=ticket.channel)
        if found is None:
            raise UserInputError(_nowhere(command), usage=USAGE["push"])
        target = found
    service.push(session, ticket, settings=command.settings, target=target, actor=command.user)
    return _say(f"Sending {ticket.key} to {blocks.safe(target.label, limit=200)}. I'll post the link in its thread.")


def _nowhere(command: CommandInput) -> str:
    if not configured(command.settings):
        return "No tracker is connected yet. An admin sets HYPERCARE_GITHUB_TOKEN (or Jira / Linear settings) and restarts Hypercare; see docs/trackers.md."
    return "This channel has no tracker target and none is configured by default. Name one, or set it with `/hc tracker github owner/repo`."


@subcommands.add("tracker", USAGE["tracker"], triage_only=True)
def _tracker(session: Session, command: CommandInput, args: list[str]) -> Reply:
    setting = channel_config(session, team_id=command.team_id, channel=command.channel)
    if not args:
        return _say(_describe(session, command, setting))
    require_triager(command.team(session), user=command.user, action="change where this channel's tickets go")
    setting = setting or TrackerChannel(team_id=command.team_id, channel=command.channel)
    word = args[0].lower()
    if word == "auto":
        if len(args) != 2:
            raise UserInputError("Say which severities go automatically: e.g. `critical,high`, `all` or `off`.", usage=USAGE["tracker"])
        auto = parse_auto(args[1], usage=USAGE["tracker"])
        if auto != setting.auto:  # tickets filed before this are not swept up
            setting.auto, setting.auto_since = auto, utcnow()
        if setting.auto and target_for(session, command.settings, team_id=command.team_id, channel=command.channel) is None and not setting.target:
            raise UserInputError(_nowhere(command), usage=USAGE["tracker"])
        said = "off: nothing is sent automatically" if not setting.auto else f"on for *{setting.auto.replace(',', ', ')}* tickets filed from now on"
    elif word == "comments":
        if len(args) != 2 or args[1].lower() not in ("on", "off"):
            raise UserInputError("Say `on` or `off`.", usage=USAGE["tracker"])
        setting.comments = args[1].lower() == "on"
        said = "on: tracker comments come into the ticket's thread" if setting.comments else "off: tracker comments stay in the tracker"
        said = f"Comments from the tracker are {said}"
    else:
        target = parse_target(command.settings, args, usage=USAGE["tracker"])
        setting.tracker, setting.target = target.tracker, target.target
        said = f"tickets go to *{blocks.safe(target.label, limit=200)}*"
    setting.updated_by, setting.updated_at = command.user, utcnow()
    session.add(setting)
    if word == "auto":
        said = f"Automatic sending is {said}"
    elif word != "comments":
        said = f"From <#{command.channel}>, {said}"
    return _say(f"{said}.")


def _describe(session: Session, command: CommandInput, setting: TrackerChannel | None) -> str:
    connected = configured(command.settings)
    if not connected:
        return _nowhere(command)
    target = target_for(session, command.settings, team_id=command.team_id, channel=command.channel)
    default = default_target(command.settings)
    lines = [f"*Trackers connected:* {', '.join(NAMES[t] for t in connected)}"]
    if target is None:
        lines.append("This channel's tickets go *nowhere yet*: set a target with `/hc tracker github owner/repo` (or `jira KEY`, `linear KEY`).")
    else:
        own = setting is not None and setting.target
        lines.append(f"Tickets from <#{command.channel}> go to *{blocks.safe(target.label, limit=200)}*" + ("" if own or default is None else " (the default)"))
    auto = setting.auto if setting else ""
    lines.append(f"Automatic sending: *{auto.replace(',', ', ') if auto else 'off'}* · tracker comments in the thread: *{'on' if setting and setting.comments else 'off'}*")
    lines.append(f"Send one: `/hc push HC-12` or the card's *Send to* button. Change: `{USAGE['tracker']}`")
    return "\n".join(lines)
