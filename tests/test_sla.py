"""SLA timers (issue 5): a warning at 80 % and a breach at 100 % of each target, posted exactly once
in the triage channel, also across restarts and with two processes; time is passed in as `now`."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from bot.errors import ConfigError
from bot.runtime.settings import load_settings
from bot.tickets.sla import format_duration, parse_duration, targets
from models.types import utcnow
from tests.conftest import RunningBot, start_bot, stop_bot
from tests.fake_slack import Call, FakeSlack
from tests.triage_support import hc, seed, thread_posts, ticket

TEAM = {"triage_users": ("U_T1", "U_T2"), "triage_channel": "C102", "scheduler_enabled": False}


@pytest.fixture
def sla_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url, **TEAM)
    yield running
    stop_bot(running)


def alerts(bot: RunningBot) -> list[Call]:
    return [c for c in bot.fake.calls_to("chat.postMessage") if c.params["channel"] == "C102"]


def check(bot: RunningBot, now: datetime) -> list[str]:
    """Run the periodic jobs at `now`; the text of every alert posted so far."""
    bot.hypercare.scheduler.run_all(now=now)
    bot.settle()
    return [c.params["blocks"][0]["text"]["text"] for c in alerts(bot)]


def test_warning_and_breach_of_each_target_are_posted_once(sla_bot: RunningBot) -> None:
    t0 = utcnow()
    seed(sla_bot, "Payments are down for everyone", severity="critical", created_at=t0)
    assert check(sla_bot, t0 + timedelta(minutes=11)) == []
    [warning] = check(sla_bot, t0 + timedelta(minutes=12, seconds=30))
    assert "HC-1 (critical) will miss its first-response target of 15m in 2m" in warning
    assert "<@U_T1> <@U_T2>" in warning and "Payments are down" in warning
    assert len(check(sla_bot, t0 + timedelta(minutes=13))) == 1, "never twice"
    texts = check(sla_bot, t0 + timedelta(minutes=16))
    assert len(texts) == 2 and "missed its first-response target of 15m (open 16m)" in texts[1]
    assert len(check(sla_bot, t0 + timedelta(minutes=30))) == 2
    texts = check(sla_bot, t0 + timedelta(hours=3, minutes=13))
    assert len(texts) == 3 and "will miss its resolution target of 4h in 47m" in texts[2]
    texts = check(sla_bot, t0 + timedelta(hours=5))
    assert len(texts) == 4 and "missed its resolution target of 4h (open 5h)" in texts[3]
    assert len(check(sla_bot, t0 + timedelta(days=3))) == 4
    assert all("thread_ts" not in c.params for c in alerts(sla_bot)), "in the triage channel itself"


def test_a_first_response_stops_its_clock_and_the_assignee_is_called(sla_bot: RunningBot) -> None:
    t0 = utcnow()
    seed(sla_bot, "Search is slow", severity="high", created_at=t0)
    hc(sla_bot, "assign HC-1 <@U_ANN>", user="U_T1")  # a triage action: the first response
    assert ticket(sla_bot, "HC-1").first_response_at is not None
    assert check(sla_bot, t0 + timedelta(hours=2)) == [], "answered in time: no first-response alert"
    # Missed before anyone was warned (the bot was down): only the breach is posted.
    [breach] = check(sla_bot, t0 + timedelta(days=2))
    assert "missed its resolution target of 1d" in breach and "<@U_ANN>" in breach and "<@U_T1>" not in breach
    assert check(sla_bot, t0 + timedelta(days=2, hours=1)) == [breach]


def test_resolved_tickets_and_other_severities_follow_their_own_targets(sla_bot: RunningBot) -> None:
    t0 = utcnow()
    seed(sla_bot, "Typo on the pricing page", severity="low", created_at=t0)
    seed(sla_bot, "Fixed already", severity="critical", created_at=t0, status="resolved", resolved_at=t0)
    assert check(sla_bot, t0 + timedelta(hours=19)) == []
    [warning] = check(sla_bot, t0 + timedelta(hours=20))  # 80 % of a day
    assert "HC-1 (low) will miss its first-response target of 1d in 4h" in warning


def test_exactly_once_with_two_processes_and_after_a_restart(fake_slack: FakeSlack, database_url: str) -> None:
    first, second = (start_bot(fake=fake_slack, database_url=database_url, **TEAM) for _ in range(2))
    t0 = utcnow()
    for n in range(4):
        seed(first, f"Outage number {n}", severity="critical", created_at=t0)
    start = threading.Barrier(2)

    def race(bot: RunningBot) -> None:
        start.wait()
        for minute in (13, 20, 20, 21):
            bot.hypercare.scheduler.run_all(now=t0 + timedelta(minutes=minute))

    threads = [threading.Thread(target=race, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    first.settle()
    second.settle()
    stop_bot(second)
    texts = [c.params["blocks"][0]["text"]["text"] for c in alerts(first)]
    assert sorted(t.split(" ")[1] for t in texts) == sorted(["HC-1", "HC-2", "HC-3", "HC-4"] * 2), "a warning and a breach each"
    stop_bot(first)
    restarted = start_bot(fake=fake_slack, database_url=database_url, **TEAM)
    try:
        assert len(check(restarted, t0 + timedelta(minutes=25))) == 8, "a restart sends nothing again"
    finally:
        stop_bot(restarted)


def test_without_a_triage_channel_or_team_the_alert_goes_to_the_ticket_thread(fake_slack: FakeSlack, database_url: str) -> None:
    bot = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False, sla_medium="10m/1h")
    try:
        t0 = utcnow()
        filed = seed(bot, "Exports are empty", created_at=t0)
        bot.hypercare.scheduler.run_all(now=t0 + timedelta(minutes=8))  # 80 % of the configured 10m
        bot.settle()
        [post] = [c for c in thread_posts(bot, filed) if "first-response" in c.params["text"]]
        assert "will miss its first-response target of 10m" in post.params["blocks"][0]["text"]["text"]
        assert "nobody is on the triage team yet" in post.params["blocks"][0]["text"]["text"]
    finally:
        stop_bot(bot)


def test_targets_are_configurable_and_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERCARE_SLA_HIGH", "30m/12h")
    loaded = targets(load_settings(env_file=None))
    assert (loaded["high"].first_response, loaded["high"].resolution) == (timedelta(minutes=30), timedelta(hours=12))
    assert (loaded["critical"].first_response, loaded["low"].resolution) == (timedelta(minutes=15), timedelta(days=7))
    monkeypatch.setenv("HYPERCARE_SLA_HIGH", "soon")
    with pytest.raises(ConfigError, match="HYPERCARE_SLA_HIGH must look like 15m/4h"):
        load_settings(env_file=None)
    assert parse_duration("1.5h") == timedelta(minutes=90) and format_duration(timedelta(minutes=90)) == "1h 30m"
