"""Delivery that loses nothing (issue 7): resolution notices survive 429s and 5xx, a kill -9 with
messages pending or in flight, and two bot processes sharing one database — each arrives once."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.delivery import outbox
from bot.delivery.outbox import OutboxDelivery
from bot.runtime.slack_client import make_client
from bot.delivery.workers import LaneWorker
from bot.tickets.service import NewTicket, create_ticket
from models.db import make_engine
from models.tables import OutboxMessage
from tests.conftest import SIGNING_SECRET, RunningBot, start_bot
from bot.tickets.outbox_rows import TicketRows
from tests.fake_slack import Call, FakeSlack
from tests.slack_requests import SlackSender, new_ts
from tests.test_crash_recovery import BotProcess, wait_until


@pytest.fixture
def people(fake_slack: FakeSlack) -> list[str]:
    users = [f"U{n}" for n in range(1, 25)]
    for user in users:
        fake_slack.add_user(user_id=user, name=user.lower())
    return users


@pytest.fixture
def quick_bot(fake_slack: FakeSlack, database_url: str, people: list[str]) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False, retry_base_seconds=0.05)
    yield running
    running.server.stop()
    running.hypercare.stop()
    running.hypercare.engine.dispose()


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for process in started:
        process.stop()


def seed(engine: Engine, fake: FakeSlack, *, title: str, reporter: str, affected: list[str], channel: str = "C100") -> str:
    """A filed ticket whose report, thread and card exist in Slack (as after intake); its thread ts."""
    ts = new_ts()
    fake.add_message(channel=channel, ts=ts, user=reporter, text=title)
    with Session(engine, expire_on_commit=False) as session:
        made = create_ticket(session, NewTicket(team_id=fake.team_id, title=title, description=title, category="bug", severity="medium",
                                                reporter=reporter, source="message", channel=channel, message_ts=ts,
                                                permalink=f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"))
        made.card_channel, made.card_ts, made.affected_users = channel, new_ts(), [reporter, *affected]
        session.add(made)
        session.commit()
    return ts


def delivered_dms(fake: FakeSlack, user: str) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage") if c.params.get("channel") == "D" + user and c.response and c.response.get("ok")]


def delivered_in(fake: FakeSlack, channel: str, thread_ts: str) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage") if (c.params.get("channel"), c.params.get("thread_ts")) == (channel, thread_ts) and c.response and c.response.get("ok")]


def unfinished(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(("pending", "working")))).scalar_one())  # type: ignore[attr-defined]


def test_429_then_500_the_notice_still_arrives_once(quick_bot: RunningBot) -> None:
    bot = quick_bot
    thread = seed(bot.engine, bot.fake, title="Checkout times out for carts over 50 items", reporter="U1", affected=["U2"])
    bot.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    bot.fake.fail_next("chat.postMessage", status=500)
    assert bot.slack.command(text="resolve HC-1 Raised the payment gateway timeout", user="U_T1").status == 200
    bot.settle(timeout=40)
    answered = [c.response.get("error") for c in bot.fake.calls_to("chat.postMessage") if c.response and not c.response.get("ok")]
    assert answered == ["ratelimited", "internal_error"], "premise: Slack refused twice"
    assert [len(delivered_dms(bot.fake, u)) for u in ("U1", "U2")] == [1, 1]
    assert len([c for c in delivered_in(bot.fake, "C100", thread) if "resolved HC-1" in c.params["text"]]) == 1
    with Session(bot.engine) as session:
        assert {r.status for r in session.execute(select(OutboxMessage)).scalars()} == {"done"}


def test_a_dm_is_opened_once_and_retried_after_retry_after_and_server_errors(quick_bot: RunningBot) -> None:
    bot = quick_bot
    # The outbox's own retry policy is the only one (the Web API client it uses retries nothing):
    # each refusal costs one attempt.
    bot.fake.fail_next("conversations.open", status=429, retry_after=1, times=3)
    bot.fake.fail_next("chat.postMessage", status=503, times=3)
    with Session(bot.engine) as session:
        row = outbox.enqueue_dm(session, user="U1", text="Your ticket is fixed", team_id=bot.fake.team_id)
        session.commit()
        row_id = row.id
    bot.hypercare.outbox.wake()
    bot.settle(timeout=40)
    opened = [c for c in bot.fake.calls_to("conversations.open") if c.response and c.response.get("ok")]
    assert len(opened) == 1 and len(bot.fake.calls_to("conversations.open")) == 4
    assert [c.params["text"] for c in delivered_dms(bot.fake, "U1")] == ["Your ticket is fixed"]
    assert len(bot.fake.calls_to("chat.postMessage")) == 4, "3 refused with 503, then posted: no client-side re-sends"
    # After a 503 the post may have been made: each later attempt looked in the DM first.
    assert [c.params["channel"] for c in bot.fake.calls_to("conversations.history")] == ["DU1"] * 3
    with Session(bot.engine) as session:
        stored = session.get(OutboxMessage, row_id)
        assert stored is not None and stored.status == "done" and stored.attempts == 3 + 4 and stored.result["channel"] == "DU1"


def test_a_dm_whose_answer_timed_out_is_looked_up_not_sent_twice(quick_bot: RunningBot) -> None:
    bot = quick_bot
    bot.hypercare.outbox.stop()  # this test's worker has a Web API client that gives up after 1 s
    client = make_client(settings=bot.hypercare.settings, timeout=1)
    worker = LaneWorker(name="impatient", engine=bot.engine, model=OutboxMessage, handle=OutboxDelivery(engine=bot.engine, client=client, renderer=TicketRows()), threads=1, poll_interval=0.05)
    bot.fake.delay_next("chat.postMessage", seconds=2)  # Slack posts it, but answers after the client gave up
    with Session(bot.engine) as session:
        outbox.enqueue_dm(session, user="U1", text="HC-1 is fixed", team_id=bot.fake.team_id)
        session.commit()
    worker.start()
    try:
        wait_until(lambda: unfinished(bot.engine) == 0, timeout=20)
    finally:
        worker.stop()
    assert len(bot.fake.calls_to("chat.postMessage")) == 1, "not posted again after the time-out"
    assert [c.params["channel"] for c in bot.fake.calls_to("conversations.history")] == ["DU1"]
    with Session(bot.engine) as session:
        row = session.execute(select(OutboxMessage)).scalars().one()
        assert (row.status, row.attempts, row.result["recovered"]) == ("done", 2, True)


def test_kill_9_with_messages_pending_delivers_them_after_restart_once(
    fake_slack: FakeSlack, database_url: str, people: list[str], tmp_path: Path, processes: list[BotProcess]
) -> None:
    engine = make_engine(database_url)
    thread = seed(engine, fake_slack, title="Exports stop at 10,000 rows", reporter="U1", affected=["U2", "U3"])
    receiver = BotProcess(fake=fake_slack, database_url=database_url, workers=0, tmp_path=tmp_path)  # stores, delivers nothing
    processes.append(receiver)
    sender = SlackSender(base_url=receiver.url, signing_secret=SIGNING_SECRET)
    assert sender.command(text="resolve HC-1 Paginated the export query", user="U_T1").status == 200
    assert unfinished(engine) >= 5, "premise: thread reply, 3 DMs, reaction and card update are waiting"
    receiver.kill_9()
    assert fake_slack.calls_to("chat.postMessage") == []

    processes.append(BotProcess(fake=fake_slack, database_url=database_url, workers=4, tmp_path=tmp_path))
    wait_until(lambda: unfinished(engine) == 0)
    time.sleep(1.0)  # anything sent twice would arrive now
    assert [len(delivered_dms(fake_slack, u)) for u in ("U1", "U2", "U3")] == [1, 1, 1]
    assert len(delivered_in(fake_slack, "C100", thread)) == 1
    assert len(fake_slack.calls_to("reactions.add")) == 1 and len(fake_slack.calls_to("chat.update")) == 1
    engine.dispose()


def test_dms_in_flight_at_kill_9_are_found_not_sent_again(
    fake_slack: FakeSlack, database_url: str, people: list[str], tmp_path: Path, processes: list[BotProcess]
) -> None:
    engine = make_engine(database_url)
    thread = seed(engine, fake_slack, title="Password reset links expire at once", reporter="U1", affected=["U2"])
    first = BotProcess(fake=fake_slack, database_url=database_url, workers=4, tmp_path=tmp_path)
    processes.append(first)
    # Slack takes the thread reply and both DMs at once but answers late: the process dies first.
    fake_slack.delay_next("chat.postMessage", seconds=30, times=3)
    assert SlackSender(base_url=first.url, signing_secret=SIGNING_SECRET).command(text="resolve HC-1 Fixed the token clock skew", user="U_T1").status == 200
    wait_until(lambda: len(fake_slack.calls_to("chat.postMessage")) == 3, timeout=20)
    first.kill_9()

    processes.append(BotProcess(fake=fake_slack, database_url=database_url, workers=4, tmp_path=tmp_path))
    wait_until(lambda: unfinished(engine) == 0)
    time.sleep(1.0)
    assert len(fake_slack.calls_to("chat.postMessage")) == 3, "nothing posted again"
    assert [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")].count("DU1") == 1
    with Session(engine) as session:
        # (by the channel asked for: a row taken over after the crash has left its lane)
        dm_rows = [r for r in session.execute(select(OutboxMessage)).scalars() if str(r.params.get("channel")).startswith(outbox.DM_PREFIX)]
    assert sorted((r.status, r.result["channel"], r.result.get("recovered")) for r in dm_rows) == [("done", "DU1", True), ("done", "DU2", True)]
    assert {c.params["channel"] for c in fake_slack.calls_to("conversations.history")} >= {"DU1", "DU2"}, "looked in the DMs first"
    assert len(fake_slack.calls_to("conversations.open")) == 2, "the DM channels were remembered, not opened again"
    assert len(delivered_in(fake_slack, "C100", thread)) == 1
    engine.dispose()


def test_two_processes_on_one_database_deliver_each_message_once(
    fake_slack: FakeSlack, database_url: str, people: list[str], tmp_path: Path, processes: list[BotProcess]
) -> None:
    engine = make_engine(database_url)
    threads = [seed(engine, fake_slack, title=f"Report number {n} about a broken page", reporter=people[2 * n], affected=[people[2 * n + 1]],
                    channel=("C100", "C101", "C102")[n % 3]) for n in range(12)]
    # each is started when its /healthz says its worker process works the queues: both take part
    bots = [BotProcess(fake=fake_slack, database_url=database_url, workers=4, tmp_path=tmp_path) for _ in range(2)]
    processes.extend(bots)
    fake_slack.delay_next("chat.postMessage", seconds=0.2, times=40)  # slow answers: both processes get work
    senders = [SlackSender(base_url=b.url, signing_secret=SIGNING_SECRET) for b in bots]
    for n in range(12):
        assert senders[n % 2].command(text=f"resolve HC-{n + 1} Fixed in release {n}", user="U_T1").status == 200
    wait_until(lambda: unfinished(engine) == 0, timeout=60)
    time.sleep(1.0)
    for n, thread in enumerate(threads):
        reporter, other = people[2 * n], people[2 * n + 1]
        assert [len(delivered_dms(fake_slack, u)) for u in (reporter, other)] == [1, 1], n
        assert len(delivered_in(fake_slack, ("C100", "C101", "C102")[n % 3], thread)) == 1, n
    assert len(fake_slack.calls_to("chat.postMessage")) == 12 * 3
    assert len(fake_slack.calls_to("reactions.add")) == 12 and len(fake_slack.calls_to("chat.update")) == 12
    with Session(engine) as session:
        owners = set(session.execute(select(OutboxMessage.lease_owner).where(OutboxMessage.status == "done")).scalars())
    assert len(owners) >= 2, "both processes delivered"
    engine.dispose()
