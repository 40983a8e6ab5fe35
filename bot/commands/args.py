"""Reading `/hc` arguments: ticket keys, people and channels, the way Slack sends them.

`/hc` is declared with should_escape, so picked people arrive as `<@U123|name>` and channels as
`<#C123|name>`; a bare `@name` typed without the autocomplete is looked up by name.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.errors import NotFound, UserInputError
from bot.tickets.service import get_ticket
from bot.triage import slack_to_text
from models.tables import Ticket

if TYPE_CHECKING:
    from bot.commands.router import CommandInput

MENTION = re.compile(r"^<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>$")
CHANNEL_LINK = re.compile(r"^<#([CG][A-Z0-9_]+)(?:\|[^>]*)?>$")
BARE_NAME = re.compile(r"^@?[\w.\-']{1,80}$")
NOBODY = ("nobody", "none", "-")


def ticket_arg(session: Session, command: CommandInput, word: str, *, usage: str) -> Ticket:
    """`HC-12`, `hc-12`, `hc12` or `12`; a wrong or unknown key is answered with the usage."""
    try:
        return get_ticket(session, team_id=command.team_id, key=word)
    except UserInputError as exc:
        exc.usage = exc.usage or usage
        raise


def user_arg(command: CommandInput, word: str, *, usage: str) -> str:
    """`me`, a mention (`<@U123|jane>`, `<@U123>`) or a bare `@jane` looked up by name."""
    if word.lower() == "me":
        return command.user
    mention = MENTION.match(word)
    if mention:
        return mention.group(1)
    if BARE_NAME.match(word):
        found = command.find_user(word.lstrip("@")) if command.find_user else None
        if found:
            return found
        raise NotFound(f"I can't find anyone called “{word}”. Pick them from Slack's @ autocomplete.", usage=usage)
    raise UserInputError(f"“{word}” is not a person. Mention them with @, or say `me`.", usage=usage)


def channel_arg(command: CommandInput, word: str, *, usage: str) -> str | None:
    """A channel link (`<#C123|name>`), `here`, or None when the word is not a channel at all."""
    if word.lower() == "here":
        return command.channel
    link = CHANNEL_LINK.match(word)
    if link:
        return link.group(1)
    if word.startswith("#"):
        raise UserInputError(f"I can't tell which channel “{word}” is. Pick it from Slack's # autocomplete, or say `here`.", usage=usage)
    return None


def rest(command: CommandInput, *, after: int) -> str:
    """The text after the first `after` words (the subcommand included), spacing kept, as readable
    text: Slack sends a command's `&`, `<`, `>` escaped, and what is posted back is escaped once, by
    blocks.safe()."""
    parts = command.text.strip().split(None, after)
    return slack_to_text(parts[after]).strip() if len(parts) > after else ""
