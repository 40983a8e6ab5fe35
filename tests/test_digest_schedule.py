"""Digest scheduling (issue 6): DST-correct times, exactly once per channel and period with two
schedulers on one database, catch-up after a restart within the grace window, skipped after it.
The clock is always passed in as `now`; nothing here sleeps."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.digests import schedule as ds
from models.digest_tables import DigestRun, DigestSchedule
from tests.conftest import RunningBot, start_bot
from tests.fake_slack import FakeSlack
from tests.digest_support import add_ticket, digest_bot, digest_posts, hc, schedules, set_schedule, stop, text_of  # noqa: F401 (digest_bot: a fixture)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


@pytest.fixture
def quiet_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    yield running
    stop(running)


def tick(bot: RunningBot, now: datetime) -> int:
    """Run the periodic jobs at `now`; how many digests have been posted in all so far."""
    bot.hypercare.scheduler.run_all(now=now)
    bot.settle()
    return len(digest_posts(bot.fake))


def runs(bot: RunningBot) -> list[DigestRun]:
    with Session(bot.engine) as session:
        return list(session.execute(select(DigestRun).order_by(DigestRun.id)).scalars())


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def test_a_0900_digest_stays_at_0900_local_across_both_dst_changes(quiet_bot: RunningBot) -> None:
    # 2027: summer time starts Sunday 28 March, ends Sunday 31 October (Europe/Berlin).
    set_schedule(quiet_bot, channel="C100", hour=9, minute=0, tz="Europe/Berlin", days="weekdays", at=berlin(2027, 3, 1))
    assert tick(quiet_bot, datetime(2027, 3, 26, 7, 59, tzinfo=UTC)) == 0  # Fri 08:59 CET
    assert tick(quiet_bot, datetime(2027, 3, 26, 8, 0, tzinfo=UTC)) == 1  # Fri 09:00 CET = 08:00 UTC
    assert tick(quiet_bot, datetime(2027, 3, 27, 8, 0, tzinfo=UTC)) == 1, "weekdays: no digest on Saturday"
    assert tick(quiet_bot, datetime(2027, 3, 29, 6, 59, tzinfo=UTC)) == 1  # Mon 08:59 CEST
    assert tick(quiet_bot, datetime(2027, 3, 29, 7, 0, tzinfo=UTC)) == 2  # Mon 09:00 CEST = 07:00 UTC
    assert tick(quiet_bot, datetime(2027, 10, 29, 7, 0, tzinfo=UTC)) == 3  # Fri 09:00 CEST
    assert tick(quiet_bot, datetime(2027, 11, 1, 7, 59, tzinfo=UTC)) == 3  # Mon 08:59 CET
    assert tick(quiet_bot, datetime(2027, 11, 1, 8, 0, tzinfo=UTC)) == 4  # Mon 09:00 CET = 08:00 UTC
    # (A tick long after an occurrence records it as skipped, e.g. Thursday's at the first tick above.)
    periods = [(r.period, r.scheduled_for) for r in runs(quiet_bot) if r.status == "posted"]
    assert periods == [
        ("2027-03-26T09:00", datetime(2027, 3, 26, 8, 0, tzinfo=UTC)), ("2027-03-29T09:00", datetime(2027, 3, 29, 7, 0, tzinfo=UTC)),
        ("2027-10-29T09:00", datetime(2027, 10, 29, 7, 0, tzinfo=UTC)), ("2027-11-01T09:00", datetime(2027, 11, 1, 8, 0, tzinfo=UTC)),
    ]


def test_the_apscheduler_cron_job_fires_at_local_time_on_both_sides_of_dst(fake_slack: FakeSlack, database_url: str) -> None:
    """The receiver (no scheduler) stores the schedule; the worker's scheduler picks it up on its
    next tick as a CronTrigger in the schedule's zone, and drops it when the digest is turned off."""
    receiver = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    worker = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=True)
    try:
        assert not receiver.hypercare.scheduler.apscheduler.running
        # An hour or more from the real clock, so the worker's real-time jobs have nothing due.
        hour = 21 if datetime.now(BERLIN).hour in (8, 9) else 9
        answer = receiver.slack.command(text=f"digest schedule {hour:02d}:17 Europe/Berlin daily", user="U_T1", channel="C100").json()
        assert "is set for" in answer["text"], answer
        worker.hypercare.scheduler.run_all(now=datetime(2020, 1, 1, tzinfo=UTC))  # the reload (nothing is due in 2020)
        job = worker.hypercare.scheduler.apscheduler.get_job("digest:1")
        assert job is not None
        for after, day, offset in (
            (datetime(2027, 3, 27, 0, 0, tzinfo=UTC), 27, 1),  # the Saturday before summer time: CET
            (datetime(2027, 3, 27, 23, 0, tzinfo=UTC), 28, 2),  # the day it starts: CEST
            (datetime(2027, 10, 30, 23, 0, tzinfo=UTC), 31, 1),  # the day it ends: CET again
        ):
            fire = job.trigger.get_next_fire_time(None, after)
            month = 3 if day in (27, 28) else 10
            assert fire == berlin(2027, month, day, hour, 17), fire
            assert fire.utcoffset() == timedelta(hours=offset)
            assert fire.astimezone(UTC).hour == hour - offset
        receiver.slack.command(text="digest off", user="U_T1", channel="C100")
        worker.hypercare.scheduler.run_all(now=datetime(2020, 1, 1, tzinfo=UTC))
        assert worker.hypercare.scheduler.apscheduler.get_job("digest:1") is None
        assert digest_posts(fake_slack) == []
    finally:
        stop(worker)
        stop(receiver)


def test_two_schedulers_on_one_database_post_one_digest(fake_slack: FakeSlack, database_url: str) -> None:
    first = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    second = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    try:
        set_schedule(first, channel="C100", hour=9, minute=0, tz="UTC", days="daily", at=datetime(2027, 5, 1, tzinfo=UTC))
        add_ticket(first, number=1, title="Checkout fails", severity="critical", created_at=datetime(2027, 5, 1, 8, tzinfo=UTC))
        for day in range(3, 8):  # five mornings, both processes ticking at the same instant each time
            now = datetime(2027, 5, day, 9, 0, 1, tzinfo=UTC)
            barrier = threading.Barrier(2)

            def run(bot: RunningBot, now: datetime = now, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                bot.hypercare.scheduler.run_all(now=now)

            threads = [threading.Thread(target=run, args=(bot,)) for bot in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            first.settle()
            second.settle()
            assert len(digest_posts(fake_slack)) == day - 2
        assert [r.period for r in runs(first)] == [f"2027-05-0{d}T09:00" for d in range(3, 8)]
    finally:
        stop(second)
        stop(first)


def test_a_restart_inside_the_grace_window_posts_the_missed_digest_once(fake_slack: FakeSlack, database_url: str) -> None:
    before = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    set_schedule(before, channel="C100", hour=9, minute=0, tz="UTC", days="daily", at=datetime(2027, 6, 1, 10, 0, tzinfo=UTC))
    add_ticket(before, number=1, title="Login loops", severity="high", created_at=datetime(2027, 6, 1, 8, tzinfo=UTC))
    assert tick(before, datetime(2027, 6, 2, 8, 59, tzinfo=UTC)) == 0
    stop(before)  # down over 09:00
    after = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    try:
        assert after.hypercare.scheduler.apscheduler.get_job("digests:start-up") is not None, "a tick at start-up catches up"
        assert tick(after, datetime(2027, 6, 2, 10, 30, tzinfo=UTC)) == 1, "1h30 late: inside the 2h grace window"
        assert tick(after, datetime(2027, 6, 2, 10, 31, tzinfo=UTC)) == 1
    finally:
        stop(after)
    again = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    try:
        assert tick(again, datetime(2027, 6, 2, 10, 45, tzinfo=UTC)) == 1, "a second restart posts nothing more"
        # Down until 11:30 the next day: 2h30 late, so that digest is skipped, not posted.
        assert tick(again, datetime(2027, 6, 3, 11, 30, tzinfo=UTC)) == 1
        assert [(r.period, r.status) for r in runs(again)] == [("2027-06-02T09:00", "posted"), ("2027-06-03T09:00", "skipped")]
        # The next one covers everything since the last digest actually posted (June 2, 10:30).
        assert tick(again, datetime(2027, 6, 4, 9, 0, tzinfo=UTC)) == 2
        assert "since the last digest (Wed 02 Jun 10:30)" in text_of(digest_posts(fake_slack)[-1])
    finally:
        stop(again)


def test_grace_window_is_a_setting_and_a_new_schedule_never_posts_the_past(fake_slack: FakeSlack, database_url: str) -> None:
    bot = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False, digest_grace_minutes=30.0)
    try:
        set_schedule(bot, channel="C100", hour=9, minute=0, tz="UTC", days="daily", at=datetime(2027, 7, 1, 9, 10, tzinfo=UTC))
        assert tick(bot, datetime(2027, 7, 1, 9, 11, tzinfo=UTC)) == 0, "set at 09:10: today's 09:00 was never due"
        assert tick(bot, datetime(2027, 7, 2, 9, 31, tzinfo=UTC)) == 0, "31 minutes late: past a 30-minute window"
        assert tick(bot, datetime(2027, 7, 3, 9, 29, tzinfo=UTC)) == 1
        assert [r.status for r in runs(bot)] == ["skipped", "posted"]
    finally:
        stop(bot)


def test_occurrences_are_computed_in_the_schedules_zone() -> None:
    schedule = DigestSchedule(team_id="T", channel="C", hour=2, minute=30, timezone="Europe/Berlin", days="daily",
                              effective_from=datetime(2027, 1, 1, tzinfo=UTC))
    # 02:30 does not exist on 28 March 2027 in Berlin: the digest comes at the first real moment after.
    spring = ds.next_occurrence(schedule, after=datetime(2027, 3, 27, 12, tzinfo=UTC))
    assert spring.period == "2027-03-28T02:30" and spring.at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    # 02:30 happens twice on 31 October 2027: posted once, at the first.
    autumn = ds.next_occurrence(schedule, after=datetime(2027, 10, 30, 12, tzinfo=UTC))
    assert autumn.period == "2027-10-31T02:30" and autumn.at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    after = ds.next_occurrence(schedule, after=autumn.at)
    assert after.period == "2027-11-01T02:30"
    weekdays = DigestSchedule(team_id="T", channel="C", hour=9, minute=0, timezone="America/New_York", days="weekdays",
                              effective_from=datetime(2027, 1, 1, tzinfo=UTC))
    latest = ds.latest_occurrence(weekdays, now=datetime(2027, 3, 15, 12, 59, tzinfo=UTC))  # Monday, 08:59 EDT
    assert latest is not None and latest.period == "2027-03-12T09:00"  # the Friday before


def test_digest_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.runtime.settings import load_settings

    monkeypatch.setenv("HYPERCARE_DIGEST_GRACE_MINUTES", "45")
    monkeypatch.setenv("HYPERCARE_DIGEST_CHART", "off")
    monkeypatch.setenv("HYPERCARE_SCHEDULER", "off")
    settings = load_settings(env_file=None)
    assert (settings.digest_grace_minutes, settings.digest_chart, settings.scheduler_enabled) == (45.0, False, False)
    monkeypatch.delenv("HYPERCARE_DIGEST_GRACE_MINUTES")
    monkeypatch.delenv("HYPERCARE_DIGEST_CHART")
    assert (load_settings(env_file=None).digest_grace_minutes, load_settings(env_file=None).digest_chart) == (120.0, True)


def test_schedule_and_now_in_a_channel_without_the_bot_say_how_to_invite_it(digest_bot: RunningBot) -> None:
    bot = digest_bot
    bot.fake.add_channel(channel_id="G_LEADS", name="leads", is_private=True, is_member=False)
    for command in ("digest schedule 09:00 <#G_LEADS|leads>", "digest now <#G_LEADS|leads>", "digest schedule 09:00 <#C999|gone>"):
        answer = hc(bot, command)
        channel = "C999" if "C999" in command else "G_LEADS"
        assert answer["text"] == (f"I'm not a member of <#{channel}>, so I can't post the digest there. "
                                  f"Invite me first: type `/invite @Hypercare` in <#{channel}>, then try again."), command
    in_private = hc(bot, "digest schedule 09:00", channel="G_LEADS")  # typed in the channel itself
    assert "/invite @Hypercare" in in_private["text"]
    bot.settle()
    assert schedules(bot) == [] and runs(bot) == [] and bot.fake.calls_to("chat.postMessage") == []
    bot.fake.add_channel(channel_id="G_LEADS", name="leads", is_private=True, is_member=True)  # someone typed /invite
    assert "<#G_LEADS> is set for 09:00" in hc(bot, "digest schedule 09:00 <#G_LEADS|leads>")["text"]
    assert schedules(bot) == [("G_LEADS", 9, 0, "America/New_York", "weekdays")]
