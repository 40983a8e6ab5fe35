"""One bad item never holds back a channel (issue 13, item 3): a stored event of an unexpected
shape, or a post Slack keeps refusing with 5xx, is retried with backoff beside its channel's lane,
then parked with its error (in /healthz's details and the log), while the reports behind it are
answered."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.delivery import inbox, outbox
from models.tables import OutboxMessage, SlackEvent, Ticket
from tests.conftest import RunningBot, card_posts, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.slack_requests import new_ts
from tests.test_operations import get_health


@pytest.fixture
def lane_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    # Retries 10 ms apart (doubling, capped): the test sees an item parked after its attempts
    # in seconds instead of minutes. Posts paced as in production: one per second per channel.
    running = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False, retry_base_seconds=0.001, channel_post_interval=1.0)
    yield running
    stop_bot(running)


def health(bot: RunningBot) -> tuple[int, dict]:
    return get_health(bot.server.url)


def wait_for(predicate, *, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.parametrize("odd", [
    {"user": {"id": "U300", "name": "someone"}, "text": "Checkout is broken"},
    {"user": "U300", "text": {"type": "rich_text", "elements": []}},
    {"user": ["U300"], "text": 42, "thread_ts": {"ts": "1"}},
], ids=["user-object", "text-object", "everything-odd"])
def test_an_event_of_an_unexpected_shape_does_not_hold_back_the_next_report(lane_bot: RunningBot, odd: dict, caplog: pytest.LogCaptureFixture) -> None:
    bot = lane_bot
    caplog.set_level(logging.INFO, logger="hypercare")
    bad = bot.slack.event(event={"type": "message", "channel": "C100", "ts": "1700000000.000100", "channel_type": "channel", **odd})
    assert bad.status == 200, "a signed event is acknowledged (Slack would retry it otherwise)"
    started = time.monotonic()
    good = bot.slack.message(channel="C100", user="U301", text="Login fails with error 502 since this morning's deploy")
    assert good.status == 200
    assert wait_for(lambda: any(c.params.get("thread_ts") == good.ts for c in card_posts(bot.fake)), timeout=5), \
        "the real report behind the odd event was answered within 5 s"
    assert time.monotonic() - started < 5
    assert len([c for c in card_posts(bot.fake) if c.params.get("thread_ts") == good.ts]) == 1

    # The odd event is parked at once with what was wrong (every attempt would fail alike), shown
    # in /healthz's details and the log; nothing was filed from it.
    def parked() -> bool:
        with Session(bot.engine) as session:
            row = session.get(SlackEvent, bad.event_id)
            return row is not None and row.status == "failed"
    assert wait_for(parked, timeout=10)
    with Session(bot.engine) as session:
        row = session.get(SlackEvent, bad.event_id)
        assert row is not None and (row.error or "").startswith("unexpected shape (event.")
        error = row.error
        assert [t.message_ts for t in session.exec(select(Ticket)).scalars()] == [good.ts], "nothing filed from the odd event"
    code, answer = health(bot)
    assert code == 200, "a parked item is reported, the bot is still healthy"
    assert {"id": bad.event_id, "error": error} .items() <= next(p for p in answer["details"]["inbox"]["parked"] if p["id"] == bad.event_id).items()
    assert answer["queues"]["inbox"]["parked"] == 1
    assert any(bad.event_id in r.getMessage() and "parked" in r.getMessage() for r in caplog.records)


def test_an_event_whose_work_keeps_failing_is_retried_beside_the_lane_then_parked(lane_bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    """A well-shaped :ticket: reaction whose message Slack keeps failing to return (500): it is
    retried beside C101's lane while the next report there is answered, then parked."""
    bot = lane_bot
    caplog.set_level(logging.INFO, logger="hypercare")
    broken_ts = new_ts()
    bot.fake.add_message(channel="C101", ts=broken_ts, user="U300", text="Uploads hang at 99% for files over 2 GB")
    bot.fake.fail_matching("conversations.history", where=lambda p: p.get("latest") == broken_ts, status=500)
    reaction = bot.slack.event(event={"type": "reaction_added", "user": "U302", "reaction": "ticket", "item_user": "U300",
                                      "item": {"type": "message", "channel": "C101", "ts": broken_ts}, "event_ts": new_ts()})
    assert reaction.status == 200
    assert wait_for(lambda: any(c.params.get("latest") == broken_ts for c in bot.fake.calls_to("conversations.history")), timeout=5), "premise: tried"
    good = bot.slack.message(channel="C101", user="U301", text="Search returns nothing for any query since 9:00")
    assert wait_for(lambda: any(c.params.get("thread_ts") == good.ts for c in card_posts(bot.fake)), timeout=5), \
        "the report behind the failing reaction was answered within 5 s"

    def parked() -> bool:
        with Session(bot.engine) as session:
            row = session.get(SlackEvent, reaction.event_id)
            return row is not None and row.status == "failed"
    assert wait_for(parked, timeout=40), "after its attempts the reaction is parked"
    with Session(bot.engine) as session:
        row = session.get(SlackEvent, reaction.event_id)
        assert row is not None and row.attempts == inbox.MAX_ATTEMPTS and "SlackApiError" in (row.error or "")
    code, answer = health(bot)
    [shown] = [p for p in answer["details"]["inbox"]["parked"] if p["id"] == reaction.event_id]
    assert shown["error"] == "SlackApiError" and shown["attempts"] == inbox.MAX_ATTEMPTS, "the kind of error, not its text"
    assert "conversations" not in json.dumps(answer) and "Traceback" not in json.dumps(answer)
    assert any(reaction.event_id in r.getMessage() and "parked after 8" in r.getMessage() for r in caplog.records)


def test_a_post_that_keeps_failing_with_5xx_does_not_hold_its_channel(lane_bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    bot = lane_bot
    caplog.set_level(logging.INFO, logger="hypercare")
    doomed_text = "Reminder: the stand-up moved to 10:30"
    bot.fake.fail_matching("chat.postMessage", where=lambda p: p.get("text") == doomed_text, status=503)
    with Session(bot.engine) as session:
        row = outbox.enqueue(session, method="chat.postMessage", params={"channel": "C100", "text": doomed_text})
        session.commit()
        doomed_id = row.id
    bot.hypercare.outbox.wake()
    assert wait_for(lambda: len(bot.fake.calls_to("chat.postMessage")) >= 1, timeout=5), "premise: the doomed post was tried"
    good = bot.slack.message(channel="C100", user="U301", text="Exports fail with error 500 for every CSV since the deploy")
    assert wait_for(lambda: any(c.params.get("thread_ts") == good.ts and c.response and c.response.get("ok") for c in card_posts(bot.fake)), timeout=5), \
        "the card for the report behind the failing post arrived within 5 s"

    def parked() -> bool:
        with Session(bot.engine) as session:
            stored = session.get(OutboxMessage, doomed_id)
            return stored is not None and stored.status == "failed"
    assert wait_for(parked, timeout=30), "after its attempts the failing post is parked"
    with Session(bot.engine) as session:
        stored = session.get(OutboxMessage, doomed_id)
        assert stored is not None and "503" in (stored.error or "")
        attempts = stored.attempts
    assert attempts == outbox.MAX_ATTEMPTS and len([c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("text") == doomed_text]) == attempts
    assert bot.fake.messages_in("C100") == [m for m in bot.fake.messages_in("C100") if m.get("text") != doomed_text]
    code, answer = health(bot)
    assert doomed_id in [p["id"] for p in answer["details"]["outbox"]["parked"]]
    assert any(f"outbox {doomed_id}" in r.getMessage() and "parked" in r.getMessage() for r in caplog.records)
