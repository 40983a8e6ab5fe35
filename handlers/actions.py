"""Block actions: ticket-card controls, the duplicate split button, capture confirmations."""
from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.web import WebClient

from bot import blocks, intake, linking, ticket_actions
from bot.errors import UserInputError
from bot.tickets import get_ticket
from handlers.context import db, team_of
from handlers.messages import fetch_message, report_from_message, with_permalink


def register(app: App) -> None:
    app.action("set_category")(on_set_category)
    app.action("set_severity")(on_set_severity)
    app.action("assign_me")(on_assign_me)
    app.action("not_an_issue")(on_not_an_issue)
    app.action(linking.SPLIT_ACTION)(on_not_a_duplicate)
    app.action(intake.CONFIRM_FILE)(on_confirm_file)
    app.action(intake.CONFIRM_SKIP)(on_confirm_skip)


def _card_key(body: dict[str, Any]) -> str:
    action = body["actions"][0]
    if action.get("type") == "button":
        return str(action.get("value", ""))
    return str(action.get("block_id", "")).split(":", 1)[-1]  # card_actions:HC-12


def _selected(body: dict[str, Any]) -> str:
    return str((body["actions"][0].get("selected_option") or {}).get("value", ""))


def _card_change(ack: Ack, body: dict[str, Any], context: Any, respond: Respond, apply: Any) -> None:
    ack()
    session = db(context)
    try:
        ticket = get_ticket(session, team_id=team_of(body), key=_card_key(body))
        apply(session, ticket, body["user"]["id"])
    except UserInputError as exc:
        session.rollback()
        respond(**blocks.ephemeral(str(exc)), replace_original=False)


def on_set_category(ack: Ack, body: dict[str, Any], context: Any, respond: Respond) -> None:
    _card_change(ack, body, context, respond, lambda s, t, u: ticket_actions.set_category(s, t, actor=u, category=_selected(body)))


def on_set_severity(ack: Ack, body: dict[str, Any], context: Any, respond: Respond) -> None:
    _card_change(ack, body, context, respond, lambda s, t, u: ticket_actions.set_severity(s, t, actor=u, severity=_selected(body)))


def on_assign_me(ack: Ack, body: dict[str, Any], context: Any, respond: Respond) -> None:
    _card_change(ack, body, context, respond, lambda s, t, u: ticket_actions.assign(s, t, actor=u, assignee=u))


def on_not_an_issue(ack: Ack, body: dict[str, Any], context: Any, respond: Respond) -> None:
    _card_change(ack, body, context, respond, lambda s, t, u: ticket_actions.not_an_issue(s, t, actor=u))


def on_not_a_duplicate(ack: Ack, body: dict[str, Any], context: Any, client: WebClient, respond: Respond) -> None:
    """The reporter says their report is a different problem: file it on its own."""
    ack()
    value = json.loads(body["actions"][0]["value"])
    session = db(context)
    team_id = team_of(body)
    user = body["user"]["id"]
    if linking.unlink_report(session, team_id=team_id, channel=value["channel"], ts=value["ts"], actor=user) is None:
        respond(**blocks.ephemeral("This report was already filed separately."), replace_original=False)
        return
    message = fetch_message(client, channel=value["channel"], ts=value["ts"])
    if message is None:
        session.rollback()
        respond(**blocks.ephemeral("I can't find the original message any more, so I can't file it separately."), replace_original=False)
        return
    report = with_permalink(client, report_from_message(message, team_id=team_id, channel=value["channel"]))
    filed = intake.file_report(session, report=report, source="message", actor=user, check_duplicates=False)
    respond(text=f"Filed separately as {filed.ticket.key} (not part of {value['ticket']}).", replace_original=True)


def on_confirm_file(ack: Ack, body: dict[str, Any], context: Any, client: WebClient, respond: Respond) -> None:
    ack()
    value = json.loads(body["actions"][0]["value"])
    message = fetch_message(client, channel=value["channel"], ts=value["ts"])
    if message is None:
        respond(text="I can't find that message any more, so there is nothing to file.", replace_original=True)
        return
    report = with_permalink(client, report_from_message(message, team_id=team_of(body), channel=value["channel"]))
    filed = intake.file_report(db(context), report=report, source="message", actor=body["user"]["id"])
    verb = "Filed as" if filed.created else "Linked to"
    respond(text=f"{verb} {filed.ticket.key}.", replace_original=True)


def on_confirm_skip(ack: Ack, respond: Respond) -> None:
    ack()
    respond(delete_original=True)
