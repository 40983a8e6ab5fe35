"""Block actions: ticket-card and App Home controls, the duplicate buttons, capture confirmations."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.web import WebClient
from sqlmodel import Session

from bot.intake import linking, service as intake
from bot.tickets import actions as ticket_actions, blocks, home
from bot.errors import UserInputError
from bot.tickets.permissions import TriageTeam, load_team, require_triager, require_triager_or_reporter
from bot.tickets.service import get_ticket
from handlers.context import db, team_of
from bot.runtime.settings import Settings
from handlers.directory import Directory
from handlers.later import guarded, later, open_view_later
from handlers.messages import fetch_message, report_from_message, with_permalink
from models.db import session_scope
from models.tables import Ticket
from models.types import utcnow

# What a card/App Home control does: (session, ticket, the clicking user, the action payload).
Change = Callable[[Session, Ticket, str, dict[str, Any]], Any]


def register(app: App, *, settings: Settings, directory: Directory) -> None:

    def team(session: Session, body: dict[str, Any]) -> TriageTeam:
        return load_team(session, team_id=team_of(body), settings=settings, usergroup_members=directory.usergroup_members())

    def card_change(action: str, apply: Change, *, reporter_may: bool = False) -> Callable[..., None]:
        def listener(ack: Ack, body: dict[str, Any], context: Any, respond: Respond) -> None:
            ack()
            session = db(context)
            user = body["user"]["id"]
            try:
                ticket = get_ticket(session, team_id=team_of(body), key=_card_key(body))
                if reporter_may:
                    require_triager_or_reporter(team(session, body), user=user, ticket=ticket, action=action)
                else:
                    require_triager(team(session, body), user=user, action=action)
                apply(session, ticket, user, body)
            except UserInputError as exc:
                session.rollback()  # a refusal changes nothing
                _tell(session, body, context, respond, exc, refresh=refresh_home)
                return
            refresh_home(session, body, notice=None)

        return listener

    def refresh_home(session: Session, body: dict[str, Any], *, notice: str | None) -> None:
        """A click in the App Home: publish it again, so it shows the change (or the refusal)."""
        if not _from_home(body):
            return
        user = body["user"]["id"]
        view = home.home_view(
            session, team_id=team_of(body), user=user, is_triager=team(session, body).includes(user),
            settings=settings, now=utcnow(), notice=notice,
        )
        home.publish(session, team_id=team_of(body), user=user, view=view)

    def on_resolve(ack: Ack, body: dict[str, Any], context: Any, client: WebClient, respond: Respond) -> None:
        """The card's Resolve…: ask for the note in a modal (resolved on submission, handlers/views.py)."""
        ack()
        session = db(context)
        try:
            ticket = get_ticket(session, team_id=team_of(body), key=_card_key(body))
            require_triager(team(session, body), user=body["user"]["id"], action="resolve tickets")
            if ticket.status in ticket_actions.CLOSED:
                raise UserInputError(f"{ticket.key} is already {ticket.status.replace('_', ' ')}.")
        except UserInputError as exc:
            session.rollback()
            _tell(session, body, context, respond, exc, refresh=refresh_home)
            return
        meta = json.dumps({"key": ticket.key, "home": _from_home(body)})
        # A modal must open within 3 s of the click: a direct call right after the ack, not the outbox.
        open_view_later(context, client=client, trigger_id=body["trigger_id"], view=blocks.resolve_modal(ticket, private_metadata=meta),
                        response_url=body.get("response_url"), retry=f"Please click Resolve… on {ticket.key} again.")

    app.action("set_category")(card_change("change the category", lambda s, t, u, b: ticket_actions.set_category(s, t, actor=u, category=_selected(b))))
    app.action("set_severity")(card_change("change severity", lambda s, t, u, b: ticket_actions.set_severity(s, t, actor=u, severity=_selected(b))))
    app.action("assign_me")(card_change("assign tickets", lambda s, t, u, b: ticket_actions.assign(s, t, actor=u, assignee=u)))
    # The reporter may close their own report: "Not an issue" on the card, "Close" in the App Home.
    app.action("not_an_issue")(card_change("close it as not an issue", lambda s, t, u, b: ticket_actions.not_an_issue(s, t, actor=u), reporter_may=True))
    app.action(blocks.CLOSE)(card_change("close it", lambda s, t, u, b: ticket_actions.close(s, t, actor=u), reporter_may=True))
    app.action(blocks.REOPEN)(card_change("reopen tickets", lambda s, t, u, b: ticket_actions.reopen(s, t, actor=u)))
    app.action(blocks.RESOLVE)(on_resolve)

    def split(ack: Ack, body: dict[str, Any], context: Any, client: WebClient, respond: Respond) -> None:
        on_not_a_duplicate(ack, body, context, client, respond, team=team)

    app.action(linking.SPLIT_ACTION)(split)

    def duplicate_decision(same: bool) -> Callable[..., None]:
        """*Same problem* / *Different* under a suggestion: the reporter or the triage team decides."""

        def listener(ack: Ack, body: dict[str, Any], context: Any, respond: Respond) -> None:
            ack()
            session = db(context)
            user = body["user"]["id"]
            value = json.loads(body["actions"][0]["value"])
            try:
                ticket = get_ticket(session, team_id=team_of(body), key=value["ticket"])
                require_triager_or_reporter(team(session, body), user=user, ticket=ticket, action="decide whether it is a duplicate")
                if same:
                    original = linking.decide_same(session, team_id=team_of(body), ticket_key=value["ticket"], other_key=value["other"], actor=user)
                    said = f"<@{user}> said it is the same problem: {ticket.key} is closed as a duplicate of {original.key}, and its people joined it."
                else:
                    linking.decide_different(session, team_id=team_of(body), ticket_key=value["ticket"], other_key=value["other"], actor=user)
                    said = f"<@{user}> said {ticket.key} is a different problem from {value['other']}; I won't suggest it again."
            except UserInputError as exc:
                session.rollback()
                _tell(session, body, context, respond, exc, refresh=refresh_home)
                return
            # By response_url once the decision is committed, never inside the transaction.
            later(context, lambda: respond(text=said, blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": said}]}], replace_original=True))

        return listener

    app.action(linking.SAME_ACTION)(duplicate_decision(True))
    app.action(linking.DIFFERENT_ACTION)(duplicate_decision(False))
    app.action(intake.CONFIRM_FILE)(on_confirm_file)
    app.action(intake.CONFIRM_SKIP)(on_confirm_skip)


def _card_key(body: dict[str, Any]) -> str:
    action = body["actions"][0]
    if action.get("type") == "button":
        return str(action.get("value", ""))
    return str(action.get("block_id", "")).split(":", 1)[-1]  # card_actions:HC-12


def _selected(body: dict[str, Any]) -> str:
    return str((body["actions"][0].get("selected_option") or {}).get("value", ""))


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get("type") == "home"


def _tell(session: Session, body: dict[str, Any], context: Any, respond: Respond, exc: UserInputError, *, refresh: Any) -> None:
    """Say what went wrong where the click happened: ephemerally (after the ack), or at the top of the App Home."""
    if _from_home(body):
        refresh(session, body, notice=str(exc))  # committed by the request's transaction
    elif body.get("response_url"):
        answer = blocks.error_reply(exc)
        later(context, lambda: respond(**answer, replace_original=False))


def on_not_a_duplicate(
    ack: Ack, body: dict[str, Any], context: Any, client: WebClient, respond: Respond, *, team: Callable[[Session, dict[str, Any]], TriageTeam]
) -> None:
    """The reporter says their report is a different problem: file it on its own. The triage team
    or the two reporters may (bot.tickets.permissions.require_may_split). After the ack: the message is read
    from Slack only for someone who may, then one short transaction checks again, unlinks and files it."""
    ack()
    value = json.loads(body["actions"][0]["value"])
    engine, team_id, user = db(context).get_bind(), team_of(body), body["user"]["id"]

    def split() -> None:
        try:
            with session_scope(engine) as session:
                linking.check_may_unlink(session, team_id=team_id, channel=value["channel"], ts=value["ts"], actor=user, team=team(session, body))
        except UserInputError as exc:
            respond(**blocks.error_reply(exc), replace_original=False)
            return
        message = fetch_message(client, channel=value["channel"], ts=value["ts"])
        if message is None:
            respond(**blocks.ephemeral("I can't find the original message any more, so I can't file it separately."), replace_original=False)
            return
        report = with_permalink(client, report_from_message(message, team_id=team_id, channel=value["channel"]))
        try:
            with session_scope(engine) as session:
                if linking.unlink_report(session, team_id=team_id, channel=value["channel"], ts=value["ts"], actor=user, team=team(session, body)) is None:
                    filed = None
                else:
                    filed = intake.file_report(session, report=report, source="message", actor=user, check_duplicates=False)
        except UserInputError as exc:  # not the triage team, nor one of the two reporters: nothing changed
            respond(**blocks.error_reply(exc), replace_original=False)
            return
        if filed is None:
            respond(**blocks.ephemeral("This report was already filed separately."), replace_original=False)
            return
        respond(text=f"Filed separately as {filed.ticket.key} (not part of {value['ticket']}).", replace_original=True)

    later(context, guarded(split, response_url=body.get("response_url")))


def on_confirm_file(ack: Ack, body: dict[str, Any], context: Any, client: WebClient, respond: Respond) -> None:
    """"File it" on the capture prompt: read the message from Slack after the ack, then file it."""
    ack()
    value = json.loads(body["actions"][0]["value"])
    engine, team_id, user = db(context).get_bind(), team_of(body), body["user"]["id"]

    def file_it() -> None:
        message = fetch_message(client, channel=value["channel"], ts=value["ts"])
        if message is None:
            respond(text="I can't find that message any more, so there is nothing to file.", replace_original=True)
            return
        report = with_permalink(client, report_from_message(message, team_id=team_id, channel=value["channel"]))
        with session_scope(engine) as session:
            filed = intake.file_report(session, report=report, source="message", actor=user)
            answer = f"{'Filed as' if filed.created else 'Linked to'} {filed.ticket.key}."
        respond(text=answer, replace_original=True)

    later(context, guarded(file_it, response_url=body.get("response_url")))


def on_confirm_skip(ack: Ack, context: Any, respond: Respond) -> None:
    ack()
    later(context, lambda: respond(delete_original=True))
