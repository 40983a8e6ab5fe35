"""`/hc` subcommands that only look: list, show, search, stats. Answers are ephemeral Block Kit."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from bot.tickets import blocks, stats
from bot.commands.args import channel_arg, rest, ticket_arg
from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.errors import UserInputError
from bot.trackers.card import badge
from models import triage_queries as tq
from models.tables import TicketEvent
from models.types import utcnow

subcommands = SubcommandTable()  # collected explicitly by handlers/commands.py

USAGE: dict[str, str] = {
    "list": "/hc list [open|mine|unassigned|critical|needs-info|all] [#channel|here]",
    "show": "/hc show HC-12",
    "search": "/hc search <words>",
    "stats": stats.USAGE,
}
LIST_LIMIT = 20  # an ephemeral message holds 50 blocks; 20 tickets stay readable
SEARCH_LIMIT = 10
VIEW_HEADINGS = {
    "open": "Open tickets", "mine": "Open tickets assigned to you", "unassigned": "Open, unassigned tickets",
    "critical": "Open critical tickets", "needs-info": "Tickets waiting on their reporters", "all": "All tickets",
}
VIEW_ALIASES = {"needs_info": "needs-info", "needsinfo": "needs-info", "waiting": "needs-info"}


@subcommands.add("list", USAGE["list"])
def _list(session: Session, command: CommandInput, args: list[str]) -> Reply:
    if len(args) > 2:
        raise UserInputError("Give at most a list name and a channel.", usage=USAGE["list"])
    view, channel = "open", None
    for word in args:
        found = channel_arg(command, word, usage=USAGE["list"])
        if found:
            channel = found
            continue
        name = VIEW_ALIASES.get(word.lower(), word.lower())
        if name not in tq.LIST_VIEWS:
            raise UserInputError(f"“{word}” is not a list I know. Pick one of: {', '.join(tq.LIST_VIEWS)}.", usage=USAGE["list"])
        view = name
    tickets, total = tq.list_tickets(session, team_id=command.team_id, view=view, user=command.user, channel=channel, limit=LIST_LIMIT)
    heading = f"*{VIEW_HEADINGS[view]}*" + (f" in <#{channel}>" if channel else "") + f" — {total}"
    body = blocks.ticket_list(heading, tickets, total=total, now=utcnow(), more="Narrow it down with a list name or a channel.")
    return Reply(text=f"{VIEW_HEADINGS[view]}: {total}", blocks=body)


@subcommands.add("show", USAGE["show"])
def _show(session: Session, command: CommandInput, args: list[str]) -> Reply:
    if len(args) != 1:
        raise UserInputError("Say which ticket to show.", usage=USAGE["show"])
    ticket = ticket_arg(session, command, args[0], usage=USAGE["show"])
    events = session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id.desc()).limit(10)  # type: ignore[union-attr]
    ).scalars().all()
    # resolved_at repeats "status → resolved" as a raw timestamp: left out of the summary.
    history = [_history_line(e) for e in reversed(events) if e.field_name != "resolved_at"][-5:]
    tracker = badge(session, ticket, settings=command.settings)  # where it is tracked (issue 15)
    return Reply(text=blocks.card_text(ticket), blocks=blocks.ticket_detail(ticket, history=history, now=utcnow(), tracker=tracker))


def _history_line(event: TicketEvent) -> str:
    who = f"<@{event.actor}>" if event.actor else "Hypercare"
    if event.kind == "changed" and event.field_name:
        what = f"{event.field_name}: {event.old_value or '—'} → {event.new_value or '—'}"
    else:
        what = f"{event.kind}" + (f": {event.note}" if event.note else "")
    return f"{event.at:%b %d %H:%M} · {who} · {blocks.safe(what, limit=200)}"


@subcommands.add("search", USAGE["search"])
def _search(session: Session, command: CommandInput, args: list[str]) -> Reply:
    words = rest(command, after=1)
    if not tq.search_words(words):
        raise UserInputError("Say what to look for: a few words from the title or the description.", usage=USAGE["search"])
    found = tq.search(session, team_id=command.team_id, text=words, limit=SEARCH_LIMIT)
    tickets = [ticket for ticket, _, _ in found]
    heading = f"*Tickets matching “{blocks.safe(words, limit=100)}”* — best first"
    body = blocks.ticket_list(heading, tickets, total=len(tickets), now=utcnow(), empty="No ticket mentions those words.")
    return Reply(text=f"{len(tickets)} tickets match", blocks=body)


@subcommands.add("stats", USAGE["stats"])
def _stats(session: Session, command: CommandInput, args: list[str]) -> Reply:
    if len(args) > 1:
        raise UserInputError("Give one period at most.", usage=USAGE["stats"])
    period = stats.parse_period(args[0] if args else None)
    result = stats.compute(session, team_id=command.team_id, settings=command.settings, period=period, now=utcnow())
    text, body = stats.render(result)
    return Reply(text=text, blocks=body)
