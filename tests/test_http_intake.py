"""The spine over real HTTP: signed requests in, Web API calls out to the fake Slack."""
from __future__ import annotations

import time
import urllib.request

from sqlalchemy import func, select
from sqlmodel import Session

from models.tables import OutboxMessage, SlackEvent, Ticket, TicketEvent
from tests.conftest import RunningBot, card_posts
from tests.slack_requests import new_ts, sign


def count(bot: RunningBot, model: type) -> int:
    with Session(bot.engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def all_tickets(bot: RunningBot) -> list[Ticket]:
    with Session(bot.engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.number)).scalars())


def test_slash_command_new_files_a_ticket_and_answers(bot: RunningBot) -> None:
    response = bot.slack.command(text="new Checkout button does nothing on Safari 18", user="U200", channel="C100")
    assert response.status == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert "HC-1" in answer["text"]
    tickets = all_tickets(bot)
    assert [t.key for t in tickets] == ["HC-1"]
    assert tickets[0].reporter == "U200" and tickets[0].channel == "C100" and tickets[0].source == "command"
    # Its card is posted in the channel and becomes the ticket's thread.
    card = bot.fake.wait_for("chat.postMessage")[0]
    assert card.params["channel"] == "C100" and "HC-1" in card.params["text"]
    bot.settle()
    with Session(bot.engine) as session:
        stored = session.get(Ticket, tickets[0].id)
        assert stored is not None and stored.card_ts and stored.thread_ts == stored.card_ts


def test_message_event_is_stored_once_then_filed_in_thread(bot: RunningBot) -> None:
    sent = bot.slack.message(channel="C100", user="U300", text="Login fails with error 502 since this morning's deploy")
    assert sent.status == 200
    bot.settle()
    assert count(bot, SlackEvent) == 1
    with Session(bot.engine) as session:
        event = session.get(SlackEvent, sent.event_id)
        assert event is not None and event.status == "done"
        # Handled: the event keeps what it was, not what was typed (that is on the ticket, masked).
        assert event.body["redacted"] is True and "text" not in event.body["event"]
        assert (event.body["event_id"], event.body["event"]["channel"], event.body["event"]["ts"]) == (sent.event_id, "C100", sent.ts)
    tickets = all_tickets(bot)
    assert len(tickets) == 1 and tickets[0].reporter == "U300" and tickets[0].message_ts == sent.ts
    assert tickets[0].description.startswith("Login fails with error 502")
    posts = card_posts(bot.fake)
    assert len(posts) == 1
    assert all(p.params["thread_ts"] == sent.ts for p in bot.fake.calls_to("chat.postMessage")), "replies go in the thread, never the channel"
    reactions = bot.fake.calls_to("reactions.add")
    assert [(r.params["timestamp"], r.params["name"]) for r in reactions] == [(sent.ts, "ticket")]


def message_event(text: str) -> dict[str, str]:
    return {"type": "message", "channel": "C100", "user": "U300", "text": text, "ts": new_ts(), "channel_type": "channel"}


def test_bad_signature_is_refused_and_stores_nothing(bot: RunningBot) -> None:
    response = bot.slack.event(event=message_event("Payments are down"), secret="not-the-secret")
    assert response.status == 401
    body = b"command=%2Fhc&text=new+payments+down&team_id=T001&user_id=U1&channel_id=C100"
    forged = bot.slack.raw(body=body, headers={"Content-Type": "application/x-www-form-urlencoded", **sign(secret="wrong", body=body)})
    assert forged.status == 401
    time.sleep(0.2)
    assert count(bot, SlackEvent) == 0
    assert count(bot, Ticket) == 0
    assert bot.fake.calls_to("chat.postMessage") == []


def test_stale_timestamp_is_refused(bot: RunningBot) -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    response = bot.slack.event(event=message_event("Payments are down"), timestamp=six_minutes_ago)
    assert response.status == 401
    assert count(bot, SlackEvent) == 0


def test_slack_retry_of_an_event_is_processed_once(bot: RunningBot) -> None:
    first = bot.slack.message(channel="C100", user="U300", text="The export to CSV drops every other row")
    event = {"type": "message", "channel": "C100", "user": "U300", "text": "The export to CSV drops every other row", "ts": first.ts, "channel_type": "channel"}
    retry = bot.slack.event(event=event, event_id=first.event_id, retry_num=1, retry_reason="http_timeout")
    assert first.status == 200 and retry.status == 200
    bot.settle()
    assert count(bot, Ticket) == 1
    assert len(card_posts(bot.fake)) == 1
    with Session(bot.engine) as session:
        stored = session.get(SlackEvent, first.event_id)
        assert stored is not None and stored.retries_seen == 1


def test_own_and_other_bots_messages_are_ignored(bot: RunningBot) -> None:
    own = bot.slack.message(channel="C100", user=bot.fake.bot_user_id, text="HC-1 · Bug · high: Payments failing", bot_id=bot.fake.bot_id)
    other = bot.slack.message(channel="C100", user="U999", text="Deploy failed: payments service down", bot_id="BOTHER", subtype="bot_message")
    assert own.status == 200 and other.status == 200
    bot.settle()
    assert count(bot, Ticket) == 0
    assert bot.fake.calls_to("chat.postMessage") == []
    with Session(bot.engine) as session:
        assert session.get(SlackEvent, own.event_id) is None, "the bot's own events are dropped before storage"


def test_thread_reply_becomes_a_comment_not_a_ticket(bot: RunningBot) -> None:
    report = bot.slack.message(channel="C100", user="U300", text="Search returns nothing for any query on staging")
    bot.settle()
    reply = bot.slack.message(channel="C100", user="U301", text="Same for me since 10:00", thread_ts=report.ts)
    # Even a reply that reads like a new report stays in the thread's ticket.
    bot.slack.message(channel="C100", user="U302", text="Also the checkout page crashes with error 500 on Firefox", thread_ts=report.ts)
    assert reply.status == 200
    bot.settle()
    assert count(bot, Ticket) == 1
    assert len(card_posts(bot.fake)) == 1
    with Session(bot.engine) as session:
        comments = list(session.exec(select(TicketEvent).where(TicketEvent.kind == "comment").order_by(TicketEvent.id)).scalars())
        assert [(c.actor, c.note) for c in comments] == [
            ("U301", "Same for me since 10:00"), ("U302", "Also the checkout page crashes with error 500 on Firefox")]
    # A reply in a thread that is no ticket's is neither a ticket nor a comment.
    events_before = count(bot, TicketEvent)
    chat = bot.slack.message(channel="C101", user="U303", text="lunch?")
    bot.slack.message(channel="C101", user="U304", text="The login page shows error 502 for me", thread_ts=chat.ts)
    bot.settle()
    assert count(bot, Ticket) == 1 and count(bot, TicketEvent) == events_before


def test_healthz(bot: RunningBot) -> None:
    with urllib.request.urlopen(bot.server.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert b'"ok": true' in response.read()


def test_outbox_survives_429_and_500(bot: RunningBot) -> None:
    bot.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    bot.fake.fail_next("chat.postMessage", status=500, times=2)
    bot.slack.message(channel="C100", user="U300", text="Dashboard charts are blank for every customer")
    bot.settle(timeout=30)
    posts = card_posts(bot.fake)
    assert [c.response.get("ok") if c.response else None for c in posts] == [False, False, False, True]  # 429, 500, 500, then delivered
    with Session(bot.engine) as session:
        rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.method == "chat.postMessage")).scalars())
        assert rows and all(r.status == "done" for r in rows)
