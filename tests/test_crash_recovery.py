"""kill -9 right after Slack got its acknowledgement: nothing is lost, nothing is posted twice."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from models.db import make_engine
from models.tables import OutboxMessage, Ticket
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, card_posts
from tests.fake_slack import FakeSlack
from tests.slack_requests import SlackSender

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    def __init__(self, *, fake: FakeSlack, database_url: str, workers: int, tmp_path: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HYPERCARE_"))}
        env.update({
            "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.url, "DATABASE_URL": database_url, "HYPERCARE_WORKERS": str(workers),
            "HYPERCARE_LEASE_SECONDS": "2", "HYPERCARE_CHANNEL_POST_INTERVAL": "0",
            **(extra_env or {}),
        })
        self.log = open(tmp_path / f"bot-{self.port}.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.runtime.cli", "run", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=tmp_path, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        # /healthz answers 200 once the worker processes work the queues (alive is not enough:
        # a fresh interpreter imports the app for seconds after it is alive).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"bot did not start: {(tmp_path / f'bot-{self.port}.log').read_text()}")

    def kill_9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.log.close()


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for process in started:
        process.stop()


def wait_until(predicate, *, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_reports_acknowledged_by_a_killed_process_are_filed_after_restart(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, processes: list[BotProcess]
) -> None:
    receiver = BotProcess(fake=fake_slack, database_url=database_url, workers=0, tmp_path=tmp_path)
    processes.append(receiver)
    sender = SlackSender(base_url=receiver.url, signing_secret=SIGNING_SECRET)
    texts = [
        "The invoice page crashes with error 500 on Firefox",
        "Password reset e-mails never arrive",
        "Dashboard charts are blank since the release",
        "Uploading a CSV larger than 2 MB times out",
        "The mobile app logs me out every few minutes",
    ]
    sent = [sender.message(channel=f"C{n % 2}", user=f"U{n}", text=text) for n, text in enumerate(texts)]
    assert [r.status for r in sent] == [200] * 5
    receiver.kill_9()

    processes.append(BotProcess(fake=fake_slack, database_url=database_url, workers=4, tmp_path=tmp_path))
    wait_until(lambda: len(card_posts(fake_slack)) >= 5)
    time.sleep(1.0)  # anything extra would arrive now
    assert sorted(c.params["thread_ts"] for c in card_posts(fake_slack)) == sorted(r.ts for r in sent), "one card per report, in its thread"
    posted = [(c.params.get("thread_ts"), c.params.get("text")) for c in fake_slack.calls_to("chat.postMessage")]
    assert len(posted) == len(set(posted)), "nothing posted twice"
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert sorted(t.message_ts or "" for t in session.exec(select(Ticket)).scalars()) == sorted(r.ts or "" for r in sent)
    engine.dispose()


def test_a_post_in_flight_at_kill_9_is_not_posted_again(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, processes: list[BotProcess]
) -> None:
    first = BotProcess(fake=fake_slack, database_url=database_url, workers=2, tmp_path=tmp_path)
    processes.append(first)
    # Slack takes the post at once but answers late: the process dies before it records delivery.
    fake_slack.delay_next("chat.postMessage", seconds=30)
    report = SlackSender(base_url=first.url, signing_secret=SIGNING_SECRET).message(
        channel="C1", user="U1", text="Orders placed after 10:00 are missing from the admin list"
    )
    assert report.status == 200
    wait_until(lambda: len(card_posts(fake_slack)) == 1, timeout=20)
    first.kill_9()

    processes.append(BotProcess(fake=fake_slack, database_url=database_url, workers=2, tmp_path=tmp_path))
    engine = make_engine(database_url)

    card_query = select(OutboxMessage).where(OutboxMessage.method == "chat.postMessage", OutboxMessage.on_result == "ticket_card")

    def delivered() -> bool:
        with Session(engine) as session:
            return [r.status for r in session.exec(card_query).scalars()] == ["done"]

    wait_until(delivered)
    with Session(engine) as session:
        row = session.exec(card_query).scalars().one()
        assert row.result is not None and row.result.get("recovered") is True
        ticket = session.exec(select(Ticket)).scalars().one()
        assert ticket.card_ts == row.result["ts"], "the recovered post is remembered as the ticket card"
    engine.dispose()
    assert len(card_posts(fake_slack)) == 1
    assert fake_slack.calls_to("conversations.replies"), "the restarted bot looked before posting again"
