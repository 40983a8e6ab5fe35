"""Trackers kept in step (issue 15): auto-push by severity, Slack changes carried to the issue,
the assignee mapped by e-mail, two bots on one PostgreSQL pushing once, and `kill -9` between the
tracker's answer and our record creating no second issue."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from models.db import make_engine
from models.tables import SlackEvent
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, RunningBot, stop_bot
from tests.fake_slack import FakeSlack
from tests.fake_socket_mode import FakeSocketMode
from tests.fake_trackers import GITHUB_TOKEN, FakeTrackers
from tests.slack_requests import SlackSender
from tests.tracker_support import SECRETS, in_thread, link, report, start_tracker_bot, ticket_history, wait_linked, wait_until, webhook
from tests.triage_support import hc, shown, ticket

ROOT = Path(__file__).resolve().parent.parent
CRITICAL = "Production is down: nobody can log in, every user gets error 500 on login since the deploy"
LOW = "The tooltip on the settings page has a typo"


def test_auto_push_sends_only_the_chosen_severities(tbot: RunningBot, trackers: FakeTrackers) -> None:
    bot = tbot
    report(bot, "An old bug from before: the footer overlaps on small screens", user="U2")
    bad = hc(bot, "tracker auto urgent", user="U_T1")
    assert "is not a severity" in shown(bad)
    assert "critical, high" in shown(hc(bot, "tracker auto critical,high", user="U_T1"))
    assert "only the triage team" in shown(hc(bot, "tracker auto all", user="U1")).lower()
    report(bot, LOW, user="U2")
    ts = report(bot, CRITICAL, user="U1")
    assert (ticket(bot, "HC-2").severity, ticket(bot, "HC-3").severity) == ("low", "critical"), "premise"
    [create] = trackers.wait_for("github", "create")
    assert "Production is down" in create.body["title"] and "severity:critical" in create.body["labels"]
    wait_until(lambda: [c for c in in_thread(bot, "C100", ts) if "Tracked in" in c.params["text"] and "acme/shop#1" in c.params["text"]], what="the thread note")
    time.sleep(1.0)  # three more sync rounds: nothing else goes
    assert len(trackers.calls_to("github", "create")) == 1, "the low ticket and the ticket from before stay here"
    assert "Automatic sending: *critical, high*" in shown(hc(bot, "tracker", user="U1"))


def test_changes_in_slack_reach_the_issue_and_nothing_echoes(fake_slack: FakeSlack, trackers: FakeTrackers, database_url: str) -> None:
    fake_slack.add_user(user_id="U_DANA", name="dana", email="dana@example.com")
    bot = start_tracker_bot(fake_slack, trackers, database_url)
    try:
        ts = report(bot, "Checkout fails with error 500 when paying by card", user="U1")
        hc(bot, "push HC-1 jira SHOP", user="U_T1")
        assert wait_linked(bot).external_key == "SHOP-341"
        hc(bot, "severity HC-1 critical", user="U_T1")
        bot.slack.message(channel="C100", user="U1", text="It also happens on Safari 17, every single time", thread_ts=ts)
        report(bot, "paying by card at checkout gives error 500", user="U2", channel="C101")
        wait_until(lambda: any("2 people affected" in json.dumps(c) for c in trackers.jira["SHOP-341"]["comments"]), what="the news in Jira",
                   explain=lambda: ticket_history(bot, trackers))
        bot.settle()
        issue = trackers.jira["SHOP-341"]
        assert issue["fields"]["priority"] == {"name": "Highest"} and "severity-critical" in issue["fields"]["labels"]
        comments = [json.dumps(c) for c in issue["comments"]]
        assert any("Severity changed in Slack" in c and "critical" in c for c in comments)
        assert any("Safari 17" in c for c in comments), "a detail added in the thread"
        assert any("2 people affected" in c for c in comments), "a new affected reporter"
        assert all("via Hypercare (HC-1)" in c for c in comments)

        # Assigned in Jira to someone whose e-mail is a Slack user's: assigned here.
        assigned = {"webhookEvent": "jira:issue_updated", "user": {"displayName": "Lead"},
                    "issue": {"key": "SHOP-341", "fields": {"assignee": {"displayName": "Dana", "emailAddress": "dana@example.com"}}},
                    "changelog": {"items": [{"field": "assignee"}]}}
        assert webhook(bot, "jira", assigned)[0] == 200
        bot.settle()
        assert ticket(bot, "HC-1").assignee == "U_DANA"
        # Our own comment heard back is ignored.
        echo = {"webhookEvent": "comment_created", "issue": {"key": "SHOP-341"}, "comment": {"author": {"displayName": "bot"}, "body": issue["comments"][0]}}
        assert webhook(bot, "jira", echo)[0] == 200
        # Resolved in Slack: the note goes to Jira as a comment, once.
        before = len(issue["comments"])
        hc(bot, "resolve HC-1 The card processor's TLS certificate was renewed", user="U_T1")
        wait_until(lambda: len(issue["comments"]) > before, what="the resolution comment")
        time.sleep(1.0)
        bot.settle()
        assert len(issue["comments"]) == before + 1 and "certificate was renewed" in json.dumps(issue["comments"][-1])
        # Done in Jira afterwards (it heard of the fix): nothing changes here, nothing goes back.
        done = {"webhookEvent": "jira:issue_updated", "user": {"displayName": "Dana", "emailAddress": "dana@example.com"},
                "issue": {"key": "SHOP-341", "fields": {"status": {"statusCategory": {"key": "done"}}}}, "changelog": {"items": [{"field": "status"}]}}
        assert webhook(bot, "jira", done)[0] == 200
        time.sleep(1.0)
        bot.settle()
        assert len(issue["comments"]) == before + 1
        assert ticket(bot, "HC-1").status == "resolved"
    finally:
        stop_bot(bot)


def test_closing_by_a_mapped_person_names_them(fake_slack: FakeSlack, trackers: FakeTrackers, database_url: str) -> None:
    fake_slack.add_user(user_id="U_DANA", name="dana", email="dana@example.com")
    bot = start_tracker_bot(fake_slack, trackers, database_url)
    try:
        ts = report(bot, "Checkout fails with error 500 when paying by card", user="U1")
        hc(bot, "push HC-1 jira SHOP", user="U_T1")
        wait_linked(bot)
        done = {"webhookEvent": "jira:issue_updated", "user": {"displayName": "Dana", "emailAddress": "dana@example.com"},
                "issue": {"key": "SHOP-341", "fields": {"status": {"statusCategory": {"key": "done"}}}}, "changelog": {"items": [{"field": "status"}]}}
        assert webhook(bot, "jira", done)[0] == 200
        bot.settle()
        [said] = [c for c in in_thread(bot, "C100", ts) if "Resolved in SHOP-341" in c.params["text"]]
        assert "<@U_DANA>" in json.dumps(said.params["blocks"])
        assert ticket(bot, "HC-1").resolution == "Closed in SHOP-341 by Dana"
    finally:
        stop_bot(bot)


def test_two_bots_on_one_postgresql_push_once(fake_slack: FakeSlack, trackers: FakeTrackers, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("two replicas share a PostgreSQL database")
    first = start_tracker_bot(fake_slack, trackers, database_url)
    second = start_tracker_bot(fake_slack, trackers, database_url)
    try:
        for channel in ("C100", "C101", "C102"):
            hc(first if channel == "C101" else second, "tracker auto all", user="U_T1", channel=channel)
        texts = (CRITICAL, "All payments are failing in production, customers are charged twice and orders are lost",
                 "Data loss: every uploaded file is deleted after an hour for all users, outage")
        for n, text in enumerate(texts):
            report(first if n % 2 else second, text, user=f"U{n + 1}", channel=f"C10{n}")
        # And a person pushing by hand meanwhile, on each replica: told where it went, nothing more.
        assert "already tracked" in shown(hc(second, "push HC-1", user="U_T1")) or "Sending" in shown(hc(second, "push HC-1", user="U_T1"))
        assert "already tracked" in shown(hc(first, "push HC-1", user="U_T1"))
        trackers.wait_for("github", "create", count=3)
        time.sleep(1.5)
        first.settle()
        second.settle()
        titles = sorted(c.body["title"] for c in trackers.calls_to("github", "create"))
        assert len(titles) == 3 and len(set(titles)) == 3, "each ticket pushed once by the two replicas together"
        assert len(trackers.github["acme/shop"]) == 3
    finally:
        stop_bot(second)
        stop_bot(first)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HypercareRun:
    """`hypercare run` in a subprocess, wired to the fakes (HTTP mode, GitHub configured)."""

    def __init__(self, *, fake: FakeSlack, trackers: FakeTrackers, database_url: str, tmp_path: Path, worker_processes: int,
                 extra_env: dict[str, str] | None = None) -> None:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HYPERCARE_"))}
        env.update({
            "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.url,
            "DATABASE_URL": database_url, "HYPERCARE_WORKER_PROCESSES": str(worker_processes), "HYPERCARE_LEASE_SECONDS": "2",
            "HYPERCARE_CHANNEL_POST_INTERVAL": "0", "HYPERCARE_TRIAGE_USERS": "U_T1", "HYPERCARE_GITHUB_TOKEN": GITHUB_TOKEN,
            "HYPERCARE_GITHUB_API_URL": trackers.github_url, "HYPERCARE_GITHUB_REPO": "acme/shop", "HYPERCARE_GITHUB_WEBHOOK_SECRET": SECRETS["github"],
            "HYPERCARE_TRACKER_SYNC_SECONDS": "0.5", **(extra_env or {}),
        })
        self.log = open(tmp_path / f"bot-{port}.log", "w")
        self.process = subprocess.Popen([sys.executable, "-m", "bot.runtime.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
                                        cwd=tmp_path, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        wait_until(self._healthy, timeout=30, what="the bot process")
        self.slack = SlackSender(base_url=self.url, signing_secret=SIGNING_SECRET, team_id=fake.team_id, bot_user_id=fake.bot_user_id)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                return answer.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def test_a_real_hypercare_run_with_its_worker_process_closes_the_loop(
    fake_slack: FakeSlack, trackers: FakeTrackers, database_url: str, tmp_path: Path,
) -> None:
    """The shape of a deployment: the receiver stores the webhook, the worker process works it."""
    for user in ("U1", "U_T1"):
        fake_slack.add_user(user_id=user, name=user.lower())
    run = HypercareRun(fake=fake_slack, trackers=trackers, database_url=database_url, tmp_path=tmp_path, worker_processes=1)
    try:
        assert run.slack.message(channel="C100", user="U1", text="Checkout fails with error 500 when paying by card").status == 200
        fake_slack.wait_for("chat.postMessage", timeout=20)
        assert run.slack.command(text="push HC-1", user="U_T1", channel="C100").status == 200
        trackers.wait_for("github", "create", timeout=20)
        fake_slack.wait_for("chat.postMessage", where=lambda c: "Tracked in" in str(c.params.get("text")), timeout=20)
        closed = {"action": "closed", "issue": {"number": 1}, "repository": {"full_name": "acme/shop"}, "sender": {"login": "octo-dev"}}
        assert webhook(run.url, "github", closed, event="issues")[0] == 200
        [dm] = fake_slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == "DU1", timeout=20)
        assert "is fixed" in dm.params["text"] and "octo-dev in acme/shop#1" in json.dumps(dm.params["blocks"])
        assert len(trackers.calls_to("github", "create")) == 1
    finally:
        run.stop()


def test_kill_9_after_the_tracker_created_the_issue_creates_no_second(
    fake_slack: FakeSlack, trackers: FakeTrackers, database_url: str, tmp_path: Path,
) -> None:
    """A real `hypercare run` is killed with SIGKILL while GitHub has created the issue and its
    answer is on the way; the bot started next finds the issue by its marker and records it."""
    for user in ("U1", "U_T1"):
        fake_slack.add_user(user_id=user, name=user.lower())
    # No worker process: the process killed is the one waiting for GitHub's answer.
    run = HypercareRun(fake=fake_slack, trackers=trackers, database_url=database_url, tmp_path=tmp_path, worker_processes=0)
    try:
        assert run.slack.message(channel="C100", user="U1", text="Checkout fails with error 500 when paying by card").status == 200
        fake_slack.wait_for("chat.postMessage", timeout=20)
        release = trackers.hold_next("github", "create")
        assert run.slack.command(text="push HC-1", user="U_T1", channel="C100").status == 200
        trackers.wait_for("github", "create", timeout=20)
        run.process.send_signal(signal.SIGKILL)  # GitHub made the issue; the answer never reaches a living process
        run.process.wait(timeout=10)
        release.set()
    finally:
        run.stop()
    assert len(trackers.github["acme/shop"]) == 1
    bot = start_tracker_bot(fake_slack, trackers, database_url, lease_seconds=2.0)
    try:
        found = wait_linked(bot, timeout=30)
        assert found.external_key == "acme/shop#1"
        assert len(trackers.calls_to("github", "create")) == 1, "no second issue"
        assert len(trackers.github["acme/shop"]) == 1
        assert len(trackers.calls_to("github", "list")) == 1, "found by its marker"
        assert link(bot) is not None
    finally:
        stop_bot(bot)


def test_socket_mode_serves_the_tracker_webhooks_too(fake_slack: FakeSlack, trackers: FakeTrackers, database_url: str, tmp_path: Path) -> None:
    """In Socket Mode there is no Slack endpoint, but a tracker needs one: `hypercare run` listens
    on PORT for /trackers/* when a webhook secret is set."""
    socket_server = FakeSocketMode().start()
    fake_slack.socket_url = socket_server.url
    run = HypercareRun(fake=fake_slack, trackers=trackers, database_url=database_url, tmp_path=tmp_path, worker_processes=0,
                       extra_env={"SLACK_APP_TOKEN": "xapp-test"})
    try:
        assert socket_server.connected.wait(15), "Socket Mode is connected as well"
        closed = {"action": "closed", "issue": {"number": 7}, "repository": {"full_name": "acme/shop"}, "sender": {"login": "octo-dev"}}
        assert webhook(run.url, "github", closed, event="issues", secret="forged")[0] == 401
        assert webhook(run.url, "github", closed, event="issues", delivery="sm-1")[0] == 200
        engine = make_engine(database_url)
        try:
            with Session(engine) as session:
                stored = session.execute(select(SlackEvent.event_id).where(SlackEvent.event_type == "tracker:github")).scalars().all()
        finally:
            engine.dispose()
        assert stored == ["tracker:github:sm-1"]
    finally:
        run.stop()
        socket_server.stop()


def test_an_event_committed_after_a_later_one_was_carried_still_reaches_the_issue(engine: Any, database_url: str) -> None:
    """PostgreSQL takes an event's id at insert; transactions commit in any order. A thread reply
    (id N+1) committed and carried before a duplicate's link (id N) commits must not hide it."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers: event ids are taken in commit order there")
    from bot.runtime.settings import Settings
    from bot.trackers import sync
    from models.tables import OutboxMessage, Ticket, TicketEvent
    from models.tracker_tables import TrackerLink

    settings = Settings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, database_url=database_url,  # type: ignore[call-arg]
                        jira_url="http://127.0.0.1:9", jira_api_token="t")
    with Session(engine) as session:
        ticket = Ticket(team_id="T1", number=1, title="Checkout fails")
        session.add(ticket)
        session.flush()
        session.add(TrackerLink(team_id="T1", ticket_id=ticket.id or 0, tracker="jira", target="SHOP", state="linked", external_id="SHOP-341", external_key="SHOP-341"))
        session.commit()
        ticket_id = ticket.id or 0
    slow, quick = Session(engine), Session(engine)
    try:
        slow.add(TicketEvent(ticket_id=ticket_id, kind="linked", note="paying by card gives error 500"))
        slow.flush()  # its id is taken now, its commit comes later
        quick.add(TicketEvent(ticket_id=ticket_id, kind="comment", note="It also happens on Safari 17"))
        quick.commit()
        assert sync.run(engine=engine, settings=settings) == 1
        slow.commit()
    finally:
        slow.close()
        quick.close()
    assert sync.run(engine=engine, settings=settings) == 1
    assert sync.run(engine=engine, settings=settings) == 0, "each event once"
    with Session(engine) as session:
        texts = [row.params["text"] for row in session.execute(select(OutboxMessage).where(OutboxMessage.method == "tracker.comment").order_by(OutboxMessage.id)).scalars()]
    assert len(texts) == 2 and "Safari 17" in texts[0] and "people affected now" in texts[1]
