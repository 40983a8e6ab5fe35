"""GitHub Issues hand-off over real HTTP (issue 15): the bot on a real port, Slack and GitHub faked
on loopback. Push by command and button, the issue's fields, the link on the card and in the thread,
retries, exactly-once after a lost answer, permanent errors, and the webhooks coming back."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session

from models.tables import SlackEvent, TicketEvent
from tests.conftest import RunningBot, stop_bot
from tests.fake_slack import FakeSlack
from tests.fake_trackers import FakeTrackers
from tests.tracker_support import (
    dms, github_comment_event, github_issue_event, in_thread, link, report, start_tracker_bot, wait_linked, webhook,
)
from tests.triage_support import hc, shown, ticket

REPORT = ("Checkout fails with error 500 for @alice since the deploy. Steps: 1. add an item to the cart 2. press Pay. "
          "Expected: the order is placed. Actual: error 500 page. Environment: Chrome 120 on macOS. Mail me at jane.doe@example.com")


def test_push_creates_one_issue_with_the_report_and_links_it_back(tbot: RunningBot, trackers: FakeTrackers) -> None:
    bot = tbot
    ts = report(bot, REPORT, user="U1")
    answer = hc(bot, "push HC-1", user="U_T1")
    assert "Sending HC-1 to GitHub acme/shop" in shown(answer)
    found = wait_linked(bot)
    assert (found.state, found.external_key, found.url) == ("linked", "acme/shop#1", "https://github.com/acme/shop/issues/1")
    [create] = trackers.calls_to("github", "create")
    issue = create.body
    assert "Checkout fails" in issue["title"] and "HC-1" in issue["title"]
    body = issue["body"]
    for section in ("### Steps to reproduce", "### Expected", "### Actual", "### Environment"):
        assert section in body, section
    assert "jane.doe@example.com" not in body and "[email]" in body, "the report is masked"
    assert "@alice" not in body and "@\u200balice" in body, "nobody is pinged on GitHub"
    assert "**Affected:** 1 person" in body and "**Hypercare ticket:** HC-1" in body
    assert f"**Slack:** {ticket(bot, 'HC-1').permalink}" in body
    assert "<!-- hypercare:T001:HC-1 -->" in body
    assert set(issue["labels"]) == {f"severity:{ticket(bot, 'HC-1').severity}", "category:bug", "hypercare"}
    assert trackers.calls_to("github", "list") == [], "a first attempt does not search"
    [tracked] = [c for c in in_thread(bot, "C100", ts) if "Tracked in" in c.params["text"]]
    assert "acme/shop#1" in tracked.params["text"]
    card = json.dumps(bot.fake.calls_to("chat.update")[-1].params["blocks"])
    assert "Tracked in <https://github.com/acme/shop/issues/1|acme/shop#1>" in card
    assert "Tracked in <https://github.com/acme/shop/issues/1|acme/shop#1>" in shown(hc(bot, "show HC-1", user="U1"))
    again = hc(bot, "push HC-1", user="U_T1")
    assert "already tracked in acme/shop#1" in shown(again)
    bot.settle()
    assert len(trackers.calls_to("github", "create")) == 1


def test_card_button_pushes_and_only_the_triage_team_may(tbot: RunningBot, trackers: FakeTrackers) -> None:
    bot = tbot
    report(bot, "The export to CSV button does nothing on the reports page", user="U1")
    [card] = [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("blocks") and c.params["blocks"][0].get("block_id") == "card"]
    buttons = [e for b in card.params["blocks"] for e in b.get("elements") or [] if e.get("action_id") == "tracker_push"]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [("Send to GitHub", "HC-1")]
    refused = bot.slack.block_action(action_id="tracker_push", value="HC-1", user="U2", response_url=bot.fake.response_url(key="no"))
    assert refused.status == 200
    assert "Only the triage team" in bot.fake.wait_for("response_url:no")[0].params["text"]
    assert link(bot) is None
    assert bot.slack.block_action(action_id="tracker_push", value="HC-1", user="U_T1").status == 200
    assert wait_linked(bot).external_key == "acme/shop#1"
    assert len(trackers.calls_to("github", "create")) == 1


def test_server_errors_then_success_create_one_issue(tbot: RunningBot, trackers: FakeTrackers) -> None:
    bot = tbot
    report(bot, "Search results page times out for queries with accents", user="U1")
    trackers.fail_next("github", "create", status=500, times=1)
    trackers.fail_next("github", "create", status=429, retry_after=0.2)
    hc(bot, "push HC-1", user="U_T1")
    found = wait_linked(bot)
    assert found.external_key == "acme/shop#1"
    assert len(trackers.calls_to("github", "create")) == 3 and len(trackers.github["acme/shop"]) == 1


def test_answer_lost_after_create_makes_no_second_issue(tbot: RunningBot, trackers: FakeTrackers) -> None:
    """GitHub created the issue but the answer never came (a cut connection, as after a crash):
    the retry finds the issue by its HC-1 marker instead of creating another."""
    bot = tbot
    ts = report(bot, "Uploading an avatar larger than 2 MB fails silently", user="U1")
    trackers.drop_after("github", "create")
    hc(bot, "push HC-1", user="U_T1")
    found = wait_linked(bot)
    assert found.external_key == "acme/shop#1"
    assert len(trackers.calls_to("github", "create")) == 1 and len(trackers.github["acme/shop"]) == 1
    assert len(trackers.calls_to("github", "list")) == 1
    assert len([c for c in in_thread(bot, "C100", ts) if "Tracked in" in c.params["text"]]) == 1


def test_permanent_error_is_recorded_and_told_to_the_pusher_with_the_fix(tbot: RunningBot, trackers: FakeTrackers) -> None:
    bot = tbot
    report(bot, "Dashboard charts are empty for the last 7 days", user="U1")
    hc(bot, "push HC-1 github acme/missing", user="U_T1")
    found = wait_linked(bot)
    assert found.state == "failed" and "404" in (found.error or "")
    assert len(trackers.calls_to("github", "create")) == 1, "a 404 is not retried"
    [dm] = dms(bot, "U_T1")
    told = json.dumps(dm.params["blocks"])
    assert "couldn't create the issue" in told and "project was not found" in told and "/hc push HC-1" in told
    with Session(bot.engine) as session:
        notes = [e.note for e in session.execute(select(TicketEvent).where(TicketEvent.kind == "tracker_failed")).scalars()]
    assert len(notes) == 1 and "acme/missing" in (notes[0] or "")
    # Fixed: pushing again to the right repository works.
    hc(bot, "push HC-1 github acme/shop", user="U_T1")
    bot.settle()
    assert wait_linked(bot).external_key == "acme/shop#1"


def test_bad_token_is_a_permanent_error(fake_slack: FakeSlack, trackers: FakeTrackers, database_url: str) -> None:
    bot = start_tracker_bot(fake_slack, trackers, database_url, github_token="revoked")
    try:
        report(bot, "Password reset e-mails never arrive", user="U1")
        hc(bot, "push HC-1", user="U_T1")
        assert wait_linked(bot).state == "failed"
        assert "token was refused" in json.dumps(dms(bot, "U_T1")[0].params["blocks"])
        assert len(trackers.calls_to("github", "create")) == 1
    finally:
        stop_bot(bot)


def _three_reporters(bot: RunningBot) -> tuple[str, str]:
    first = report(bot, "Login fails with error 502 since the deploy", user="U1", channel="C100")
    linked = report(bot, "can't sign in, getting a 502 error", user="U2", channel="C101")
    report(bot, "The invoice PDF shows the wrong VAT amount", user="U3", channel="C102")
    hc(bot, "dup HC-2 HC-1", user="U_T1")
    bot.settle()
    assert ticket(bot, "HC-1").affected_users == ["U1", "U2", "U3"]
    return first, linked


def test_closing_the_issue_resolves_the_ticket_and_tells_every_reporter_once(tbot: RunningBot, trackers: FakeTrackers) -> None:
    bot = tbot
    first, linked = _three_reporters(bot)
    hc(bot, "push HC-1", user="U_T1")
    assert wait_linked(bot).external_key == "acme/shop#1"
    before = {u: len(dms(bot, u)) for u in ("U1", "U2", "U3")}

    comment = github_comment_event("Fixed by rolling back the session store <!channel>", number=1)
    assert webhook(bot, "github", comment, event="issue_comment")[0] == 200
    closed = github_issue_event("closed", number=1, sender="octo-dev")
    status, _ = webhook(bot, "github", closed, event="issues", delivery="d-close-1")
    assert status == 200
    bot.settle()
    assert webhook(bot, "github", closed, event="issues", delivery="d-close-1")[0] == 200, "a redelivery is acknowledged"
    bot.settle()
    resolved = ticket(bot, "HC-1")
    assert resolved.status == "resolved" and "rolling back the session store" in (resolved.resolution or "")
    for user in ("U1", "U2", "U3"):
        fixed = [c for c in dms(bot, user)[before[user]:] if "is fixed" in c.params["text"]]
        assert len(fixed) == 1, f"{user} is told once"
        summary = fixed[0].params["blocks"][0]["text"]["text"]
        assert "octo-dev in acme/shop#1" in summary and "csat" in json.dumps(fixed[0].params["blocks"])
    [said] = [c for c in in_thread(bot, "C100", first) if "Resolved in acme/shop#1" in c.params["text"]]
    assert "<!channel>" not in json.dumps(said.params), "a tracker comment never pings"
    assert any(c.params["timestamp"] == first and c.params["name"] == "white_check_mark" for c in bot.fake.calls_to("reactions.add"))
    assert [c for c in in_thread(bot, "C101", linked) if "which this report joined" in c.params["text"]]
    with Session(bot.engine) as session:
        stored = session.execute(select(SlackEvent).where(SlackEvent.event_type == "tracker:github")).scalars().all()
    assert sorted(e.event_id for e in stored if "d-close-1" in e.event_id) == ["tracker:github:d-close-1"], "stored once"
    comments = trackers.github_comments.get("acme/shop#1", [])
    assert not any("Resolved in Slack" in c["body"] for c in comments), "the tracker's own close is not sent back to it"

    # Reopened there: reopened here; the check mark goes.
    assert webhook(bot, "github", github_issue_event("reopened", number=1), event="issues")[0] == 200
    bot.settle()
    assert ticket(bot, "HC-1").status == "triaged"
    assert any(c.params["timestamp"] == first for c in bot.fake.calls_to("reactions.remove"))


def test_forged_webhooks_are_refused_and_change_nothing(tbot: RunningBot, trackers: FakeTrackers) -> None:
    bot = tbot
    report(bot, "Notifications arrive twice on Android", user="U1")
    hc(bot, "push HC-1", user="U_T1")
    wait_linked(bot)
    closed = github_issue_event("closed", number=1)
    assert webhook(bot, "github", closed, event="issues", secret="wrong")[0] == 401
    status, _ = webhook(bot, "github", closed, event="issues", raw=json.dumps({**closed, "sender": {"login": "mallory"}}).encode() + b" ", secret="wrong")
    assert status == 401
    bot.settle()
    assert ticket(bot, "HC-1").status != "resolved"
    with Session(bot.engine) as session:
        assert session.execute(select(SlackEvent).where(SlackEvent.event_type == "tracker:github")).scalars().all() == []


def test_comments_come_back_only_where_the_channel_opted_in(tbot: RunningBot, trackers: FakeTrackers) -> None:
    bot = tbot
    ts = report(bot, "Export to PDF cuts off the last page", user="U1")
    hc(bot, "push HC-1", user="U_T1")
    wait_linked(bot)
    webhook(bot, "github", github_comment_event("Looking into it", number=1), event="issue_comment")
    bot.settle()
    assert not [c for c in in_thread(bot, "C100", ts) if "Looking into it" in c.params["text"]], "off by default"
    assert "tracker comments come into" in shown(hc(bot, "tracker comments on", user="U_T1"))
    webhook(bot, "github", github_comment_event("Found it: a rounding bug @here", number=1), event="issue_comment")
    bot.settle()
    [back] = [c for c in in_thread(bot, "C100", ts) if "Found it" in c.params["text"]]
    assert "octo-dev" in back.params["text"] and "<!here>" not in json.dumps(back.params)


def test_closed_as_not_planned_is_wont_fix_and_the_reporter_hears_why(tbot: RunningBot, trackers: FakeTrackers) -> None:
    bot = tbot
    report(bot, "The export button is greyed out on the reports page", user="U1")
    hc(bot, "push HC-1", user="U_T1")
    wait_linked(bot)
    not_planned = github_issue_event("closed", number=1)
    not_planned["issue"]["state_reason"] = "not_planned"
    assert webhook(bot, "github", not_planned, event="issues")[0] == 200
    bot.settle()
    closed = ticket(bot, "HC-1")
    assert closed.status == "wont_fix" and closed.resolution == "Closed as not planned in acme/shop#1 by octo-dev"
    [dm] = dms(bot, "U1")
    assert "won't be fixed" in dm.params["blocks"][0]["text"]["text"] and "csat" not in json.dumps(dm.params["blocks"])


def test_without_trackers_nothing_changes_and_push_explains(fake_slack: FakeSlack, database_url: str) -> None:
    from tests.conftest import start_bot

    fake_slack.add_user(user_id="U1", name="u1")
    bot = start_bot(fake=fake_slack, database_url=database_url, triage_users=("U_T1",))
    try:
        report(bot, "The export button is greyed out on the reports page", user="U1")
        [card] = [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("blocks") and c.params["blocks"][0].get("block_id") == "card"]
        assert "tracker_push" not in json.dumps(card.params["blocks"]), "no button when no tracker is connected"
        answer = hc(bot, "push HC-1", user="U_T1")
        assert "No tracker is connected yet" in shown(answer) and "docs/trackers.md" in shown(answer)
        assert "GitHub is not connected" in shown(hc(bot, "push HC-1 github acme/shop", user="U_T1"))
        assert "No tracker is connected yet" in shown(hc(bot, "tracker", user="U1"))
        status, text = webhook(bot, "github", github_issue_event("closed", number=1), event="issues")
        assert status == 503 and "HYPERCARE_GITHUB_WEBHOOK_SECRET" in text, "no secret configured: nothing accepted"
    finally:
        stop_bot(bot)
