"""Every capture path from a message over real HTTP: chatter, capture modes, the card, the :ticket:
reaction, threads, edits, duplicates, masking. (The shortcut and modal paths: test_intake_forms.py.)"""
from __future__ import annotations

import json
import time

from sqlalchemy import select
from sqlmodel import Session

from bot.followups import questions as followups
from bot.tickets.blocks import CATEGORY_LABEL
from models.followup_tables import Followup
from models.tables import OutboxMessage, SlackEvent, Ticket, TicketEvent
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
    [ask] = bot.fake.wait_for("chat.postEphemeral")
    assert (ask.params["user"], ask.params["channel"], ask.params["text"]) == ("U2", "C100", "File this as a ticket?")
    buttons = ask.params["blocks"][1]["elements"]
    assert [(b["type"], b["text"]["text"]) for b in buttons] == [("button", "File ticket"), ("button", "No, thanks")]
    assert bot.fake.calls_to("chat.postMessage") == [] and bot.fake.calls_to("reactions.add") == [], "nothing public before the author agrees"
    bot.fake.add_message(channel="C100", ts=report.ts or "", user="U2", text="Search results are empty for every query since noon")
    clicked = bot.slack.block_action(action_id=buttons[0]["action_id"], value=buttons[0]["value"], user="U2", response_url=bot.fake.response_url(key="confirm"))
    assert clicked.status == 200
    bot.settle()
    assert [(t.reporter, t.message_ts) for t in tickets(bot)] == [("U2", report.ts)]
    assert "Filed as HC-1" in bot.fake.wait_for("response_url:confirm")[0].params["text"]
    assert [c.params["thread_ts"] for c in card_posts(bot.fake)] == [report.ts]
    # "No, thanks" files nothing and takes the question away.
    other = bot.slack.message(channel="C100", user="U3", text="The invoice PDF shows the wrong VAT amount")
    bot.settle()
    second = bot.fake.wait_for("chat.postEphemeral", count=2)[1]
    assert second.params["user"] == "U3" and json.loads(second.params["blocks"][1]["elements"][1]["value"])["ts"] == other.ts
    skip = second.params["blocks"][1]["elements"][1]
    bot.slack.block_action(action_id=skip["action_id"], value=skip["value"], user="U3", response_url=bot.fake.response_url(key="skip"))
    bot.settle()
    assert bot.fake.wait_for("response_url:skip")[0].params.get("delete_original") is True
    assert len(tickets(bot)) == 1


def test_acknowledgement_is_a_card_in_the_thread_with_its_controls_and_reasons(bot: RunningBot) -> None:
    sent = bot.slack.message(channel="C100", user="U1", text="Login fails with error 502 after the deploy")
    bot.settle()
    [ticket] = tickets(bot)
    [card] = card_posts(bot.fake)
    assert (card.params["channel"], card.params["thread_ts"]) == ("C100", sent.ts)
    shown = card.params["blocks"][0]["text"]["text"]
    assert "*HC-1*" in shown and f"*{CATEGORY_LABEL[ticket.category]}*" in shown and f"severity *{ticket.severity}*" in shown
    controls = {e["action_id"]: e for e in card.params["blocks"][1]["elements"]}
    assert set(controls) == {"set_category", "set_severity", "assign_me", "resolve_ticket", "not_an_issue"}
    assert controls["set_category"]["initial_option"]["value"] == ticket.category
    assert controls["set_severity"]["initial_option"]["value"] == ticket.severity
    assert controls["not_an_issue"]["text"]["text"] == "Not an issue"
    assert all(c.params.get("thread_ts") == sent.ts for c in bot.fake.calls_to("chat.postMessage")), "never in the channel"
    assert [(r.params["channel"], r.params["timestamp"], r.params["name"]) for r in bot.fake.calls_to("reactions.add")] == [("C100", sent.ts, "ticket")]
    # Every automatic choice says why, in the ticket's history.
    reasons = [e.note or "" for e in history(bot, "triage")]
    assert any(r.startswith(f"category {ticket.category}") for r in reasons), reasons
    assert any(r.startswith(f"severity {ticket.severity}") for r in reasons), reasons
    assert ticket.missing and "steps" in ticket.missing, "a bug report without steps says so"


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
    calls_after_first = len(bot.fake.calls)
    assert bot.slack.event(event={**reaction, "user": "U_OTHER", "event_ts": new_ts()}).status == 200
    bot.settle()
    filed = tickets(bot)
    assert [(t.reporter, t.message_ts, t.source) for t in filed] == [("U_AUTHOR", ts, "reaction")]
    assert [e.actor for e in history(bot, "created")] == ["U_REACTOR"], "who reacted is in the history; the reporter is the author"
    assert len(card_posts(bot.fake)) == 1
    posted_after = [c.method for c in bot.fake.calls[calls_after_first:] if not c.method.startswith("conversations.") and c.method != "chat.getPermalink"]
    assert posted_after == [], "a second reaction posts, reacts and changes nothing"
    # A reply in some thread is fetched with conversations.replies and filed as its author's.
    parent, reply = new_ts(), new_ts()
    bot.fake.add_message(channel="C101", ts=parent, user="U_LEAD", text="release 2.4 is out, shout if you see anything")
    bot.fake.add_message(channel="C101", ts=reply, user="U_REPLIER", text="the PDF export in 2.4 cuts off the last page", thread_ts=parent)
    bot.slack.event(event={**reaction, "item": {"type": "message", "channel": "C101", "ts": reply}, "event_ts": new_ts()})
    bot.settle()
    assert [(t.reporter, t.message_ts, t.thread_ts) for t in tickets(bot)][1:] == [("U_REPLIER", reply, parent)]
    assert bot.fake.calls_to("conversations.replies")


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


def test_an_edit_that_adds_missing_details_counts_as_the_answer(bot: RunningBot) -> None:
    report = bot.slack.message(channel="C100", user="U1", text="Checkout fails with error 502 when I click Pay on Safari 18")
    bot.settle()
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.missing) == ("needs_info", ["steps", "expected"])
    edited = {"type": "message", "subtype": "message_changed", "channel": "C100", "ts": new_ts(),
              "message": {"type": "message", "user": "U1", "ts": report.ts,
                          "text": "Checkout fails with error 503 when I click Pay. Steps: open the cart, click Pay. Expected: a receipt"}}
    assert bot.slack.event(event=edited).status == 200
    bot.settle()
    [ticket] = tickets(bot)
    assert ticket.title == "Checkout fails with error 503 when I click Pay", "the title follows the edited text"
    assert (ticket.steps, ticket.expected) == ("open the cart, click Pay.", "a receipt")
    assert (ticket.status, ticket.missing) == ("new", [])
    thanks = [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == report.ts and "recorded" in c.params["text"]]
    assert len(thanks) == 1 and "has everything the team needs" in thanks[0].params["text"]
    updates = [c for c in bot.fake.calls_to("chat.update") if "error 503" in json.dumps(c.params.get("blocks"))]
    assert updates, "the card in the thread shows the new title"
    assert [e.note for e in history(bot, "changed") if e.field_name == "steps"] == ["added by editing the report"]
    # a second edit that drops the details takes nothing back, and nothing is asked again
    edited["message"] = {**edited["message"], "text": "Checkout fails with error 503 when I click Pay"}
    edited["ts"] = new_ts()
    bot.slack.event(event=edited)
    bot.settle()
    [ticket] = tickets(bot)
    assert (ticket.steps, ticket.expected, ticket.status) == ("open the cart, click Pay.", "a receipt", "new")
    assert len([c for c in bot.fake.calls_to("chat.postMessage") if "recorded" in c.params["text"]]) == 1


def test_duplicate_is_linked_then_split_on_request(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text="Login fails with error 502 since the deploy")
    bot.settle()
    second = bot.slack.message(channel="C101", user="U2", text="can't sign in, getting a 502 error")
    bot.settle()
    [ticket] = tickets(bot)
    assert ticket.affected_users == ["U1", "U2"]
    reply = [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == second.ts][0]
    assert reply.params["text"].startswith("Looks like HC-1 — added you to it")
    [linked] = history(bot, "linked")
    assert linked.actor == "U2" and "<@U2>" in (linked.note or "") and "can't sign in, getting a 502 error" in (linked.note or "")
    button = reply.params["blocks"][1]["elements"][0]
    assert button["text"]["text"] == "No, this is different"
    bot.fake.add_message(channel="C101", ts=second.ts or "", user="U2", text="can't sign in, getting a 502 error")
    bot.slack.block_action(action_id=button["action_id"], value=button["value"], user="U2", channel="C101", response_url=bot.fake.response_url(key="split"))
    bot.settle()
    first, split = tickets(bot)
    assert first.affected_users == ["U1"] and (split.key, split.reporter, split.message_ts) == ("HC-2", "U2", second.ts)
    assert "Filed separately as HC-2" in bot.fake.wait_for("response_url:split")[0].params["text"]


def test_not_an_issue_closes_as_wont_fix_and_quiets_the_thread(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text="The export button seems to be greyed out on the reports page")
    bot.settle()
    [card] = card_posts(bot.fake)
    [question] = [c for c in bot.fake.calls_to("chat.postMessage") if followups.ADD_DETAILS_ACTION in json.dumps(c.params.get("blocks"))]
    posts_before = len(bot.fake.calls_to("chat.postMessage"))
    bot.slack.block_action(action_id="not_an_issue", value="HC-1", user="U1", response_url=bot.fake.response_url(key="x"))
    bot.settle()
    [ticket] = tickets(bot)
    assert ticket.status == "wont_fix" and ticket.resolved_at is not None
    assert len(bot.fake.calls_to("chat.postMessage")) == posts_before, "no announcement adds noise to the thread"
    updates = {c.params["ts"]: c.params for c in bot.fake.calls_to("chat.update")}
    shrunk = updates[card.response["ts"]]  # type: ignore[index]
    assert [b["type"] for b in shrunk["blocks"]] == ["context"] and "closed" in json.dumps(shrunk["blocks"])
    quiet = updates[question.response["ts"]]  # type: ignore[index]
    assert [b["type"] for b in quiet["blocks"]] == ["context"] and followups.ADD_DETAILS_ACTION not in json.dumps(quiet)
    assert "not needed any more" in quiet["text"]
    with Session(bot.engine) as session:
        assert [f.state for f in session.exec(select(Followup)).scalars()] == ["stopped"], "and nothing more is asked"
    assert [(e.field_name, e.new_value, e.note) for e in history(bot, "changed") if e.actor == "U1"][0] == ("status", "wont_fix", "not an issue")


def test_not_an_issue_before_the_question_went_out_means_it_never_goes_out(bot: RunningBot) -> None:
    bot.fake.fail_next("chat.postMessage", status=429, retry_after=2)  # the card waits, and the question behind it
    bot.slack.message(channel="C100", user="U1", text="The export button seems to be greyed out on the reports page")
    deadline = time.monotonic() + 10
    while not tickets(bot) and time.monotonic() < deadline:
        time.sleep(0.05)
    with Session(bot.engine) as session:
        queued = [r for r in session.exec(select(OutboxMessage).where(OutboxMessage.method == "chat.postMessage")).scalars()
                  if followups.ADD_DETAILS_ACTION in json.dumps(r.params.get("blocks"))]
        assert [r.status for r in queued] == ["pending"], "the question is queued behind the card"
    bot.slack.block_action(action_id="not_an_issue", value="HC-1", user="U1", response_url=bot.fake.response_url(key="x"))
    bot.settle()
    assert [t.status for t in tickets(bot)] == ["wont_fix"]
    assert len([c for c in card_posts(bot.fake) if (c.response or {}).get("ok")]) == 1, "the card went out after the 429"
    assert not [c for c in bot.fake.calls_to("chat.postMessage") if followups.ADD_DETAILS_ACTION in json.dumps(c.params.get("blocks"))]
    with Session(bot.engine) as session:
        question = session.get(OutboxMessage, queued[0].id)
        assert question is not None and question.status == "cancelled" and "not an issue" in (question.error or "")


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


SECRETS = ("jane.doe@example.com", "4111 1111 1111 1111", "1234567", "xoxb-123456789012", "max@example.org", "5555 5555 5555 4444",
           "hunter2secret", "(555) 123-4567")
PINGS = ("<!channel>", "<!here>", "<!everyone>", "<!subteam", "<@U_VICTIM", "@channel", "@here", "@everyone")


def test_pii_is_masked_in_storage_and_posts_and_nobody_is_pinged(bot: RunningBot) -> None:
    """Every way text gets in (report, duplicate, thread reply, edit) and everything kept or posted."""
    first = bot.slack.message(channel="C100", user="U1", text=(
        "<!channel> payment fails for jane.doe@example.com, card 4111 1111 1111 1111, call +49 170 1234567, "
        "token xoxb-123456789012-abcdefABCDEF <@U_VICTIM>"))
    bot.settle()
    bot.slack.message(channel="C101", user="U2", text="<!here> <!everyone> payment fails for me too, card 5555 5555 5555 4444, max@example.org <!subteam^S0OPS|@oncall>")
    bot.slack.message(channel="C100", user="U3", thread_ts=first.ts, text="<!here> same, password=hunter2secret, call me at (555) 123-4567 <@U_VICTIM>")
    bot.slack.event(event={"type": "message", "subtype": "message_changed", "channel": "C100", "ts": new_ts(), "message": {
        "type": "message", "user": "U1", "ts": first.ts,
        "text": "<!channel> payment fails for jane.doe@example.com and max@example.org <@U_VICTIM> since 10:00"}})
    bot.settle()
    with Session(bot.engine) as session:
        kept = [[t.title, t.description, t.steps, t.expected, t.actual, t.environment, t.resolution] for t in session.exec(select(Ticket)).scalars()]
        kept += [[e.note, e.old_value, e.new_value] for e in session.exec(select(TicketEvent)).scalars()]
        kept += [[o.params] for o in session.exec(select(OutboxMessage)).scalars()]
        events = list(session.exec(select(SlackEvent)).scalars())
        assert events and all(e.status == "done" and e.body.get("redacted") for e in events), "handled events keep no text"
        kept += [[e.body] for e in events]
    stored = json.dumps(kept)
    posted = json.dumps([c.params for c in bot.fake.calls if c.method.startswith(("chat.", "views.", "response_url"))])
    assert "[email]" in stored and "[card]" in stored and "[secret]" in stored and "[phone]" in stored, "masked, not dropped"
    assert '<@U_VICTIM>' in json.dumps([t[1] for t in kept[:1]]), "user mentions are kept as ids in the description"
    for secret in SECRETS:
        assert secret not in stored and secret not in posted, secret
    for ping in PINGS:
        assert ping not in posted.replace("@\\u200b", ""), ping
    assert len(history(bot, "comment")) == 1 and len(history(bot, "edited")) == 1
