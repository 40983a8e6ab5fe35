"""Posts neither lost nor doubled under Slack's real failures (issue 13, item 2), over HTTP: a
report's card reaches its thread exactly once when Slack answers HTTP 200 with a transient
`ok:false`, when the post took effect and then the answer was a 500, an `internal_error` or a
reset connection, and when the process died with the post in flight after an earlier 429."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from models.db import make_engine
from models.tables import OutboxMessage, Ticket
from tests.conftest import SIGNING_SECRET, RunningBot, start_bot, stop_bot
from tests.fake_slack import FakeSlack, Json
from tests.slack_requests import SlackSender, new_ts
from tests.test_crash_recovery import BotProcess, processes, wait_until  # noqa: F401 (processes: a fixture)

REPORT = "Checkout fails with error 502 for every card payment since 9:00"


def is_card(params: Json) -> bool:
    blocks = params.get("blocks")
    return isinstance(blocks, list) and bool(blocks) and blocks[0].get("block_id") == "card"


def cards_in_thread(fake: FakeSlack, channel: str, thread_ts: str) -> list[Json]:
    """What people see in the report's thread: the bot's cards there, however many were posted."""
    return [m for m in fake.messages_in(channel, thread_ts=thread_ts) if m["ts"] != thread_ts and is_card(m)]


def card_row(engine) -> OutboxMessage:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.on_result == "ticket_card")).scalars().one()


@pytest.fixture
def quick_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False, retry_base_seconds=0.05)
    yield running
    stop_bot(running)


def report(fake: FakeSlack, sender: SlackSender) -> str:
    """A report as Slack has it: in the channel's history, and sent to the bot as an event."""
    ts = new_ts()
    fake.add_message(channel="C100", ts=ts, user="U300", text=REPORT)
    sent = sender.message(channel="C100", user="U300", text=REPORT, ts=ts)
    assert sent.status == 200
    return ts


def report_and_settle(bot: RunningBot) -> str:
    ts = report(bot.fake, bot.slack)
    bot.settle(timeout=30)
    time.sleep(0.3)  # anything sent twice would have arrived
    return ts


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"])
def test_an_http_200_transient_error_is_retried_not_dropped(quick_bot: RunningBot, error: str) -> None:
    bot = quick_bot
    bot.fake.fail_matching("chat.postMessage", where=is_card, status=200, error=error, times=1)
    thread = report_and_settle(bot)
    refused = [c for c in bot.fake.calls_to("chat.postMessage") if is_card(c.params) and not c.response.get("ok")]
    assert [c.response["error"] for c in refused] == [error], "premise: Slack refused the first card"
    assert len(cards_in_thread(bot.fake, "C100", thread)) == 1, "the card arrived, once"
    row = card_row(bot.engine)
    assert (row.status, row.attempts) == ("done", 2)


@pytest.mark.parametrize("how", [
    {"status": 500}, {"status": 503}, {"status": 200, "error": "internal_error"}, {"status": 200, "error": "fatal_error"}, {"reset": True},
], ids=["500", "503", "internal_error", "fatal_error", "connection-reset"])
def test_a_post_that_took_effect_then_failed_is_looked_up_not_sent_again(quick_bot: RunningBot, how: dict) -> None:
    bot = quick_bot
    bot.fake.fail_after_effect("chat.postMessage", where=is_card, times=1, **how)
    thread = report_and_settle(bot)
    [card] = cards_in_thread(bot.fake, "C100", thread)
    assert len([c for c in bot.fake.calls_to("chat.postMessage") if is_card(c.params)]) == 1, "sent once: no client-side re-send"
    assert any(c.params.get("ts") == thread for c in bot.fake.calls_to("conversations.replies")), "looked in the thread first"
    row = card_row(bot.engine)
    assert row.status == "done" and row.result is not None and row.result.get("recovered") is True
    with Session(bot.engine) as session:
        ticket = session.exec(select(Ticket)).scalars().one()
    assert ticket.card_ts == card["ts"], "the card found is the ticket's card: later updates edit it"


def test_a_post_refused_with_5xx_before_taking_effect_is_sent_again(quick_bot: RunningBot) -> None:
    bot = quick_bot
    bot.fake.fail_matching("chat.postMessage", where=is_card, status=500, times=2)
    thread = report_and_settle(bot)
    assert len(cards_in_thread(bot.fake, "C100", thread)) == 1
    row = card_row(bot.engine)
    assert (row.status, row.attempts) == ("done", 3)


def test_after_a_429_and_a_crash_mid_post_the_post_is_looked_up_not_repeated(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, processes: list[BotProcess]
) -> None:
    """Attempt 1 is refused (429: nothing posted) and records that; attempt 2 reaches Slack, which
    posts and answers late, and the process is killed meanwhile. Attempt 3, after the restart,
    must not trust attempt 1's error: it looks first and finds the post."""
    single = {"HYPERCARE_WORKER_PROCESSES": "0"}  # the workers die with the process at kill -9
    first = BotProcess(fake=fake_slack, database_url=database_url, workers=2, tmp_path=tmp_path, extra_env=single)
    processes.append(first)
    fake_slack.fail_matching("chat.postMessage", where=is_card, status=429, times=1)
    fake_slack.delay_next("chat.postMessage", seconds=0)   # the 429 comes at once
    fake_slack.delay_next("chat.postMessage", seconds=30)  # the second attempt's post: taken, answered late
    thread = report(fake_slack, SlackSender(base_url=first.url, signing_secret=SIGNING_SECRET))
    wait_until(lambda: len(cards_in_thread(fake_slack, "C100", thread)) == 1, timeout=20)
    engine = make_engine(database_url)
    assert (card_row(engine).error or "").startswith("rate limited"), "premise: attempt 1's error is still on the row"
    first.kill_9()

    processes.append(BotProcess(fake=fake_slack, database_url=database_url, workers=2, tmp_path=tmp_path, extra_env=single))
    wait_until(lambda: card_row(engine).status == "done", timeout=30)
    time.sleep(0.5)
    assert len(cards_in_thread(fake_slack, "C100", thread)) == 1, "not posted again"
    row = card_row(engine)
    assert row.attempts == 3 and row.result is not None and row.result.get("recovered") is True
    engine.dispose()

