"""`/hc report [md|html] [since YYYY-MM-DD]`: the exit report, uploaded to this channel (bot/report)."""
from __future__ import annotations

from sqlmodel import Session

from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.errors import UserInputError
from bot.tickets.export import parse_since
from bot.report import upload

subcommands = SubcommandTable()  # collected explicitly by handlers/commands.py

USAGE = {"report": "/hc report [html|md] [since 2026-11-01]"}


@subcommands.add("report", USAGE["report"])
def _report(session: Session, command: CommandInput, args: list[str]) -> Reply:
    fmt, since = "html", None
    words = [w.lower() for w in args]
    while words:
        word = words.pop(0)
        if word in ("html", "md", "markdown"):
            fmt = "md" if word != "html" else "html"
        elif word == "since" and words:
            try:
                since = parse_since(words.pop(0))
            except UserInputError as exc:
                raise UserInputError(str(exc).replace("--since", "since"), usage=USAGE["report"]) from exc
        else:
            raise UserInputError(f"I don't understand “{word}” here.", usage=USAGE["report"])
    command.require_member(command.channel, to="post the report")
    upload.request(session, team_id=command.team_id, channel=command.channel, user=command.user, fmt=fmt, since=since)
    return Reply(text=f"Building the exit report ({fmt.upper()}); I'll post it in this channel in a moment.")
