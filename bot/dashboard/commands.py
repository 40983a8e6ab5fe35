"""`/hc dashboard [share|revoke]`: links to the live dashboard (bot/dashboard)."""
from __future__ import annotations

from sqlmodel import Session

from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.dashboard import links
from bot.errors import UserInputError
from bot.tickets.permissions import require_triager

subcommands = SubcommandTable()  # collected explicitly by handlers/commands.py

USAGE = {"dashboard": "/hc dashboard [share|revoke]"}


@subcommands.add("dashboard", USAGE["dashboard"])
def _dashboard(session: Session, command: CommandInput, args: list[str]) -> Reply:
    action = args[0].lower() if args else ""
    if len(args) > 1 or action not in ("", "share", "revoke"):
        raise UserInputError("Say `/hc dashboard` for your own link, `share` for a wall screen's, `revoke` to end them all.", usage=USAGE["dashboard"])
    settings = command.settings
    note = "" if settings.public_url else "\n_HYPERCARE_PUBLIC_URL is not set, so this link points at localhost._"
    if action == "revoke":
        require_triager(command.team(session), user=command.user, action="revoke dashboard links")
        count = links.revoke_all(session, team_id=command.team_id, user=command.user)
        return Reply(text=f"Revoked {count} dashboard link{'s' if count != 1 else ''}: they now show nothing. `/hc dashboard` makes a new one.")
    if action == "share":
        require_triager(command.team(session), user=command.user, action="make a shared dashboard link")
    link, token = links.create(session, settings=settings, team_id=command.team_id, user=command.user, kind="shared" if action else "personal")
    url = links.url_of(settings, token)
    if action == "share":
        text = (f"A shared dashboard link for a wall screen (valid until {link.expires_at:%Y-%m-%d}, until `/hc dashboard revoke`):\n{url}\n"
                "Anyone with it sees this workspace's tickets: share it with care.")
    else:
        text = f"Your dashboard link, valid for {settings.dashboard_link_hours:g} hours (until {link.expires_at:%Y-%m-%d %H:%M} UTC):\n{url}"
    return Reply(text=text + note, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text + note}}])
