"""Every capture path over real HTTP (issue: intake)."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session

from models.tables import Ticket, TicketEvent
from tests.conftest import RunningBot, card_posts
from tests.slack_requests import new_ts


def tickets(bot: RunningBot) -> list[Ticket]:
    with Session(bot.engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.number)).scalars())


def history(bot: RunningBot, kind: str) -> list[TicketEvent]:
    with Session(bot.engine) as session:
        return list(session.exec(select(TicketEvent).where(TicketEvent.kind == kind).order_by(TicketEvent.id)).scalars())


def test_chatter_is_not_filed(bot: RunningBot) -> None:
    for text in ("thanks!", "ok", "+1", "lunch?", ":tada:", "good morning team", "lgtm"):
        assert bot.slack.message(channel="C100", user="U1", text=text).status == 200
    bot.settle()
    assert tickets(bot) == []
    assert bot.fake.calls_to("chat.postMessage") == [] and bot.fake.calls_to("reactions.add") == []


def test_report_question_and_request_are_filed(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text="The checkout button does nothing on Safari 18")
    bot.slack.message(channel="C101", user="U2", text="How do I export my invoices as PDF?")
    bot.slack.message(channel="C102", user="U3", text="Can we add a dark mode to the dashboard?")
    bot.settle()
    assert sorted(t.category for t in tickets(bot)) == ["bug", "feature_request", "question"]
    for call in bot.fake.calls_to("chat.postMessage"):
        assert call.params.get("thread_ts"), "acknowledgements go in the thread"


def test_capture_confirm_asks_the_author_then_files_on_click(bot: RunningBot) -> None:
    answer = bot.slack.command(text="capture confirm", user="U1", channel="C100").json()
    assert "confirm" in answer["text"]
    report = bot.slack.message(channel="C100", user="U2", text="Search results are empty for every query since noon")
    bot.settle()
    assert tickets(bot) == []
    ask = bot.fake.wait_for("chat.postEphemeral")[0]
    assert ask.params["user"] == "U2" and ask.params["channel"] == "C100"
    button = ask.params["blocks"][1]["elements"][0]
    bot.fake.add_message(channel="C100", ts=report.ts or "", user="U2", text="Search results are empty for every query since noon")
    clicked = bot.slack.block_action(action_id=button["action_id"], value=button["value"], user="U2", response_url=bot.fake.response_url(key="confirm"))
    assert clicked.status == 200
    bot.settle()
    assert [(t.reporter, t.message_ts) for t in tickets(bot)] == [("U2", report.ts)]
    assert "Filed as HC-1" in bot.fake.wait_for("response_url:confirm")[0].params["text"]


def test_capture_off_and_bad_mode(bot: RunningBot) -> None:
    bad = bot.slack.command(text="capture sometimes", channel="C100").json()
    assert bad["response_type"] == "ephemeral" and "/hc capture auto|confirm|off" in json.dumps(bad)
    bot.slack.command(text="capture off", channel="C100")
    bot.slack.message(channel="C100", user="U2", text="The invoice PDF shows the wrong VAT amount")
    bot.settle()
    assert tickets(bot) == []


def test_ticket_reaction_files_the_authors_message_once(bot: RunningBot) -> None:
    ts = new_ts()
    bot.fake.add_message(channel="C100", ts=ts, user="U_AUTHOR", text="fyi the signup form rejects + in e-mail addresses")
    reaction = {"type": "reaction_added", "user": "U_REACTOR", "reaction": "ticket", "item": {"type": "message", "channel": "C100", "ts": ts}, "event_ts": new_ts()}
    assert bot.slack.event(event=reaction).status == 200
    bot.settle()
    assert bot.slack.event(event={**reaction, "user": "U_OTHER", "event_ts": new_ts()}).status == 200
    bot.settle()
    filed = tickets(bot)
    assert [(t.reporter, t.message_ts, t.source) for t in filed] == [("U_AUTHOR", ts, "reaction")]
    assert len(card_posts(bot.fake)) == 1


def test_shortcut_opens_a_prefilled_modal_and_submission_files(bot: RunningBot) -> None:
    ts = new_ts()
    message = {"type": "message", "ts": ts, "user": "U_AUTHOR", "text": "Steps: 1. open billing 2. click download. Expected a PDF, instead error 500 on Chrome 131"}
    assert bot.slack.shortcut(callback_id="hc_create_ticket", message=message, channel="C100", user="U_TRIAGE").status == 200
    view = bot.fake.wait_for("views.open")[0].params["view"]
    prefilled = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["element"]["type"] == "plain_text_input"}
    assert prefilled["title"] and "open billing" in (prefilled["steps"] or "")

    def values(title: str) -> dict[str, dict[str, dict[str, object]]]:
        text_value = lambda v: {"value": {"type": "plain_text_input", "value": v}}  # noqa: E731
        select_value = lambda v: {"value": {"type": "static_select", "selected_option": {"value": v}}}  # noqa: E731
        return {
            "title": text_value(title), "description": text_value(message["text"]), "category": select_value("bug"),
            "severity": select_value("high"), "steps": text_value(prefilled["steps"]), "expected": text_value(None),
            "actual": text_value("error 500"), "environment": text_value("Chrome 131"),
        }

    refused = bot.slack.view_submission(callback_id="hc_new_ticket", values=values(""), private_metadata=view["private_metadata"], user="U_TRIAGE")
    assert refused.json() == {"response_action": "errors", "errors": {"title": "Please give the ticket a short title."}}
    assert tickets(bot) == []
    accepted = bot.slack.view_submission(callback_id="hc_new_ticket", values=values("Billing PDF download fails"), private_metadata=view["private_metadata"], user="U_TRIAGE")
    assert accepted.status == 200
    bot.settle()
    [ticket] = tickets(bot)
    assert (ticket.title, ticket.reporter, ticket.severity, ticket.source, ticket.message_ts) == ("Billing PDF download fails", "U_AUTHOR", "high", "shortcut", ts)
    assert ticket.missing == ["expected"]
    assert bot.fake.calls_to("chat.postMessage")[0].params["thread_ts"] == ts


def test_hc_new_without_text_opens_the_modal(bot: RunningBot) -> None:
    assert bot.slack.command(text="new", channel="C100", trigger_id="trig-99").status == 200
    opened = bot.fake.wait_for("views.open")[0]
    assert opened.params["trigger_id"] == "trig-99" and opened.params["view"]["callback_id"] == "hc_new_ticket"


def test_not_a_member_says_how_to_invite(bot: RunningBot) -> None:
    bot.fake.add_channel(channel_id="G_SECRET", name="secret", is_private=True, is_member=False)
    answer = bot.slack.command(text="new the VPN drops every hour", channel="G_SECRET").json()
    assert answer["response_type"] == "ephemeral" and "/invite @Hypercare" in answer["text"]
    assert tickets(bot) == []


def test_thread_reply_edit_delete_and_files(bot: RunningBot) -> None:
    report = bot.slack.message(channel="C100", user="U1", text="Uploads of PNG screenshots fail with 413", subtype="file_share",
                               files=[{"id": "F1", "name": "shot.png", "permalink": "https://fake.slack.com/files/F1"}])
    bot.settle()
    [ticket] = tickets(bot)
    assert ticket.files == [{"id": "F1", "name": "shot.png", "permalink": "https://fake.slack.com/files/F1"}]
    bot.slack.message(channel="C100", user="U2", text="same here with JPGs", thread_ts=report.ts)
    edited = {"type": "message", "subtype": "message_changed", "channel": "C100", "ts": new_ts(),
              "message": {"type": "message", "user": "U1", "text": "Uploads of PNG and JPG screenshots fail with 413", "ts": report.ts}}
    bot.slack.event(event=edited)
    bot.settle()
    bot.slack.event(event={"type": "message", "subtype": "message_deleted", "channel": "C100", "ts": new_ts(), "deleted_ts": report.ts})
    bot.settle()
    [ticket] = tickets(bot)
    assert "PNG and JPG" in ticket.description
    [edit] = history(bot, "edited")
    assert "PNG screenshots" in (edit.old_value or "") and "PNG and JPG" in (edit.new_value or "")
    assert [c.actor for c in history(bot, "comment")] == ["U2"]
    assert len(history(bot, "deleted")) == 1
    assert len(tickets(bot)) == 1, "replies, edits and deletions never open tickets"


def test_duplicate_is_linked_then_split_on_request(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text="Login fails with error 502 since the deploy")
    bot.settle()
    second = bot.slack.message(channel="C101", user="U2", text="can't sign in, getting a 502 error")
    bot.settle()
    [ticket] = tickets(bot)
    assert ticket.affected_users == ["U1", "U2"]
    reply = [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == second.ts][0]
    assert reply.params["text"].startswith("Looks like HC-1 — added you to it")
    assert "linked" in [e.kind for e in history(bot, "linked")][0]
    button = reply.params["blocks"][1]["elements"][0]
    bot.fake.add_message(channel="C101", ts=second.ts or "", user="U2", text="can't sign in, getting a 502 error")
    bot.slack.block_action(action_id=button["action_id"], value=button["value"], user="U2", channel="C101", response_url=bot.fake.response_url(key="split"))
    bot.settle()
    first, split = tickets(bot)
    assert first.affected_users == ["U1"] and (split.key, split.reporter, split.message_ts) == ("HC-2", "U2", second.ts)
    assert "Filed separately as HC-2" in bot.fake.wait_for("response_url:split")[0].params["text"]


def test_not_an_issue_closes_quietly_and_updates_the_card(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text="The export button seems to be greyed out on the reports page")
    bot.settle()
    bot.slack.block_action(action_id="not_an_issue", value="HC-1", user="U1", response_url=bot.fake.response_url(key="x"))
    bot.settle()
    [ticket] = tickets(bot)
    assert ticket.status == "wont_fix" and ticket.resolved_at is not None
    update = bot.fake.wait_for("chat.update")[-1]
    card = card_posts(bot.fake)[0]
    assert card.response and update.params["ts"] == card.response["ts"]
    assert "closed" in json.dumps(update.params["blocks"]) and len(update.params["blocks"]) == 1


def test_card_selects_change_severity_and_category(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text="The admin list shows deleted users")
    bot.settle()
    for action_id, value in (("set_severity", "critical"), ("set_category", "data")):
        bot.slack.action(payload={
            "type": "block_actions", "user": {"id": "U_TRIAGE"}, "container": {"type": "message", "channel_id": "C100"},
            "channel": {"id": "C100"}, "response_url": bot.fake.response_url(key=action_id),
            "actions": [{"type": "static_select", "action_id": action_id, "block_id": "card_actions:HC-1", "selected_option": {"value": value}}],
        })
    bot.settle()
    [ticket] = tickets(bot)
    assert (ticket.severity, ticket.category) == ("critical", "data") and ticket.first_response_at is not None
    announcements = [c.params["text"] for c in bot.fake.calls_to("chat.postMessage")[1:]]
    assert any("severity → critical" in a for a in announcements) and all(c.params.get("thread_ts") for c in bot.fake.calls_to("chat.postMessage"))


def test_pii_is_masked_in_storage_and_posts_and_nobody_is_pinged(bot: RunningBot) -> None:
    text = "<!channel> payment fails for jane.doe@example.com, card 4111 1111 1111 1111, call +49 170 1234567, token xoxb-123456789012-abcdefABCDEF"
    bot.slack.message(channel="C100", user="U1", text=text)
    bot.settle()
    [ticket] = tickets(bot)
    stored = json.dumps([ticket.title, ticket.description, ticket.steps, ticket.expected, ticket.actual, ticket.environment])
    posted = json.dumps([c.params for c in bot.fake.calls if c.method.startswith("chat.")])
    for secret in ("jane.doe@example.com", "4111 1111 1111 1111", "1234567", "xoxb-123456789012"):
        assert secret not in stored and secret not in posted, secret
    assert "<!channel>" not in posted and "@channel" not in posted.replace("@\\u200bchannel", "")
