"""Intake: reports from channel messages, reactions, the shortcut and `/hc new` become tickets.

Plain data in, tickets and outbox messages out; nothing here knows about Bolt.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from bot.delivery import outbox
from bot.followups import questions as followups
from bot.intake import linking
from bot.tickets import blocks, cards, outbox_rows as ticket_delivery
from bot.tickets.service import NewTicket, change, create_ticket, record
from bot.triage import Triage, details_needed, make_title, mask_pii, slack_to_text, triage
from models import queries
from models.tables import Ticket
from models.types import utcnow

TICKET_REACTION = "ticket"
CONFIRM_FILE = "confirm_file"
CONFIRM_SKIP = "confirm_skip"


@dataclass(frozen=True)
class Report:
    """A Slack message as intake sees it."""

    team_id: str
    channel: str
    user: str
    text: str
    ts: str
    thread_ts: str | None = None
    files: tuple[dict[str, Any], ...] = ()
    permalink: str | None = None


@dataclass(frozen=True)
class Filed:
    ticket: Ticket
    created: bool  # False: the message was already filed, or was linked to an existing ticket
    linked: bool = False


def _new_ticket(*, team_id: str, result: Triage, reporter: str | None, source: str, actor: str | None, **where: Any) -> NewTicket:
    return NewTicket(
        team_id=team_id, title=result.title, description=result.description, category=result.category,
        severity=result.severity, reporter=reporter, source=source, actor=actor,
        fields=dict(result.fields), missing=tuple(result.missing), reasons=tuple(result.reasons), **where,
    )


def file_text(session: Session, *, team_id: str, channel: str, user: str, text: str) -> Ticket:
    """`/hc new <text>`: a ticket with no report message; its card in the channel starts its thread."""
    result = triage(text=text)
    ticket = create_ticket(session, _new_ticket(team_id=team_id, result=result, reporter=user, source="command", actor=user, channel=channel))
    post_channel_card(session, ticket=ticket, filed_by=user)
    followups.ask(session, ticket=ticket)
    return ticket


# A second `/hc new` with the same text from the same person in the same channel this soon is a
# retry (Slack's, or theirs after a timeout): it answers with the first ticket instead of a copy.
RETRY_WINDOW = timedelta(minutes=5)


def earlier_same_text(session: Session, *, team_id: str, channel: str, user: str, text: str) -> Ticket | None:
    """The ticket a retried `/hc new` already made; a card that could not be posted is posted again."""
    result = triage(text=text)
    ticket = queries.same_command_ticket(
        session, team_id=team_id, channel=channel, reporter=user, title=result.title, description=result.description,
        since=utcnow() - RETRY_WINDOW,
    )
    if ticket is not None and ticket.id is not None and not ticket.card_ts and not queries.card_on_its_way(session, ticket_id=ticket.id):
        post_channel_card(session, ticket=ticket, filed_by=user)  # e.g. refused before the bot was invited
    return ticket


def post_channel_card(session: Session, *, ticket: Ticket, filed_by: str) -> None:
    assert ticket.channel
    outbox.enqueue(
        session, method="chat.postMessage", team_id=ticket.team_id, ticket_id=ticket.id, on_result=ticket_delivery.ON_RESULT_CARD,
        params={"channel": ticket.channel, "text": f"{blocks.card_text(ticket)} — filed by <@{filed_by}>", "blocks": blocks.ticket_card(ticket), "unfurl_links": False},
    )


def capture_mode(session: Session, *, team_id: str, channel: str) -> str:
    return queries.channel_setting(session, team_id=team_id, channel=channel).capture


def on_channel_message(session: Session, *, report: Report) -> Filed | None:
    """A new top-level message in a channel the bot is in: judged, then filed per the channel's mode."""
    mode = capture_mode(session, team_id=report.team_id, channel=report.channel)
    if mode == "off" or not triage(text=report.text).is_report:
        return None
    if mode == "confirm":
        ask_to_confirm(session, report=report)
        return None
    return file_report(session, report=report, source="message", actor=report.user)


def ask_to_confirm(session: Session, *, report: Report) -> None:
    value = json.dumps({"channel": report.channel, "ts": report.ts})
    outbox.enqueue(
        session, method="chat.postEphemeral", team_id=report.team_id,
        params={
            "channel": report.channel, "user": report.user, "text": "File this as a ticket?",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"File this as a ticket?\n>{blocks.safe(triage(text=report.text).title, limit=200)}"}},
                {"type": "actions", "block_id": "confirm", "elements": [
                    {"type": "button", "style": "primary", "action_id": CONFIRM_FILE, "text": {"type": "plain_text", "text": "File ticket"}, "value": value},
                    {"type": "button", "action_id": CONFIRM_SKIP, "text": {"type": "plain_text", "text": "No, thanks"}, "value": value},
                ]},
            ],
        },
    )


def file_report(
    session: Session, *, report: Report, source: str, actor: str | None, check_duplicates: bool = True
) -> Filed:
    """File a Slack message as a ticket, or link it to the open ticket it repeats (bot/intake/linking.py)."""
    existing = queries.ticket_for_message(session, team_id=report.team_id, channel=report.channel, message_ts=report.ts)
    if existing is not None:
        return Filed(ticket=existing[0], created=False)
    result = triage(text=report.text)
    duplicate = linking.find_duplicate(session, team_id=report.team_id, text=result.description) if check_duplicates else None
    if duplicate is not None and linking.links_outright(*duplicate):
        ticket, match = duplicate
        linking.link_report(session, ticket=ticket, team_id=report.team_id, channel=report.channel, ts=report.ts, user=report.user, description=result.description, match=match)
        return Filed(ticket=ticket, created=False, linked=True)
    new = _new_ticket(
        team_id=report.team_id, result=result, reporter=report.user, source=source, actor=actor,
        channel=report.channel, message_ts=report.ts, thread_ts=report.thread_ts or report.ts, permalink=report.permalink,
        files=tuple(file_record(f) for f in report.files),
    )
    ticket = create_ticket(session, new)
    acknowledge(session, ticket=ticket)
    if duplicate is not None:  # borderline, or a recently resolved ticket: filed, and said in its thread
        linking.after_filing(session, ticket=ticket, other=duplicate[0], match=duplicate[1])
    followups.ask(session, ticket=ticket)
    return Filed(ticket=ticket, created=True)


@dataclass(frozen=True)
class Form:
    """The new-ticket modal as submitted (by the shortcut or by `/hc new` without text)."""

    team_id: str
    user: str
    channel: str
    title: str
    description: str
    category: str
    severity: str
    fields: dict[str, str | None]
    message_ts: str | None = None
    reporter: str | None = None
    permalink: str | None = None


def file_form(session: Session, *, form: Form) -> Ticket:
    """A ticket exactly as the person filled in the form (PII still masked), no guessing."""
    if form.message_ts:
        existing = queries.ticket_for_message(session, team_id=form.team_id, channel=form.channel, message_ts=form.message_ts)
        if existing is not None:
            return existing[0]
    fields = {name: mask_pii(value.strip()) if value and value.strip() else None for name, value in form.fields.items()}
    missing = tuple(d for d in details_needed(form.category) if not fields.get(d))
    new = NewTicket(
        team_id=form.team_id, title=mask_pii(slack_to_text(form.title)).strip()[:120], description=mask_pii(slack_to_text(form.description)),
        category=form.category, severity=form.severity, reporter=form.reporter or form.user, source="shortcut" if form.message_ts else "modal",
        actor=form.user, channel=form.channel, message_ts=form.message_ts, thread_ts=form.message_ts, permalink=form.permalink,
        fields=fields, missing=missing, reasons=(f"category and severity chosen by <@{form.user}> in the form",),
    )
    ticket = create_ticket(session, new)
    if form.message_ts:
        acknowledge(session, ticket=ticket)
    else:
        post_channel_card(session, ticket=ticket, filed_by=form.user)
    followups.ask(session, ticket=ticket)
    return ticket


def acknowledge(session: Session, *, ticket: Ticket) -> None:
    """Reply in the report's thread (never the channel) with the card, and mark the report."""
    assert ticket.channel and ticket.message_ts
    outbox.enqueue(
        session, method="chat.postMessage", team_id=ticket.team_id, ticket_id=ticket.id, on_result=ticket_delivery.ON_RESULT_CARD,
        params={
            "channel": ticket.channel, "thread_ts": ticket.thread_ts or ticket.message_ts, "text": blocks.card_text(ticket),
            "blocks": blocks.ticket_card(ticket), "unfurl_links": False,
        },
    )
    outbox.enqueue(
        session, method="reactions.add", team_id=ticket.team_id, ticket_id=ticket.id,
        params={"channel": ticket.channel, "timestamp": ticket.message_ts, "name": TICKET_REACTION},
    )


def add_comment(session: Session, *, report: Report) -> Ticket | None:
    """A reply in a ticket's thread goes into its history; it never opens a new ticket."""
    if not report.thread_ts:
        return None
    ticket = queries.ticket_for_thread(session, team_id=report.team_id, channel=report.channel, thread_ts=report.thread_ts)
    if ticket is None:
        return None
    record(session, ticket, actor=report.user, kind="comment", note=mask_pii(slack_to_text(report.text)))
    if report.files:
        ticket.files = [*ticket.files, *(file_record(f) for f in report.files)]
    if ticket.first_response_at is None and report.user != ticket.reporter:
        ticket.first_response_at = utcnow()  # a human answered in the thread
    session.add(ticket)
    return ticket


def edit_report(session: Session, *, team_id: str, channel: str, ts: str, user: str | None, new_text: str) -> Ticket | None:
    found = queries.ticket_for_message(session, team_id=team_id, channel=channel, message_ts=ts)
    if found is None:
        return None
    ticket, link = found
    result = triage(text=new_text)
    new_description = result.description
    if link.role == "report" and new_description != ticket.description:
        # the title follows the text unless someone chose it (it is then not the old text's title)
        title_was_derived = ticket.title == make_title(ticket.description)
        record(session, ticket, actor=user, kind="edited", field_name="description", old=ticket.description, new=new_description)
        ticket.description = new_description
        ticket.updated_at = utcnow()
        session.add(ticket)
        retitled = title_was_derived and bool(change(session, ticket, actor=user, note="the report was edited", title=result.title))
        # category and severity stay: the triage team may have set them; only missing details are taken
        filled = followups.fill_from_edit(session, ticket=ticket, actor=user or ticket.reporter or "", found=result.fields)
        if retitled and not filled:
            cards.refresh_card(session, ticket)
        linking.recheck(session, ticket=ticket)  # the new words may name a known problem
    elif link.role != "report":
        record(session, ticket, actor=user, kind="edited", note=f"a linked report was edited: {new_description}")
    return ticket


def delete_report(session: Session, *, team_id: str, channel: str, ts: str) -> Ticket | None:
    found = queries.ticket_for_message(session, team_id=team_id, channel=channel, message_ts=ts)
    if found is None:
        return None
    ticket, link = found
    what = "The original report" if link.role == "report" else "A linked report"
    record(session, ticket, actor=link.user, kind="deleted", note=f"{what} was deleted in Slack; its text is kept here.")
    return ticket


def file_record(item: dict[str, Any]) -> dict[str, Any]:
    """A file shared with a report, as kept on the ticket: its name masked like the report's text
    ("passport_jane.doe@example.com.pdf"), and its permalink without the trailing name (Slack finds
    the file by its id, https://…/files/U…/F…/<name>)."""
    name = item.get("name") or item.get("title")
    permalink = item.get("permalink")
    return {
        "id": item.get("id"),
        "name": _mask_file_name(str(name)) if name else None,
        "permalink": _FILE_SLUG.sub(r"\1", str(permalink)) if permalink else None,
    }


def _mask_file_name(name: str) -> str:
    """mask_pii on each part of the name: "_" joins words in file names (and is a word character to
    the e-mail and phone patterns), and the extension is no part of a phone number."""
    stem, dot, extension = name.rpartition(".") if "." in name[1:] else (name, "", "")
    return "_".join(mask_pii(part) for part in stem.split("_")) + dot + extension


_FILE_SLUG = re.compile(r"^(https://[^/?#]+/files/[^/?#]+/F[A-Z0-9]+)/[^?#]*")
