"""`/hc digest schedule|list|off|preview|now`: the stand-up digests, from Slack."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.digests import schedule as ds
from bot.commands.args import channel_arg
from bot.commands.router import CommandInput, Reply, SubcommandTable
from bot.digests.build import when
from bot.errors import NotFound, UserInputError
from bot.tickets.permissions import require_triager
from models import digest_queries as dq
from models.digest_tables import DIGEST_DAYS
from models.types import utcnow

subcommands = SubcommandTable()  # collected explicitly by handlers/commands.py

USAGE: dict[str, str] = {
    "digest": "/hc digest schedule 09:00 [Europe/Berlin] [weekdays|daily] [#channel] | list | off [#channel] | preview [#channel] | now [#channel]",
}
SCHEDULE_USAGE = "/hc digest schedule 09:00 [Europe/Berlin] [weekdays|daily] [#channel]"
TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _text(text: str) -> Reply:
    return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


@subcommands.add("digest", USAGE["digest"])
def _digest(session: Session, command: CommandInput, args: list[str]) -> Reply:
    if not args:
        raise UserInputError("Say what to do with the digest: schedule, list, off, preview or now.", usage=USAGE["digest"])
    action, rest = args[0].lower(), args[1:]
    if action == "schedule":
        return _schedule(session, command, rest)
    if action == "list":
        return _list(session, command, rest)
    if action in ("off", "preview", "now"):
        channel = _channel_only(command, rest, usage=f"/hc digest {action} [#channel]")
        return {"off": _off, "preview": _preview, "now": _now}[action](session, command, channel)
    raise UserInputError(f"“{args[0]}” is not something I do with digests. Try schedule, list, off, preview or now.", usage=USAGE["digest"])


def _channel_only(command: CommandInput, args: list[str], *, usage: str) -> str:
    if len(args) > 1:
        raise UserInputError("Give at most one channel.", usage=usage)
    if not args:
        return command.channel
    found = channel_arg(command, args[0], usage=usage)
    if found is None:
        raise UserInputError(f"“{args[0]}” is not a channel. Pick one from Slack's # autocomplete, or leave it out for this channel.", usage=usage)
    return found


def parse_time(word: str) -> tuple[int, int]:
    match = TIME.match(word)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise UserInputError(f"“{word}” is not a time. Say it as HH:MM on a 24-hour clock, like 09:00 or 17:30.", usage=SCHEDULE_USAGE)
    return int(match.group(1)), int(match.group(2))


def _schedule(session: Session, command: CommandInput, args: list[str]) -> Reply:
    require_triager(command.team(session), user=command.user, action="schedule digests")
    if not args:
        raise UserInputError("Say at what time, like `/hc digest schedule 09:00`.", usage=SCHEDULE_USAGE)
    hour, minute = parse_time(args[0])
    days: str | None = None
    channel: str | None = None
    tz_name: str | None = None
    for word in args[1:]:
        found = channel_arg(command, word, usage=SCHEDULE_USAGE)
        if found is not None:
            channel = _once(channel, found, what="channel")
        elif word.lower() in DIGEST_DAYS:
            days = _once(days, word.lower(), what="choice of days")
        else:
            tz_name = _once(tz_name, _timezone(word).key, what="timezone")
    tz = ds.zone(tz_name or command.settings.timezone)
    channel = channel or command.channel
    command.require_member(channel, to="post the digest there")
    now = utcnow()
    schedule = ds.set_schedule(session, team_id=command.team_id, channel=channel, hour=hour, minute=minute,
                               tz=tz, days=days or "weekdays", user=command.user, now=now)
    upcoming = ds.next_occurrence(schedule, after=now).at
    return _text(f"The digest for <#{channel}> is set for {ds.describe(schedule)}. The next one: {when(upcoming, tz)} ({upcoming:%H:%M} UTC).")


def _timezone(word: str) -> ZoneInfo:
    try:
        return ds.zone(word)
    except UserInputError:
        raise UserInputError(f"I don't understand “{word}”. After the time, say `weekdays` or `daily`, a timezone like Europe/Berlin, "
                             "and a #channel if not this one.", usage=SCHEDULE_USAGE) from None


def _once(current: str | None, value: str, *, what: str) -> str:
    if current is not None:
        raise UserInputError(f"Give one {what} only (I read both “{current}” and “{value}”).", usage=SCHEDULE_USAGE)
    return value


def _list(session: Session, command: CommandInput, args: list[str]) -> Reply:
    if args:
        raise UserInputError("`/hc digest list` takes nothing more.", usage="/hc digest list")
    found = ds.schedules(session, team_id=command.team_id)
    if not found:
        return _text("No digests are scheduled. Set one with `/hc digest schedule 09:00` in the channel that should get it.")
    now = utcnow()
    lines = ["*Stand-up digests*"]
    for schedule in found:
        tz = ds.zone(schedule.timezone)
        last = dq.last_posted(session, team_id=command.team_id, channel=schedule.channel)
        posted = f" · last posted {when(last.as_of, tz)}" if last else ""
        lines.append(f"• <#{schedule.channel}> — {ds.describe(schedule)} · next {when(ds.next_occurrence(schedule, after=now).at, tz)}{posted}")
    return _text("\n".join(lines))


def _off(session: Session, command: CommandInput, channel: str) -> Reply:
    require_triager(command.team(session), user=command.user, action="turn digests off")
    if not ds.remove_schedule(session, team_id=command.team_id, channel=channel):
        raise NotFound(f"There is no digest scheduled for <#{channel}>. `/hc digest list` shows the ones there are.", usage="/hc digest off [#channel]")
    return _text(f"The digest for <#{channel}> is off. `/hc digest now` still posts one when you ask.")


def _preview(session: Session, command: CommandInput, channel: str) -> Reply:
    made = ds.preview(session, team_id=command.team_id, channel=channel, settings=command.settings, now=utcnow())
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Preview of the digest for <#{channel}>: only you see this, nothing was posted."}]}
    return Reply(text=made.text, blocks=[note, *made.blocks])


def _now(session: Session, command: CommandInput, channel: str) -> Reply:
    require_triager(command.team(session), user=command.user, action="post digests")
    command.require_member(channel, to="post the digest there")
    ds.post_now(session, team_id=command.team_id, channel=channel, settings=command.settings, now=utcnow(), owner=f"command:{command.user}")
    return _text(f"Posting the digest in <#{channel}> now.")
