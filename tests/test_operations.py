"""Operations (issue 13, item 6): `hypercare run` restarts a worker process that dies; /healthz
reports worker liveness and queue age (503 when work is stuck) without exception text; done inbox
and outbox rows are deleted after HYPERCARE_RETENTION_DAYS; deleted text does not stay readable in
the SQLite files."""
from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot.delivery import retention
from models.tables import OutboxMessage, SlackEvent, Ticket
from models.types import utcnow
from tests.conftest import SIGNING_SECRET, RunningBot, card_posts, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.slack_requests import SlackSender
from tests.test_crash_recovery import BotProcess, processes, wait_until  # noqa: F401 (processes: a fixture)


def get_health(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())



def test_a_worker_process_that_dies_is_restarted_and_the_next_report_is_answered(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, processes: list[BotProcess]
) -> None:
    bot = BotProcess(fake=fake_slack, database_url=database_url, workers=2, tmp_path=tmp_path)
    processes.append(bot)
    code, answer = get_health(bot.url)
    [worker] = answer["workers"]["processes"]
    assert code == 200 and worker["alive"] is True and worker["ready"] is True and worker["restarts"] == 0
    os.kill(worker["pid"], signal.SIGKILL)

    sender = SlackSender(base_url=bot.url, signing_secret=SIGNING_SECRET)
    report = sender.message(channel="C100", user="U300", text="Invoices show the wrong VAT rate for Austria since 9:00")
    assert report.status == 200, "the receiver still acknowledges"
    wait_until(lambda: any(c.params.get("thread_ts") == report.ts for c in card_posts(fake_slack)), timeout=30)
    code, answer = get_health(bot.url)
    [again] = answer["workers"]["processes"]
    assert code == 200 and again["alive"] is True and again["ready"] is True and again["restarts"] == 1 and again["pid"] != worker["pid"]
    assert "restarting" in (tmp_path / f"bot-{bot.port}.log").read_text()


@pytest.fixture
def receive_only(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    """Nobody works the queues here: what it stores waits (as with every worker dead)."""
    running = start_bot(fake=fake_slack, database_url=database_url, workers=0, scheduler_enabled=False, health_stuck_seconds=1.0)
    yield running
    stop_bot(running)


def test_healthz_answers_503_with_the_queue_age_when_work_is_stuck(receive_only: RunningBot) -> None:
    bot = receive_only
    code, answer = get_health(bot.server.url)
    assert code == 200 and answer["ok"] is True and answer["queues"]["inbox"]["due"] == 0
    assert bot.slack.message(channel="C100", user="U300", text="Search is down for everyone").status == 200
    assert bot.hypercare.inbox_writer.wait_drained(timeout=5)
    time.sleep(1.5)
    code, answer = get_health(bot.server.url)
    assert code == 503 and answer["ok"] is False
    assert answer["queues"]["inbox"]["due"] == 1 and answer["queues"]["inbox"]["oldest_due_seconds"] >= 1.0
    assert any("inbox work is stuck" in problem for problem in answer["problems"])


def test_healthz_answers_503_when_a_worker_of_this_process_stopped(bot: RunningBot) -> None:
    assert get_health(bot.server.url)[0] == 200
    bot.hypercare.outbox.stop()
    code, answer = get_health(bot.server.url)
    assert code == 503 and answer["workers"]["threads"] == {"inbox": True, "outbox": False}
    bot.hypercare.outbox.start()
    assert get_health(bot.server.url)[0] == 200


def test_healthz_says_the_database_failed_without_the_exception_text(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    bot.hypercare.inbox.stop()
    bot.hypercare.outbox.stop()
    with bot.engine.begin() as connection:
        connection.execute(text("ALTER TABLE slack_event RENAME TO slack_event_gone"))
    code, answer = get_health(bot.server.url)
    assert code == 503 and answer["ok"] is False and answer["database"] == "unavailable"
    public = json.dumps(answer).lower()
    assert "slack_event" not in public and "no such table" not in public and "does not exist" not in public and "error)" not in public
    assert any(answer["error_id"] in r.getMessage() for r in caplog.records), "the error id leads to the logged exception"
    with bot.engine.begin() as connection:
        connection.execute(text("ALTER TABLE slack_event_gone RENAME TO slack_event"))


def count(bot: RunningBot, model: type) -> int:
    with Session(bot.engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_done_rows_are_deleted_after_the_retention_days(fake_slack: FakeSlack, database_url: str) -> None:
    bot = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False, retention_days=30.0)
    try:
        sent = bot.slack.message(channel="C100", user="U300", text="Login fails with error 502 since this morning's deploy")
        assert sent.status == 200
        bot.settle()
        with Session(bot.engine) as session:
            # A parked post, finished now too: kept for diagnosis as long as the done rows.
            session.add(OutboxMessage(method="chat.postMessage", params={"channel": "C100", "text": "never delivered"}, status="failed",
                                      error="channel_not_found", finished_at=utcnow()))
            session.commit()
        outbox_rows, events = count(bot, OutboxMessage), count(bot, SlackEvent)
        assert outbox_rows >= 3 and events == 1, "premise: the card, its reaction, the parked post; the event"

        # The scheduler's hourly job, run as if 29 days, then 31 days, had passed.
        assert retention.run(engine=bot.engine, days=bot.hypercare.settings.retention_days, now=utcnow() + timedelta(days=29)) == {"slack_event": 0, "outbox_message": 0}
        assert (count(bot, OutboxMessage), count(bot, SlackEvent)) == (outbox_rows, events), "kept for 30 days"
        deleted = retention.run(engine=bot.engine, days=bot.hypercare.settings.retention_days, now=utcnow() + timedelta(days=31))
        assert deleted == {"slack_event": 1, "outbox_message": outbox_rows}
        with Session(bot.engine) as session:
            left = list(session.exec(select(OutboxMessage)).scalars())
            assert [r for r in left if r.status in ("done", "failed")] == [], "done and parked rows are gone"
            assert session.get(SlackEvent, sent.event_id) is None
            assert len(list(session.exec(select(Ticket)).scalars())) == 1, "the ticket itself stays"
    finally:
        stop_bot(bot)


def test_deleted_text_does_not_stay_in_the_sqlite_files(fake_slack: FakeSlack, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a property of the SQLite files (PostgreSQL: see docs/delivery.md)")
    said, parked = "zebraquartz7731", "okapimarble2208"
    bot = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    try:
        # Chatter, not a report: its text lives only in the stored event until the event is
        # handled and its body cut down to ids (and in the spool until moved) ...
        chatter = bot.slack.message(channel="C100", user="U300", text=f"thanks all, lunch at {said} is on me")
        # ... and an event parked with its body (for diagnosis) until retention deletes it.
        odd = bot.slack.event(event={"type": "message", "channel": "C101", "ts": "1700000000.000100", "user": {"id": "U1"}, "text": f"call {parked} now"})
        assert chatter.status == odd.status == 200
        bot.settle()
        with Session(bot.engine) as session:
            assert list(session.exec(select(Ticket)).scalars()) == [], "premise: nothing was filed"
            event = session.get(SlackEvent, chatter.event_id)
            assert event is not None and event.status == "done" and said not in json.dumps(event.body)
            kept = session.get(SlackEvent, odd.event_id)
            assert kept is not None and kept.status == "failed" and parked in json.dumps(kept.body)
        retention.run(engine=bot.engine, days=30, now=utcnow() + timedelta(days=31))
        with Session(bot.engine) as session:
            assert session.get(SlackEvent, odd.event_id) is None
        path = Path(make_url(database_url).database or "")
        time.sleep(1.5)  # the spool's mover empties its -wal file once idle
        files = sorted(p for p in path.parent.iterdir() if p.name.startswith(path.name) and p.is_file())
        assert any(p.name.endswith(".inbox-spool") for p in files) and path in files
        holding = [(p.name, text) for p in files for text in (said, parked) if text.encode() in p.read_bytes()]
        assert holding == [], f"the text is still readable in {holding}"
    finally:
        stop_bot(bot)
