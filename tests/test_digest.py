"""Stand-up digests (issue 6): the `/hc digest` commands, what a digest says (its numbers against
the tickets seeded here), Slack's block and text limits with 500 open tickets, the chart, and
`hypercare digest send`. Time is passed in as `now` wherever the digest's period matters."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from models.db import make_engine
from models.digest_tables import DigestRun
from models.loop_tables import ResolutionNotice
from models.tables import Ticket
from tests.conftest import BOT_TOKEN, RunningBot, start_bot
from tests.digest_support import (  # noqa: F401 (digest_bot: a fixture)
    add_ticket, change_ticket, digest_bot, digest_posts, hc, runs, schedules, set_schedule, stop, text_of, texts,
)
from tests.fake_slack import FakeSlack

UTC = timezone.utc
ROOT = Path(__file__).resolve().parent.parent


# -- commands ---------------------------------------------------------------------------------
def test_schedule_list_off_and_their_errors(digest_bot: RunningBot) -> None:
    bot = digest_bot
    answer = hc(bot, "digest schedule 09:00")
    assert "<#C100> is set for 09:00 America/New_York, weekdays" in answer["text"], "defaults: here, weekdays, HYPERCARE_TIMEZONE"
    hc(bot, "digest schedule 17:30 Europe/Berlin daily <#C101|war-room-c101>")
    hc(bot, "digest schedule 8:15 UTC", channel="C100")  # a second schedule here replaces the first
    expected = [("C100", 8, 15, "UTC", "weekdays"), ("C101", 17, 30, "Europe/Berlin", "daily")]
    assert schedules(bot) == expected
    listed = hc(bot, "digest list", user="U_ANYONE")["text"]
    assert "<#C100> — 08:15 UTC, weekdays" in listed and "<#C101> — 17:30 Europe/Berlin, every day" in listed
    refusals = {
        "digest schedule 25:00": "“25:00” is not a time",
        "digest schedule 9am": "“9am” is not a time",
        "digest schedule": "Say at what time",
        "digest schedule 09:00 Mars/Olympus": "I don't understand “Mars/Olympus”",
        "digest schedule 09:00 weekdays daily": "Give one choice of days only",
        "digest schedule 09:00 UTC Europe/Paris": "Give one timezone only",
        "digest schedule 09:00 #nowhere": "I can't tell which channel “#nowhere” is",
        "digest off <#C102|war-room-c102>": "There is no digest scheduled for <#C102>",
        "digest off tomorrow": "“tomorrow” is not a channel",
        "digest bogus": "“bogus” is not something I do with digests",
        "digest": "Say what to do with the digest",
        "digest list everything": "takes nothing more",
    }
    for command, message in refusals.items():
        answer = hc(bot, command)
        assert message in answer["text"], (command, answer)
        assert "Usage:" in json.dumps(answer["blocks"]), command
    denied = hc(bot, "digest schedule 10:00", user="U_STAKEHOLDER")
    assert "Only the triage team can schedule digests" in denied["text"]
    assert "Only the triage team can turn digests off" in hc(bot, "digest off", user="U_STAKEHOLDER")["text"]
    assert "Only the triage team can post digests" in hc(bot, "digest now", user="U_STAKEHOLDER")["text"]
    assert schedules(bot) == expected, "a refused command changes nothing"
    assert "is off" in hc(bot, "digest off <#C101|war-room-c101>")["text"]
    assert schedules(bot) == expected[:1]
    bot.settle()
    assert bot.fake.calls_to("chat.postMessage") == [] and runs(bot) == []


def test_preview_posts_nothing_and_does_not_count_as_a_digest(digest_bot: RunningBot) -> None:
    bot = digest_bot
    now = datetime.now(UTC)
    add_ticket(bot, number=1, title="Payments fail with 502", severity="critical", created_at=now - timedelta(hours=2))
    add_ticket(bot, number=2, title="Typo on pricing page", severity="low", created_at=now - timedelta(hours=1), first_response_at=now)
    answer = hc(bot, "digest preview", user="U_STAKEHOLDER")  # anyone may look
    shown = "\n".join(texts(answer["blocks"]))
    assert "only you see this, nothing was posted" in shown
    assert "*2 open*" in shown and "Since hypercare began: *2 new*" in shown and "Payments fail with 502" in shown
    bot.settle()
    assert bot.fake.calls_to("chat.postMessage") == [] and bot.fake.calls_to("files.getUploadURLExternal") == []
    assert runs(bot) == []
    hc(bot, "digest now")
    bot.settle()
    [posted] = digest_posts(bot.fake, "C100")
    assert "Since hypercare began: *2 new*" in text_of(posted), "the preview was not a digest"


# -- content ----------------------------------------------------------------------------------
def test_the_digest_numbers_match_the_seeded_tickets(digest_bot: RunningBot) -> None:
    bot = digest_bot
    t0 = datetime(2027, 4, 5, 9, 0, tzinfo=UTC)  # Monday; the digest before it: Sunday 09:00
    set_schedule(bot, channel="C100", hour=9, minute=0, tz="UTC", days="daily", at=datetime(2027, 4, 1, tzinfo=UTC))
    # What stood on Sunday morning.
    add_ticket(bot, number=1, title="Checkout returns 502", severity="critical", created_at=t0 - timedelta(days=3),
               permalink="https://fake.slack.com/archives/C100/p1")
    add_ticket(bot, number=4, title="Export misses rows", status="needs_info", created_at=t0 - timedelta(days=2),
               first_response_at=t0 - timedelta(days=2) + timedelta(hours=1), updated_at=t0 - timedelta(days=1))
    add_ticket(bot, number=5, title="Footer link is grey", severity="low", created_at=t0 - timedelta(days=10))
    add_ticket(bot, number=6, title="Images load slowly", status="in_progress", created_at=t0 - timedelta(days=2),
               first_response_at=t0 - timedelta(hours=46))
    add_ticket(bot, number=7, title="Webhook retries forever", severity="high", status="in_progress", created_at=t0 - timedelta(hours=30),
               first_response_at=t0 - timedelta(hours=29))
    add_ticket(bot, number=9, title="Old one", status="resolved", created_at=t0 - timedelta(days=5), resolved_at=t0 - timedelta(days=4))
    bot.hypercare.scheduler.run_all(now=t0 - timedelta(days=1))
    bot.settle()
    [sunday] = digest_posts(bot.fake)
    assert "*5 open*" in text_of(sunday) and "Since hypercare began: *6 new* · *1 resolved*" in text_of(sunday)
    # What happened until Monday morning.
    add_ticket(bot, number=2, title="Search is slow", severity="high", status="in_progress", category="performance",
               created_at=t0 - timedelta(minutes=30), first_response_at=t0 - timedelta(minutes=25), assignee="U_ANN")
    add_ticket(bot, number=3, title="Filters slow for <!channel> users", severity="high", status="triaged", category="performance",
               created_at=t0 - timedelta(hours=20), first_response_at=t0 - timedelta(hours=19), assignee="U_BOB")
    add_ticket(bot, number=8, title="Same as HC-1", status="duplicate", category="data", created_at=t0 - timedelta(hours=2))
    change_ticket(bot, 6, status="resolved", resolved_at=t0 - timedelta(hours=5), resolution="Rolled back the CDN config.\nThe cache is warm again.")
    change_ticket(bot, 7, status="closed", resolved_at=t0 - timedelta(hours=3), resolution="Capped retries at five. " * 20)
    bot.hypercare.scheduler.run_all(now=t0)
    bot.settle()
    monday = digest_posts(bot.fake)[1]
    shown = text_of(monday)
    assert ("*5 open* — :red_circle: 1 critical · :large_orange_circle: 2 high · :large_yellow_circle: 1 medium · :white_circle: 1 low"
            " (unchanged since the last digest)") in shown
    assert ("Since the last digest (Sun 04 Apr 09:00): *3 new* (:arrow_down_small:3 on the period before)"
            " · *2 resolved* (:arrow_up_small:1 on the period before)") in shown
    urgent = [line for line in shown.split("\n") if line.startswith((":red_circle:", ":large_orange_circle:"))]
    assert urgent[:3] == [
        ":red_circle: *<https://fake.slack.com/archives/C100/p1|HC-1>* Checkout returns 502 — 3d old · unassigned · :rotating_light: SLA breached",
        ":large_orange_circle: *HC-3* Filters slow for @\u200bchannel users — 20h old · <@U_BOB> · :hourglass_flowing_sand: SLA at risk",
        ":large_orange_circle: *HC-2* Search is slow — 30m old · <@U_ANN> · SLA on track",
    ]
    assert "*Resolved since the last digest (Sun 04 Apr 09:00) — 2*" in shown
    assert ":white_check_mark: *HC-6* Images load slowly — _Rolled back the CDN config. The cache is warm again._" in shown
    [closed] = [line for line in shown.split("\n") if "*HC-7*" in line]
    assert closed.endswith("…_") and len(closed) < 260, "a long resolution note is shortened"
    assert "*Waiting on reporters — 1*\n:large_yellow_circle: *HC-4* Export misses rows — asked 1d ago · unassigned" in shown
    assert "*SLA breaches — 2 open tickets past target* (1 critical/high, marked above)\n:white_circle: *HC-5* Footer link is grey — low, 10d old" in shown
    assert "*Top categories since the last digest (Sun 04 Apr 09:00):* Performance 2 · Data 1" in shown
    assert "*Median time to first response:* *32m* (of 2) · *to resolution:* *1d 11h* (of 2)" in shown
    assert "<!channel>" not in json.dumps(monday.params) and "Same as HC-1" not in shown, "a duplicate is neither open nor resolved"
    assert monday.params["text"] == "Hypercare stand-up: 5 open (1 critical, 2 high); 3 new and 2 resolved since the last digest (Sun 04 Apr 09:00)."
    assert runs(bot)[1].stats == {"open": 5, "open_by_severity": {"critical": 1, "high": 2, "medium": 1, "low": 1}, "new": 3,
                                  "resolved": 2, "waiting": 1, "breaching": 2}
    assert bot.fake.calls_to("files.getUploadURLExternal") == [], "HYPERCARE_DIGEST_CHART=off: no chart"


def rate(bot: RunningBot, *, ticket_number: int, user: str, rating: str, at: datetime) -> None:
    """A person's answer to a resolution DM, as bot.loop.csat records it."""
    with Session(bot.engine) as session:
        ticket = session.execute(select(Ticket).where(Ticket.number == ticket_number)).scalars().one()
        session.add(ResolutionNotice(team_id=bot.fake.team_id, ticket_id=ticket.id, user_id=user, sent_at=at - timedelta(hours=1),
                                     rating=rating, rated_at=at))
        session.commit()


def test_the_digest_shows_the_satisfaction_of_the_period(digest_bot: RunningBot) -> None:
    bot = digest_bot
    t0 = datetime(2027, 4, 5, 9, 0, tzinfo=UTC)
    set_schedule(bot, channel="C100", hour=9, minute=0, tz="UTC", days="daily", at=datetime(2027, 4, 1, tzinfo=UTC))
    add_ticket(bot, number=1, title="Checkout returns 502", severity="critical", created_at=t0 - timedelta(days=3))
    add_ticket(bot, number=2, title="Export misses rows", status="resolved", created_at=t0 - timedelta(days=3),
               resolved_at=t0 - timedelta(days=2), resolution="Fixed the query")
    rate(bot, ticket_number=2, user="U_A", rating="down", at=t0 - timedelta(days=2))
    bot.hypercare.scheduler.run_all(now=t0 - timedelta(days=1))
    bot.settle()
    [sunday] = digest_posts(bot.fake)
    assert "*Satisfaction since hypercare began:* 0% :+1: (0 of 1 ratings; 1 :-1:)" in text_of(sunday)
    # After Sunday's digest: three 👍 and one 👎; the 👎 from before Sunday is not this period's.
    for user, rating in (("U_B", "up"), ("U_C", "up"), ("U_D", "up"), ("U_E", "down")):
        rate(bot, ticket_number=2, user=user, rating=rating, at=t0 - timedelta(hours=5))
    bot.hypercare.scheduler.run_all(now=t0)
    bot.settle()
    monday = digest_posts(bot.fake)[1]
    assert "*Satisfaction since the last digest (Sun 04 Apr 09:00):* 75% :+1: (3 of 4 ratings; 1 :-1:)" in text_of(monday)


def test_nothing_to_report_is_one_short_line(digest_bot: RunningBot) -> None:
    bot = digest_bot
    t0 = datetime(2027, 4, 5, 9, 0, tzinfo=UTC)
    set_schedule(bot, channel="C101", hour=9, minute=0, tz="UTC", days="daily", at=datetime(2027, 4, 1, tzinfo=UTC))
    bot.hypercare.scheduler.run_all(now=t0 - timedelta(days=1))
    add_ticket(bot, number=1, title="Tooltip overlaps", severity="low", created_at=t0 - timedelta(hours=23, minutes=30),
               first_response_at=t0 - timedelta(hours=23))
    bot.hypercare.scheduler.run_all(now=t0 - timedelta(hours=23))  # Sunday's digest is already out: nothing
    bot.hypercare.scheduler.run_all(now=t0 + timedelta(minutes=1))
    bot.hypercare.scheduler.run_all(now=t0 + timedelta(days=1))
    bot.settle()
    empty, busy, quiet = digest_posts(bot.fake, "C101")
    assert len(empty.params["blocks"]) == 1 and "nothing to report since hypercare began" in empty.params["text"]
    assert "no open tickets" in empty.params["text"]
    assert "*1 new*" in text_of(busy)
    assert len(quiet.params["blocks"]) == 1 and len(quiet.params["text"]) < 200
    assert "nothing to report since the last digest (Mon 05 Apr 09:01)" in quiet.params["text"]
    assert "1 open, all medium or low and within their SLA" in quiet.params["text"]


def test_block_and_text_limits_hold_with_500_open_tickets(digest_bot: RunningBot) -> None:
    bot = digest_bot
    now = datetime.now(UTC)
    long = "Everything is on fire <!here> " + "and the dashboard shows nothing at all " * 6
    with Session(bot.engine) as session:
        severities = ("critical", "high", "medium", "low")
        session.add_all([
            Ticket(team_id=bot.fake.team_id, number=n, title=long[:200], severity=severities[n % 4],
                   status="needs_info" if n % 5 == 0 else "new", created_at=now - timedelta(days=3, minutes=n), updated_at=now,
                   assignee=f"U{n:05d}" if n % 2 else None, permalink=f"https://fake.slack.com/archives/C100/p{n:016d}")
            for n in range(1, 501)
        ] + [
            Ticket(team_id=bot.fake.team_id, number=n, title=long[:200], severity="high", status="resolved",
                   created_at=now - timedelta(hours=5), updated_at=now, resolved_at=now - timedelta(hours=1), resolution=long * 8)
            for n in range(501, 801)
        ])
        session.commit()
    hc(bot, "digest now <#C101|war-room-c101>")
    bot.settle()
    [posted] = digest_posts(bot.fake, "C101")
    preview = hc(bot, "digest preview")
    for blocks in (posted.params["blocks"], preview["blocks"]):
        assert len(blocks) <= 50
        assert all(len(text) <= 3000 for text in texts(blocks))
        assert blocks[0]["type"] != "header" or len(blocks[0]["text"]["text"]) <= 150
    assert len(posted.params["text"]) <= 3000
    shown = text_of(posted)
    assert "*500 open* — :red_circle: 125 critical · :large_orange_circle: 125 high" in shown
    assert "…and 235 more." in shown, "250 critical/high, 15 listed"
    assert "…and 290 more." in shown, "300 resolved, 10 listed"
    assert "*Waiting on reporters — 100*" in shown and "…and 90 more. `/hc list needs-info`" in shown
    assert "*SLA breaches — 500 open tickets past target* (250 critical/high, marked above)" in shown and "…and 240 more." in shown
    assert "<!here>" not in json.dumps(posted.params)


# -- the chart --------------------------------------------------------------------------------
def test_the_chart_follows_the_digest_and_the_digest_stands_without_it(fake_slack: FakeSlack, database_url: str) -> None:
    bot = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    try:
        t0 = datetime(2027, 8, 2, 9, 0, tzinfo=UTC)
        set_schedule(bot, channel="C100", hour=9, minute=0, tz="Europe/Berlin", days="daily", at=datetime(2027, 7, 1, tzinfo=UTC))
        for n in range(1, 13):
            add_ticket(bot, number=n, title=f"Report {n}", severity=("critical", "high", "medium", "low")[n % 4],
                       created_at=t0 - timedelta(hours=9 * n), status="resolved" if n % 3 == 0 else "new",
                       resolved_at=t0 - timedelta(hours=9 * n - 4) if n % 3 == 0 else None)
        bot.hypercare.scheduler.run_all(now=t0)
        bot.settle()
        [posted] = digest_posts(fake_slack)
        [ask] = fake_slack.calls_to("files.getUploadURLExternal")
        [upload] = [c for c in fake_slack.calls if c.method.startswith("upload:")]
        [share] = fake_slack.calls_to("files.completeUploadExternal")
        assert upload.params["content"][:8] == b"\x89PNG\r\n\x1a\n" and int(ask.params["length"]) == len(upload.params["content"])
        assert share.params["channel_id"] == "C100" and share.params["files"][0]["id"] == ask.response["file_id"]  # type: ignore[index]
        assert share.at >= posted.at, "the chart comes after its digest"
        bot.hypercare.scheduler.run_all(now=t0 + timedelta(minutes=1))  # a later tick shares nothing again
        bot.settle()
        assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1
        [run] = runs(bot)
        assert (run.chart_state, run.chart_file_id, run.message_ts) == ("shared", ask.response["file_id"], posted.response["ts"])  # type: ignore[index]
        # A workspace that does not allow files: the digest goes out alone.
        fake_slack.fail_next("files.getUploadURLExternal", status=200, error="file_uploads_disabled")
        bot.hypercare.scheduler.run_all(now=t0 + timedelta(days=1))
        bot.settle()
        assert len(digest_posts(fake_slack)) == 2 and len(fake_slack.calls_to("files.completeUploadExternal")) == 1
        assert (runs(bot)[1].chart_state, runs(bot)[1].chart_error) == ("failed", "file_uploads_disabled")
    finally:
        stop(bot)


# -- the command line -------------------------------------------------------------------------
def test_digest_send_from_the_command_line(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(Ticket(team_id=fake_slack.team_id, number=1, title="Sign-up e-mails bounce", severity="high", created_at=datetime.now(UTC)))
        session.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HYPERCARE_")) and k != "DATABASE_URL"}
    env.update(PYTHONPATH=str(ROOT), SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.url, DATABASE_URL=database_url)
    result = subprocess.run([sys.executable, "-m", "bot.runtime.cli", "digest", "send", "--channel", "C102"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Posted the digest in C102" in result.stdout
    [posted] = digest_posts(fake_slack, "C102")
    assert "Sign-up e-mails bounce" in text_of(posted) and "*1 open*" in text_of(posted)
    with Session(engine) as session:
        [run] = session.execute(select(DigestRun)).scalars().all()
        assert (run.kind, run.channel, run.message_ts) == ("manual", "C102", posted.response["ts"])  # type: ignore[index]
    engine.dispose()


def test_the_chart_is_a_valid_png_of_the_counts() -> None:
    import io
    from datetime import date

    from PIL import Image  # matplotlib's own dependency

    from bot.digests.chart import H, W, ChartData, render_png

    days = [date(2027, 3, 1) + timedelta(days=i) for i in range(28)]
    png = render_png(ChartData(days=days, opened={days[3]: {"critical": 40, "low": 7}}, resolved={days[4]: {"high": 12}}))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    image.verify()  # checks every chunk's CRC
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (W, H)
    pixels = [image.getpixel((x, y)) for y in range(H) for x in range(W)]
    assert pixels.count((220, 38, 38)) > 100, "the critical bar is drawn"
