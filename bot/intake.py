"""Intake: reports from channel messages, reactions, the shortcut and `/hc new` become tickets.

Plain data in, tickets and outbox messages out; nothing here knows about Bolt.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot import blocks, outbox
from bot.tickets import NewTicket, create_ticket, record
from bot.triage import Triage, mask_pii, slack_to_text, triage
from models import queries
from models.tables import ReportMessage, Ticket

TICKET_REACTION = "ticket"


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
    created: bool
    triage: Triage | None = None
    notes: list[str] = field(default_factory=list)


def _new_ticket(*, team_id: str, result: Triage, reporter: str | None, source: str, actor: str | None, **where: Any) -> NewTicket:
    return NewTicket(
        team_id=team_id, title=result.title, description=result.description, category=result.category,
        severity=result.severity, reporter=reporter, source=source, actor=actor,
        fields=dict(result.fields), missing=tuple(result.missing), reasons=tuple(result.reasons), **where,
    )


def file_text(session: Session, *, team_id: str, channel: str, user: str, text: str) -> Filed:
    """`/hc new <text>`: a ticket with no report message; its card in the channel starts its thread."""
    result = triage(text=text)
    ticket = create_ticket(session, _new_ticket(team_id=team_id, result=result, reporter=user, source="command", actor=user, channel=channel))
    outbox.enqueue(
        session, method="chat.postMessage", team_id=team_id, ticket_id=ticket.id, on_result="ticket_card",
        params={"channel": channel, "text": f"{blocks.card_text(ticket)} — filed by <@{user}>", "blocks": blocks.ticket_card(ticket), "unfurl_links": False},
    )
    return Filed(ticket=ticket, created=True, triage=result)


def file_report(session: Session, *, report: Report, source: str, actor: str | None, force: bool = False) -> Filed | None:
    """File a Slack message as a ticket; None when it is chatter (unless `force`, e.g. :ticket:)."""
    existing = queries.ticket_for_message(session, team_id=report.team_id, channel=report.channel, message_ts=report.ts)
    if existing is not None:
        return Filed(ticket=existing[0], created=False)
    result = triage(text=report.text)
    if not result.is_report and not force:
        return None
    new = _new_ticket(
        team_id=report.team_id, result=result, reporter=report.user, source=source, actor=actor,
        channel=report.channel, message_ts=report.ts, thread_ts=report.ts, permalink=report.permalink,
        files=tuple(_file_record(f) for f in report.files),
    )
    ticket = create_ticket(session, new)
    acknowledge(session, ticket=ticket)
    return Filed(ticket=ticket, created=True, triage=result)


def acknowledge(session: Session, *, ticket: Ticket) -> None:
    """Reply in the report's thread (never the channel) with the card, and mark the report."""
    assert ticket.channel and ticket.message_ts
    outbox.enqueue(
        session, method="chat.postMessage", team_id=ticket.team_id, ticket_id=ticket.id, on_result="ticket_card",
        params={
            "channel": ticket.channel, "thread_ts": ticket.message_ts, "text": blocks.card_text(ticket),
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
    for item in report.files:
        ticket.files = [*ticket.files, _file_record(item)]
    session.add(ticket)
    return ticket


def edit_report(session: Session, *, team_id: str, channel: str, ts: str, user: str | None, new_text: str) -> Ticket | None:
    found = queries.ticket_for_message(session, team_id=team_id, channel=channel, message_ts=ts)
    if found is None:
        return None
    ticket, link = found
    new_description = triage(text=new_text).description
    if link.role == "report" and new_description != ticket.description:
        record(session, ticket, actor=user, kind="edited", field_name="description", old=ticket.description, new=new_description)
        ticket.description = new_description
        session.add(ticket)
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


def _file_record(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item.get("id"), "name": item.get("name") or item.get("title"), "permalink": item.get("permalink")}


__all__ = ["Report", "Filed", "file_text", "file_report", "acknowledge", "add_comment", "edit_report", "delete_report", "ReportMessage"]
