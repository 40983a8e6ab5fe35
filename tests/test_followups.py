"""Follow-up questions over real HTTP, on SQLite and PostgreSQL (issue: follow-up questions)."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from bot.followups import questions as followups
from bot.followups import nudges as reminders
from models.followup_tables import Followup, FollowupNudge, FollowupQuestion
from models.tables import Ticket, TicketEvent
from tests.conftest import RunningBot, start_bot
from tests.fake_slack import Call, FakeSlack

LACKS_STEPS_AND_EXPECTED = "The invoice total is wrong on Chrome 131: it shows 0 EUR"
COMPLETE = "Steps: 1. open billing 2. click download. Expected a PDF, instead error 500 on Chrome 131"
BERLIN = ZoneInfo("Europe/Berlin")


def ticket(bot: RunningBot, number: int = 1) -> Ticket:
    with Session(bot.engine) as session:
        found = session.execute(select(Ticket).where(Ticket.number == number)).scalars().first()
        assert found is not None, f"HC-{number} was not filed"
        return found


def followup(bot: RunningBot, number: int = 1) -> Followup:
    with Session(bot.engine) as session:
        found = session.execute(select(Followup).join(Ticket, Ticket.id == Followup.ticket_id).where(Ticket.number == number)).scalars().first()
        assert found is not None
        return found


def history(bot: RunningBot, kind: str) -> list[TicketEvent]:
    with Session(bot.engine) as session:
        return list(session.execute(select(TicketEvent).where(TicketEvent.kind == kind).order_by(TicketEvent.id)).scalars())


def has_button(call: Call) -> bool:
    return any(e.get("action_id") == followups.ADD_DETAILS_ACTION for b in call.params.get("blocks") or [] for e in b.get("elements") or [])


def bot_posts(bot: RunningBot, *, containing: str = "") -> list[Call]:
    return [c for c in bot.fake.calls_to("chat.postMessage") if containing in c.params.get("text", "")]


def questions(bot: RunningBot) -> list[Call]:
    return bot_posts(bot, containing="we need a bit more")


def report(bot: RunningBot, text: str, *, user: str = "U1", channel: str = "C100") -> str:
    sent = bot.slack.message(channel=channel, user=user, text=text)
    assert sent.status == 200 and sent.ts
    bot.settle()
    return sent.ts


def reply(bot: RunningBot, thread_ts: str, text: str, *, user: str = "U1") -> None:
    assert bot.slack.message(channel="C100", user=user, text=text, thread_ts=thread_ts).status == 200
    bot.settle()


@pytest.fixture
def quiet_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    """The bot without its background scheduler: only `run_all(now=...)` runs jobs, at test time."""
    running = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    yield running
    stop(running)


def stop(running: RunningBot) -> None:
    running.server.stop()
    running.hypercare.stop()
    running.hypercare.engine.dispose()


def test_missing_steps_and_expected_get_one_question_naming_both(bot: RunningBot) -> None:
    ts = report(bot, LACKS_STEPS_AND_EXPECTED)
    filed = ticket(bot)
    assert filed.missing == ["steps", "expected"], "premise: triage finds actual behaviour and environment"
    assert filed.status == "needs_info"
    [question] = questions(bot)
    text = question.params["text"]
    assert question.params["thread_ts"] == ts and question.params["channel"] == "C100"
    assert text.startswith("<@U1> ") and "HC-1" in text
    assert "Steps to reproduce" in text and "Expected behaviour" in text
    assert "Environment" not in text and "Actual behaviour" not in text
    assert has_button(question)
    cards = bot.fake.wait_for("chat.update", where=lambda c: "needs_info" in json.dumps(c.params.get("blocks")))
    assert cards, "the card shows the new status"
    assert [e.new_value for e in history(bot, "changed") if e.field_name == "status"] == ["needs_info"]


def test_hc_new_ticket_is_asked_in_its_cards_thread(bot: RunningBot) -> None:
    assert bot.slack.command(text=f"new {LACKS_STEPS_AND_EXPECTED}", user="U1", channel="C100").status == 200
    bot.settle()
    card = next(c for c in bot.fake.calls_to("chat.postMessage") if not c.params.get("thread_ts"))
    [question] = questions(bot)
    assert card.response and question.params["thread_ts"] == card.response["ts"] == ticket(bot).thread_ts
    assert ticket(bot).status == "needs_info"


def test_complete_report_question_and_request_get_no_question(bot: RunningBot) -> None:
    report(bot, COMPLETE)
    report(bot, "How do I export my invoices as PDF?", channel="C101")
    report(bot, "Can we add a dark mode to the dashboard?", channel="C102")
    assert [ticket(bot, n).missing for n in (1, 2, 3)] == [[], [], []]
    assert [ticket(bot, n).status for n in (1, 2, 3)] == ["new", "new", "new"]
    assert questions(bot) == [] and not any(has_button(c) for c in bot.fake.calls_to("chat.postMessage"))


def test_performance_report_is_asked_where_and_since_when_not_for_steps(bot: RunningBot) -> None:
    report(bot, "Search is very slow for everyone in the EU region")
    filed = ticket(bot)
    assert filed.category == "performance", "premise"
    [question] = questions(bot)
    assert "*Where*" in question.params["text"] and "*Since when*" in question.params["text"]
    assert "Steps to reproduce" not in question.params["text"]
    reply(bot, filed.message_ts or "", "on the search page, since the deploy on Monday, takes about 20 seconds, Chrome 131")
    done = ticket(bot)
    assert (done.status, done.missing) == ("new", [])
    assert "search page" in (done.steps or "") and "since the deploy" in (done.expected or "") and "131" in (done.environment or "")


def test_reply_in_thread_fills_the_fields_and_ticket_leaves_needs_info(bot: RunningBot) -> None:
    ts = report(bot, LACKS_STEPS_AND_EXPECTED)
    reply(bot, ts, "1. open billing 2. click the March invoice — should show 120 EUR")
    done = ticket(bot)
    assert (done.steps, done.expected) == ("1. open billing 2. click the March invoice", "should show 120 EUR")
    assert (done.status, done.missing) == ("new", [])
    [thanks] = bot_posts(bot, containing="everything the team needs")
    assert thanks.params["thread_ts"] == ts and thanks.params["text"].startswith("Thanks <@U1>")
    assert "steps to reproduce" in thanks.params["text"] and "expected behaviour" in thanks.params["text"]
    filled = {e.field_name: e.actor for e in history(bot, "changed") if e.field_name in ("steps", "expected")}
    assert filled == {"steps": "U1", "expected": "U1"}
    assert [c.actor for c in history(bot, "comment")] == ["U1"], "the reply is still kept in the history"
    assert followup(bot).state == "done"
    assert len(questions(bot)) == 1


def test_partial_reply_asks_only_for_the_rest_and_others_answers_count(bot: RunningBot) -> None:
    ts = report(bot, LACKS_STEPS_AND_EXPECTED)
    reply(bot, ts, "I opened billing and clicked the March invoice")
    partial = ticket(bot)
    assert partial.steps == "I opened billing and clicked the March invoice" and partial.missing == ["expected"]
    assert partial.status == "needs_info"
    [rest] = bot_posts(bot, containing="Still missing")
    assert "Expected behaviour" in rest.params["text"] and "Steps to reproduce" not in rest.params["text"].split("Still missing")[1]
    assert has_button(rest)
    reply(bot, ts, "same here", user="U2")  # chatter: nothing recorded, nothing said
    assert ticket(bot).missing == ["expected"] and len(bot_posts(bot, containing="Thanks")) == 1
    reply(bot, ts, "it should say 120 EUR, that's what the order page shows", user="U2")
    done = ticket(bot)
    assert done.expected == "it should say 120 EUR, that's what the order page shows"
    assert (done.status, done.missing) == ("new", [])
    assert [e.actor for e in history(bot, "changed") if e.field_name == "expected"] == ["U2"]
    assert bot_posts(bot, containing="everything the team needs")[0].params["text"].startswith("Thanks <@U2>")


def test_add_details_button_opens_a_modal_with_only_the_missing_fields(bot: RunningBot) -> None:
    report(bot, LACKS_STEPS_AND_EXPECTED)
    clicked = bot.slack.block_action(action_id=followups.ADD_DETAILS_ACTION, value="HC-1", user="U1", trigger_id="trig-details")
    assert clicked.status == 200
    opened = bot.fake.wait_for("views.open")[0]
    view = opened.params["view"]
    assert opened.params["trigger_id"] == "trig-details" and view["callback_id"] == followups.DETAILS_VIEW
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["steps", "expected"]

    def text(value: str | None) -> dict[str, dict[str, object]]:
        return {"value": {"type": "plain_text_input", "value": value}}

    empty = bot.slack.view_submission(callback_id=followups.DETAILS_VIEW, values={"steps": text(None), "expected": text(" ")},
                                      private_metadata=view["private_metadata"], user="U1")
    assert empty.json()["response_action"] == "errors" and ticket(bot).missing == ["steps", "expected"]
    sent = bot.slack.view_submission(
        callback_id=followups.DETAILS_VIEW, private_metadata=view["private_metadata"], user="U1",
        values={"steps": text("Open billing, pick March, press Download"), "expected": text("The total reads 120 EUR <!channel>")},
    )
    assert sent.status == 200 and sent.body == ""
    bot.settle()
    done = ticket(bot)
    assert (done.steps, done.status, done.missing) == ("Open billing, pick March, press Download", "new", [])
    [thanks] = bot_posts(bot, containing="everything the team needs")
    assert "<!channel>" not in thanks.params["text"], "nothing typed can ping anyone"


def set_asked_at(bot: RunningBot, moment: datetime) -> None:
    with Session(bot.engine) as session:
        session.execute(update(Followup).values(asked_at=moment, last_asked_at=moment))
        session.commit()


def nudges(fake: FakeSlack) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage") if "quick reminder" in c.params.get("text", "")]


# Monday 2 March 2026, 10:00 in Berlin: 4 working hours later is 14:00 the same day.
ASKED = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)


def test_one_nudge_after_the_delay_in_working_hours_and_it_survives_a_restart(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.add_user(user_id="U1", name="rita", tz="Europe/Berlin")
    first = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    try:
        ts = report(first, LACKS_STEPS_AND_EXPECTED)
        set_asked_at(first, ASKED)
        first.hypercare.scheduler.run_all(now=datetime(2026, 3, 2, 13, 59, tzinfo=BERLIN))
        first.settle()
        assert nudges(fake_slack) == []
        assert [c.params["user"] for c in fake_slack.calls_to("users.info")] == ["U1"]
        assert followup(first).reporter_tz == "Europe/Berlin"
    finally:
        stop(first)
    second = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    try:
        second.hypercare.scheduler.run_all(now=datetime(2026, 3, 2, 14, 1, tzinfo=BERLIN))
        second.settle()
        [nudge] = nudges(fake_slack)
        assert nudge.params["thread_ts"] == ts and nudge.params["text"].startswith("<@U1> ")
        assert "Steps to reproduce" in nudge.params["text"] and "Expected behaviour" in nudge.params["text"] and has_button(nudge)
        for later in (datetime(2026, 3, 2, 16, 0, tzinfo=BERLIN), datetime(2026, 3, 4, 11, 0, tzinfo=BERLIN)):
            second.hypercare.scheduler.run_all(now=later)
        second.settle()
        assert len(nudges(fake_slack)) == 1, "at most HYPERCARE_FOLLOWUP_MAX_NUDGES (1)"
        assert len(fake_slack.calls_to("users.info")) == 1, "the timezone is cached on the follow-up"
        assert ticket(second).status == "needs_info"
        with Session(second.engine) as session:
            assert [(t.key, f.nudges_sent) for t, f in followups.waiting_on_reporters(session, team_id="T001", max_nudges=1)] == [("HC-1", 1)]
    finally:
        stop(second)


def test_working_hours_skip_nights_and_weekends(quiet_bot: RunningBot) -> None:
    quiet_bot.fake.add_user(user_id="U1", name="kenji", tz="Asia/Tokyo")
    report(quiet_bot, LACKS_STEPS_AND_EXPECTED)
    tokyo = ZoneInfo("Asia/Tokyo")
    set_asked_at(quiet_bot, datetime(2026, 3, 6, 16, 0, tzinfo=tokyo))  # a Friday: 2 h that day, 2 h on Monday
    for silent in (datetime(2026, 3, 6, 20, 0, tzinfo=tokyo), datetime(2026, 3, 7, 12, 0, tzinfo=tokyo), datetime(2026, 3, 9, 10, 59, tzinfo=tokyo)):
        quiet_bot.hypercare.scheduler.run_all(now=silent)
    quiet_bot.settle()
    assert nudges(quiet_bot.fake) == []
    quiet_bot.hypercare.scheduler.run_all(now=datetime(2026, 3, 9, 11, 0, tzinfo=tokyo))
    quiet_bot.settle()
    assert len(nudges(quiet_bot.fake)) == 1


def test_two_processes_on_one_database_send_one_nudge(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.add_user(user_id="U1", name="rita", tz="Europe/Berlin")
    one = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    two = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False)
    try:
        report(one, LACKS_STEPS_AND_EXPECTED)
        set_asked_at(one, ASKED)
        now = datetime(2026, 3, 2, 15, 0, tzinfo=BERLIN)
        start = threading.Barrier(2)

        def run(running: RunningBot) -> None:
            start.wait()
            running.hypercare.scheduler.run_all(now=now)

        threads = [threading.Thread(target=run, args=(b,)) for b in (one, two, )]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        one.settle()
        two.settle()
        assert len(nudges(fake_slack)) == 1
        with Session(one.engine) as session:
            assert len(session.execute(select(FollowupNudge)).scalars().all()) == 1
    finally:
        stop(one)
        stop(two)


@pytest.mark.parametrize("closing", ["not_an_issue_button", "resolved_elsewhere", "reporter_says_so"])
def test_no_nudge_for_a_closed_ticket_or_after_not_an_issue(quiet_bot: RunningBot, closing: str) -> None:
    ts = report(quiet_bot, LACKS_STEPS_AND_EXPECTED)
    if closing == "not_an_issue_button":
        assert quiet_bot.slack.block_action(action_id="not_an_issue", value="HC-1", user="U1").status == 200
    elif closing == "resolved_elsewhere":
        with Session(quiet_bot.engine) as session:
            session.execute(update(Ticket).values(status="resolved"))
            session.commit()
    else:
        reply(quiet_bot, ts, "never mind, it works now")
        assert ticket(quiet_bot).status == "new"
    quiet_bot.settle()
    set_asked_at(quiet_bot, ASKED)
    quiet_bot.hypercare.scheduler.run_all(now=datetime(2026, 3, 3, 11, 0, tzinfo=BERLIN))
    quiet_bot.settle()
    assert nudges(quiet_bot.fake) == []
    assert followup(quiet_bot).state == "stopped"
    reply(quiet_bot, ts, "Steps: open billing and click March")
    assert ticket(quiet_bot).steps is None and bot_posts(quiet_bot, containing="recorded") == []


def test_hc_ask_posts_in_the_thread_and_records_the_answer(bot: RunningBot) -> None:
    ts = report(bot, COMPLETE)
    for text, expect in (("ask", "/hc ask HC-12 <question>"), ("ask HC-9 does it happen on mobile?", "no ticket HC-9"), ("ask HC-1", "What should I ask?")):
        answer = bot.slack.command(text=text, user="U_TRIAGE").json()
        assert answer["response_type"] == "ephemeral" and expect in json.dumps(answer)
    answer = bot.slack.command(text="ask HC-1 Does it also happen in the mobile app? <!channel>", user="U_TRIAGE").json()
    assert "Asked in HC-1's thread" in answer["text"]
    bot.settle()
    [asked] = bot_posts(bot, containing="from the triage team asks")
    assert asked.params["thread_ts"] == ts and asked.params["text"].startswith("<@U1> <@U_TRIAGE>")
    assert "mobile app" in asked.params["text"] and "<!channel>" not in asked.params["text"]
    reply(bot, ts, "yes, on Android too", user="U1")
    with Session(bot.engine) as session:
        [question] = session.execute(select(FollowupQuestion)).scalars().all()
    assert (question.answered_by, question.answer) == ("U1", "yes, on Android too")
    [recorded] = history(bot, "answer")
    assert recorded.actor == "U1" and "mobile app" in (recorded.note or "") and "Android" in (recorded.note or "")
    assert bot_posts(bot, containing="answered; I recorded it")[0].params["text"].startswith("<@U_TRIAGE> <@U1>")
    reply(bot, ts, "also on iOS", user="U1")
    assert len(history(bot, "answer")) == 1, "one question, one answer"


STORM = (
    "The invoice total is wrong on Chrome 131: it shows 0 EUR", "Profile photos are blurry after upload",
    "The export button on the reports page does nothing", "Password reset emails never arrive",
    "Dark mode toggle resets after logout", "The calendar shows meetings one hour off",
    "Search results are empty for every query", "Notification badge count is stuck at 99",
    "Team invite link returns 404", "CSV import drops the last row",
)


def test_hc_ask_is_for_the_triage_team(fake_slack: FakeSlack, database_url: str) -> None:
    running = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False, triage_users=("U_TRIAGE",))
    try:
        report(running, COMPLETE)
        refused = running.slack.command(text="ask HC-1 which browser?", user="U_OTHER").json()
        assert refused["response_type"] == "ephemeral" and "Only the triage team" in refused["text"]
        assert running.slack.command(text="ask HC-1 which browser?", user="U_TRIAGE").json()["text"].startswith("Asked")
        running.settle()
        assert len(bot_posts(running, containing="from the triage team asks")) == 1
        with Session(running.engine) as session:
            assert [q.asked_by for q in session.execute(select(FollowupQuestion)).scalars()] == ["U_TRIAGE"]
    finally:
        stop(running)


def test_an_answer_the_bot_cannot_place_gets_one_hint(bot: RunningBot) -> None:
    ts = report(bot, LACKS_STEPS_AND_EXPECTED)
    reply(bot, ts, "the numbers look odd to me")
    reply(bot, ts, "no idea really what else to say")
    [hint] = bot_posts(bot, containing="couldn't tell which detail")
    assert hint.params["thread_ts"] == ts and has_button(hint) and "steps to reproduce and expected behaviour" in hint.params["text"]
    assert ticket(bot).missing == ["steps", "expected"] and len(history(bot, "comment")) == 2


def test_storm_of_reports_gets_every_question_paced_and_oldest_first(fake_slack: FakeSlack, database_url: str) -> None:
    interval = 0.2
    storm = start_bot(fake=fake_slack, database_url=database_url, channel_post_interval=interval, scheduler_enabled=False)
    try:
        sent = [storm.slack.message(channel="C100", user=f"U{n}", text=text) for n, text in enumerate(STORM)]
        storm.settle(timeout=60)
        posts = [c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == "C100"]
        asked = [c for c in posts if "we need a bit more" in c.params["text"]]
        assert [c.params["thread_ts"] for c in asked] == [s.ts for s in sent], "one question per report, none lost, oldest first"
        assert len(posts) == 20  # ten cards, ten questions
        gaps = [b.at - a.at for a, b in zip(posts, posts[1:])]
        assert min(gaps) >= interval * 0.9, f"posts in one channel are paced: {gaps}"
        assert sorted(posts, key=lambda c: Decimal(c.response["ts"])) == posts  # type: ignore[index]
    finally:
        stop(storm)


def test_working_hours_arithmetic() -> None:
    friday_5pm = datetime(2026, 3, 6, 17, 0, tzinfo=BERLIN)
    assert reminders.add_working_hours(friday_5pm, hours=4, tz=BERLIN) == datetime(2026, 3, 9, 12, 0, tzinfo=BERLIN)
    saturday = datetime(2026, 3, 7, 10, 0, tzinfo=BERLIN)
    assert reminders.add_working_hours(saturday, hours=4, tz=BERLIN) == datetime(2026, 3, 9, 13, 0, tzinfo=BERLIN)
    early = datetime(2026, 3, 2, 6, 30, tzinfo=BERLIN)
    assert reminders.add_working_hours(early, hours=9, tz=BERLIN) == datetime(2026, 3, 2, 18, 0, tzinfo=BERLIN)
    # The night clocks change (29 March 2026 in Berlin) does not shift working hours.
    before_dst = datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN)
    assert reminders.add_working_hours(before_dst, hours=4, tz=BERLIN) == datetime(2026, 3, 30, 11, 0, tzinfo=BERLIN)
    assert reminders.add_working_hours(before_dst, hours=4, tz=BERLIN).tzinfo == timezone.utc
    assert not reminders.in_working_hours(datetime(2026, 3, 2, 18, 0, tzinfo=BERLIN), tz=BERLIN)
    assert reminders.in_working_hours(datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN), tz=BERLIN)
