"""`/hc ask HC-12 <question>`: the triage team asks the reporter in the ticket's thread."""
from __future__ import annotations

from sqlmodel import Session

from bot.followups import questions as followups
from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.errors import UserInputError
from bot.tickets.permissions import require_triager
from bot.tickets.service import get_ticket

subcommands = SubcommandTable()  # collected explicitly by handlers/commands.py

ASK_USAGE = "/hc ask HC-12 <question>"


@subcommands.add("ask", ASK_USAGE)
def ask(session: Session, command: CommandInput, args: list[str]) -> Reply:
    require_triager(command.team(session), user=command.user, action="ask reporters questions")
    if not args:
        raise UserInputError("Which ticket, and what should I ask?", usage=ASK_USAGE)
    ticket = get_ticket(session, team_id=command.team_id, key=args[0])
    # The question as typed, line breaks and all: everything after the key.
    question = command.text.strip()[len("ask"):].strip()[len(args[0]):].strip()
    followups.ask_question(session, ticket=ticket, asker=command.user, question=question)
    return Reply(text=f"Asked in {ticket.key}'s thread. The answer will be recorded on the ticket.")
