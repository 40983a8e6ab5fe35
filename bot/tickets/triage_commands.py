"""`/hc` subcommands that change tickets and the triage team (for the triage team; a reporter may
close their own ticket). Each checks permission first, then its arguments, then acts: a refusal or
a bad value changes nothing (the handler rolls the request's transaction back)."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.tickets import actions as ticket_actions, blocks
from bot.commands.args import NOBODY, rest, ticket_arg, user_arg
from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.errors import UserInputError
from bot.tickets.permissions import add_member, remove_member, require_triager, require_triager_or_reporter
from models.tables import Ticket

subcommands = SubcommandTable()  # collected explicitly by handlers/commands.py

USAGE: dict[str, str] = {
    "assign": "/hc assign HC-12 @user|me|nobody",
    "severity": "/hc severity HC-12 critical|high|medium|low",
    "status": "/hc status HC-12 new|needs_info|triaged|in_progress|wont_fix|closed [note]",
    "resolve": "/hc resolve HC-12 [cause:] <resolution note>",  # cause: code, config, data, infra, third-party, user, docs, not-reproducible
    "reopen": "/hc reopen HC-12 [why]",
    "close": "/hc close HC-12 [note]",
    "dup": "/hc dup HC-13 HC-12   (HC-13 is a duplicate of HC-12)",
    "triagers": "/hc triagers list|add @user|remove @user",
}


def _done(ticket: Ticket, text: str) -> Reply:
    """A change went through: say what, and show the card as it is now."""
    text = f"{text} Announced in the ticket's thread; its card is updated."
    return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}, *blocks.ticket_card(ticket, with_actions=False)])


def _unchanged(text: str) -> Reply:
    return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def _expect(args: list[str], *, least: int, most: int | None, name: str, what: str) -> None:
    if len(args) < least or (most is not None and len(args) > most):
        raise UserInputError(what, usage=USAGE[name])


@subcommands.add("assign", USAGE["assign"], triage_only=True)
def _assign(session: Session, command: CommandInput, args: list[str]) -> Reply:
    require_triager(command.team(session), user=command.user, action="assign tickets")
    _expect(args, least=2, most=2, name="assign", what="Say which ticket, and who should take it.")
    ticket = ticket_arg(session, command, args[0], usage=USAGE["assign"])
    assignee = None if args[1].lower() in NOBODY else user_arg(command, args[1], usage=USAGE["assign"])
    if not ticket_actions.assign(session, ticket, actor=command.user, assignee=assignee):
        return _unchanged(f"{ticket.key} is already {'assigned to <@' + assignee + '>' if assignee else 'unassigned'}.")
    return _done(ticket, f"{ticket.key} is now {'assigned to <@' + assignee + '>' if assignee else 'unassigned'}.")


@subcommands.add("severity", USAGE["severity"], triage_only=True)
def _severity(session: Session, command: CommandInput, args: list[str]) -> Reply:
    require_triager(command.team(session), user=command.user, action="change severity")
    _expect(args, least=2, most=2, name="severity", what="Say which ticket and which severity.")
    ticket = ticket_arg(session, command, args[0], usage=USAGE["severity"])
    severity = args[1].lower()
    if not ticket_actions.set_severity(session, ticket, actor=command.user, severity=severity):
        return _unchanged(f"{ticket.key} is already {severity}.")
    return _done(ticket, f"{ticket.key} severity is now *{severity}*.")


@subcommands.add("status", USAGE["status"], triage_only=True)
def _status(session: Session, command: CommandInput, args: list[str]) -> Reply:
    require_triager(command.team(session), user=command.user, action="change a ticket's status")
    _expect(args, least=2, most=None, name="status", what="Say which ticket and which status.")
    ticket = ticket_arg(session, command, args[0], usage=USAGE["status"])
    note = rest(command, after=3) or None
    if not ticket_actions.set_status(session, ticket, actor=command.user, status=args[1], note=note):
        return _unchanged(f"{ticket.key} is already {ticket.status}.")
    return _done(ticket, f"{ticket.key} is now *{ticket.status}*.")


@subcommands.add("resolve", USAGE["resolve"], triage_only=True)
def _resolve(session: Session, command: CommandInput, args: list[str]) -> Reply:
    require_triager(command.team(session), user=command.user, action="resolve tickets")
    _expect(args, least=1, most=None, name="resolve", what="Say which ticket, and what fixed it.")
    ticket = ticket_arg(session, command, args[0], usage=USAGE["resolve"])
    ticket_actions.resolve(session, ticket, actor=command.user, note=rest(command, after=2))
    return _done(ticket, f"{ticket.key} is resolved.")


@subcommands.add("reopen", USAGE["reopen"], triage_only=True)
def _reopen(session: Session, command: CommandInput, args: list[str]) -> Reply:
    require_triager(command.team(session), user=command.user, action="reopen tickets")
    _expect(args, least=1, most=None, name="reopen", what="Say which ticket to reopen.")
    ticket = ticket_arg(session, command, args[0], usage=USAGE["reopen"])
    ticket_actions.reopen(session, ticket, actor=command.user, why=rest(command, after=2) or None)
    return _done(ticket, f"{ticket.key} is open again (*{ticket.status}*).")


@subcommands.add("close", USAGE["close"], triage_only=True)
def _close(session: Session, command: CommandInput, args: list[str]) -> Reply:
    _expect(args, least=1, most=None, name="close", what="Say which ticket to close.")
    ticket = ticket_arg(session, command, args[0], usage=USAGE["close"])
    require_triager_or_reporter(command.team(session), user=command.user, ticket=ticket, action="close it")
    ticket_actions.close(session, ticket, actor=command.user, note=rest(command, after=2) or None)
    return _done(ticket, f"{ticket.key} is closed.")


@subcommands.add("dup", USAGE["dup"], triage_only=True)
def _dup(session: Session, command: CommandInput, args: list[str]) -> Reply:
    require_triager(command.team(session), user=command.user, action="mark duplicates")
    _expect(args, least=2, most=2, name="dup", what="Name the duplicate first, then the original.")
    duplicate = ticket_arg(session, command, args[0], usage=USAGE["dup"])
    named = ticket_arg(session, command, args[1], usage=USAGE["dup"])
    original, _ = ticket_actions.mark_duplicate(session, duplicate, actor=command.user, original=named)
    via = f" ({named.key} is itself a duplicate of {original.key})" if original.id != named.id else ""
    return _done(duplicate, f"{duplicate.key} is closed as a duplicate of {original.key}{via}; its people joined {original.key}.")


@subcommands.add("triagers", USAGE["triagers"], triage_only=True)
def _triagers(session: Session, command: CommandInput, args: list[str]) -> Reply:
    action = args[0].lower() if args else "list"
    team = command.team(session)
    if action == "list":
        return _team_reply(team_lines(team))
    if action not in ("add", "remove") or len(args) != 2:
        raise UserInputError("Say `list`, or `add`/`remove` and one person.", usage=USAGE["triagers"])
    require_triager(team, user=command.user, action="change the triage team")
    user = user_arg(command, args[1], usage=USAGE["triagers"])
    if action == "add":
        if not add_member(session, team_id=command.team_id, user=user, added_by=command.user, team=team):
            return _unchanged(f"<@{user}> is already on the triage team.")
        return _unchanged(f"<@{user}> is now on the triage team.")
    remove_member(session, team_id=command.team_id, user=user, team=team)
    return _unchanged(f"<@{user}> is no longer on the triage team.")


def team_lines(team: Any) -> list[str]:
    if not team.is_configured:
        return ["Nobody is set up as the triage team yet, so *everyone* may triage.",
                "Set HYPERCARE_TRIAGE_USERS or HYPERCARE_TRIAGE_USERGROUP, or start with `/hc triagers add @someone`."]
    lines = ["*The triage team*"]
    if team.configured:
        lines.append("Configured (HYPERCARE_TRIAGE_USERS): " + ", ".join(f"<@{u}>" for u in team.configured))
    if team.usergroup:
        lines.append(f"User group: <!subteam^{team.usergroup}> ({len(team.usergroup_members)} members)")
    if team.added:
        lines.append("Added with /hc triagers add: " + ", ".join(f"<@{u}>" for u in team.added))
    return lines


def _team_reply(lines: list[str]) -> Reply:
    text = "\n".join(lines)
    return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
