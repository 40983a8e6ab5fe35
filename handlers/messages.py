"""Channel messages: new reports, thread replies, edits and deletions (all replayed from the inbox)."""
from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.followups import questions as followups
from bot.intake import service as intake
from handlers.context import db, team_of

IGNORED_SUBTYPES = frozenset({
    "bot_message", "channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name",
    "channel_archive", "channel_unarchive", "group_join", "group_leave", "pinned_item", "unpinned_item",
    "ekm_access_denied", "me_message", "reminder_add",
})


def register(app: App) -> None:
    app.event("message")(on_message)


def on_message(event: dict[str, Any], body: dict[str, Any], context: Any, client: WebClient) -> None:
    subtype = event.get("subtype")
    if subtype in IGNORED_SUBTYPES or event.get("bot_id") or event.get("bot_profile"):
        return  # other bots and channel housekeeping are never reports
    if event.get("channel_type") == "im":
        return  # direct messages to the bot are not war-room reports
    session = db(context)
    team_id = team_of(body)
    channel = event.get("channel", "")
    if subtype == "message_changed":
        message = event.get("message") or {}
        if not message.get("bot_id"):
            intake.edit_report(session, team_id=team_id, channel=channel, ts=message.get("ts", ""), user=message.get("user"), new_text=message.get("text", ""))
        return
    if subtype == "message_deleted":
        intake.delete_report(session, team_id=team_id, channel=channel, ts=event.get("deleted_ts", ""))
        return
    if subtype not in (None, "file_share", "thread_broadcast") or not event.get("user"):
        return
    report = report_from_message(event, team_id=team_id)
    if report.thread_ts and report.thread_ts != report.ts:
        ticket = intake.add_comment(session, report=report)  # kept in the history whatever it says
        if ticket is not None:  # then read as an answer to the bot's or the team's questions
            followups.on_reply(session, ticket=ticket, user=report.user, text=report.text, ts=report.ts)
        return
    intake.on_channel_message(session, report=with_permalink(client, report))


def report_from_message(message: dict[str, Any], *, team_id: str, channel: str | None = None) -> intake.Report:
    return intake.Report(
        team_id=team_id, channel=channel or message.get("channel", ""), user=message.get("user", ""),
        text=message.get("text", ""), ts=message.get("ts", ""), thread_ts=message.get("thread_ts"),
        files=tuple(message.get("files") or ()),
    )


def with_permalink(client: WebClient, report: intake.Report) -> intake.Report:
    """The report's link for the ticket card; a ticket without one is still a ticket."""
    try:
        permalink = client.chat_getPermalink(channel=report.channel, message_ts=report.ts).get("permalink")
    except SlackApiError:
        permalink = None
    return intake.Report(**{**report.__dict__, "permalink": permalink})


def fetch_message(client: WebClient, *, channel: str, ts: str) -> dict[str, Any] | None:
    """One message by ts: top-level via conversations.history, a thread reply via conversations.replies."""
    answer = client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
    found = [m for m in answer.get("messages") or [] if m.get("ts") == ts]
    if not found:
        answer = client.conversations_replies(channel=channel, ts=ts, latest=ts, oldest=ts, inclusive=True, limit=1)
        found = [m for m in answer.get("messages") or [] if m.get("ts") == ts]
    return found[0] if found else None
