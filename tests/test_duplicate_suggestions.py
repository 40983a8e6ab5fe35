"""Duplicates by meaning over real HTTP (issue 12): a borderline report is filed and suggested with
*Same problem* / *Different*; a confident one is linked; one matching a ticket resolved yesterday
is answered with that ticket and its resolution note; an unrelated one is left alone."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from bot.duplicates import LINK, SUGGEST, judge
from bot.intake.linking import DIFFERENT_ACTION, SAME_ACTION, find_duplicate
from models.duplicate_tables import DuplicatePair
from models.types import utcnow
from tests.conftest import RunningBot
from tests.fake_slack import Call
from tests.slack_requests import Response, new_ts
from tests.triage_support import all_tickets, seed, ticket, ticket_events

ORIGINAL = "Password reset email never arrives"
BORDERLINE = "no mail after clicking forgot password"  # shares one word with ORIGINAL: the reporter is asked
CONFIDENT = "I never got the email to reset my password"
UNRELATED = "The settings page crashes on iOS when I rotate the phone"


def thread(bot: RunningBot, channel: str, ts: str) -> list[Call]:
    return [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("channel") == channel and c.params.get("thread_ts") == ts]


def suggestions(bot: RunningBot) -> list[Call]:
    return [c for c in bot.fake.calls_to("chat.postMessage") if str(c.params.get("text", "")).startswith("Possibly the same as")]


def click(bot: RunningBot, post: Call, action_id: str, *, user: str, key: str) -> Response:
    [button] = [e for b in post.params["blocks"] for e in b.get("elements") or [] if e.get("action_id") == action_id]
    response = bot.slack.block_action(action_id=action_id, value=button["value"], user=user, channel=post.params["channel"],
                                      message_ts=new_ts(), response_url=bot.fake.response_url(key=key))
    assert response.status == 200, response.body
    bot.settle()
    return response


def replies(bot: RunningBot, key: str) -> list[Call]:
    return bot.fake.calls_to(f"response_url:{key}")


def pairs(bot: RunningBot) -> list[tuple[int, int, str, str | None]]:
    with Session(bot.engine) as session:
        rows = session.execute(select(DuplicatePair).order_by(DuplicatePair.id)).scalars()
        return [(p.ticket_id, p.other_id, p.kind, p.decision) for p in rows]


def test_fixture_texts_sit_where_the_tests_say() -> None:
    from bot.duplicates import Candidate

    original = [Candidate(1, f"{ORIGINAL}\n{ORIGINAL}")]
    assert [getattr(judge(t, original), "outcome", None) for t in (BORDERLINE, CONFIDENT, UNRELATED)] == [SUGGEST, LINK, None]


def test_a_borderline_report_is_filed_and_same_problem_links_it(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text=ORIGINAL)
    bot.settle()
    report = bot.slack.message(channel="C101", user="U2", text=BORDERLINE)
    bot.settle()
    assert [(t.key, t.status, t.reporter) for t in all_tickets(bot)] == [("HC-1", "needs_info", "U1"), ("HC-2", "needs_info", "U2")]
    [suggestion] = suggestions(bot)
    assert suggestion in thread(bot, "C101", report.ts), "said in the report's own thread"
    assert suggestion.params["text"] == f"Possibly the same as HC-1: {ORIGINAL}"
    labels = [e["text"]["text"] for b in suggestion.params["blocks"] for e in b.get("elements") or []]
    assert labels == ["Same problem", "Different"]
    assert ticket(bot, "HC-1").affected_users == ["U1"], "nothing linked before someone says so"

    click(bot, suggestion, SAME_ACTION, user="U2", key="same")
    first, second = ticket(bot, "HC-1"), ticket(bot, "HC-2")
    assert (second.status, second.duplicate_of) == ("duplicate", "HC-1")
    assert first.affected_users == ["U1", "U2"], "the reporter joined the original"
    assert any("HC-2 was marked a duplicate" in (e.note or "") for e in ticket_events(bot, "linked"))
    [answer] = replies(bot, "same")
    assert answer.params["replace_original"] is True and "closed as a duplicate of HC-1" in answer.params["text"]
    assert pairs(bot) == [(second.id, first.id, "suggested", "same")]
    # A second click (a stale message, another person) changes nothing and says why.
    click(bot, suggestion, DIFFERENT_ACTION, user="U2", key="late")
    [late] = replies(bot, "late")
    assert "already said" in json.dumps(late.params) and pairs(bot)[0][3] == "same"


def test_different_is_recorded_and_never_suggested_again(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text=ORIGINAL)
    bot.settle()
    report = bot.slack.message(channel="C101", user="U2", text=BORDERLINE)
    bot.settle()
    [suggestion] = suggestions(bot)
    click(bot, suggestion, DIFFERENT_ACTION, user="U2", key="different")
    [answer] = replies(bot, "different")
    assert "different problem from HC-1" in answer.params["text"] and "won't suggest it again" in answer.params["text"]
    first, second = ticket(bot, "HC-1"), ticket(bot, "HC-2")
    assert pairs(bot) == [(second.id, first.id, "suggested", "different")]
    assert (second.status, first.affected_users) == ("needs_info", ["U1"]), "both stay open and apart"
    [said] = ticket_events(bot, "not_duplicate")
    assert (said.ticket_id, said.actor) == (second.id, "U2")

    # An edit re-checks the report (a control: an unrelated ticket edited into the same words is
    # suggested), but the pair decided "different" is not suggested again.
    other = bot.slack.message(channel="C102", user="U3", text=UNRELATED)
    bot.settle()
    assert len(all_tickets(bot)) == 3 and len(suggestions(bot)) == 1
    for ts, channel, user, text in ((report.ts, "C101", "U2", f"{BORDERLINE} (still nothing)"), (other.ts, "C102", "U3", BORDERLINE)):
        bot.slack.event(event={"type": "message", "subtype": "message_changed", "channel": channel, "ts": new_ts(),
                               "message": {"type": "message", "user": user, "text": text, "ts": ts}})
        bot.settle()
    assert [s.params["channel"] for s in suggestions(bot)] == ["C101", "C102"], "HC-3 is now suggested; HC-2 is not again"


def test_a_confident_duplicate_is_still_linked(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text=ORIGINAL)
    bot.settle()
    report = bot.slack.message(channel="C101", user="U2", text=CONFIDENT)
    bot.settle()
    [only] = all_tickets(bot)
    assert only.affected_users == ["U1", "U2"] and suggestions(bot) == []
    assert [c.params["text"] for c in thread(bot, "C101", report.ts)] == ["Looks like HC-1 — added you to it. (2 people affected)"]


def test_a_report_matching_a_ticket_resolved_yesterday_names_it_and_its_fix(bot: RunningBot) -> None:
    fixed = seed(bot, "CSV export is missing the last row of the invoice list", status="resolved",
                 resolved_at=utcnow() - timedelta(days=1), resolution="Off-by-one in the CSV writer, fixed in 2.4.1 (deploying today)")
    old = seed(bot, "Dashboard loads very slowly for EU customers", status="resolved",
               resolved_at=utcnow() - timedelta(days=10), resolution="CDN in Frankfurt")
    report = bot.slack.message(channel="C101", user="U2", text="the exported CSV of invoices drops the final row")
    late = bot.slack.message(channel="C102", user="U3", text="EU dashboard takes forever to load")
    bot.settle()
    tickets = {t.key: t for t in all_tickets(bot)}
    assert set(tickets) == {fixed.key, old.key, "HC-3", "HC-4"}, "filed on their own: never linked into a resolved ticket"
    new = next(t for t in tickets.values() if t.message_ts == report.ts)
    assert tickets[fixed.key].affected_users == ["U_REP"] and new.status in ("new", "needs_info")
    [note] = [c for c in thread(bot, "C101", report.ts) if c.params["blocks"][0].get("block_id") == "resolved_match"]
    shown = note.params["blocks"][0]["text"]["text"]
    assert f"This looks like {fixed.key}" in shown and "resolved 1d ago" in shown
    assert "Off-by-one in the CSV writer, fixed in 2.4.1 (deploying today)" in shown and new.key in shown
    assert [e.ticket_id for e in ticket_events(bot, "related")] == [new.id, fixed.id], "both histories say so"
    assert [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == late.ts and "resolved" in c.params["text"]] == [], \
        "a ticket resolved 10 days ago is not a candidate"
    assert suggestions(bot) == []


def test_an_unrelated_report_is_not_linked(bot: RunningBot) -> None:
    bot.slack.message(channel="C100", user="U1", text=ORIGINAL)
    bot.settle()
    report = bot.slack.message(channel="C101", user="U2", text=UNRELATED)
    bot.settle()
    assert [(t.key, t.affected_users) for t in all_tickets(bot)] == [("HC-1", ["U1"]), ("HC-2", ["U2"])]
    assert suggestions(bot) == [] and ticket_events(bot, "linked") == []
    assert not any("HC-1" in c.params["text"] for c in thread(bot, "C101", report.ts))
