"""Closing the loop over real HTTP, on SQLite and PostgreSQL (issue 7): every reporter hears about
the fix in their thread and by DM, rates it, can reopen it; DMs off is respected; bots get no DM."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.loop import csat, notices as notify
from models.loop_tables import ResolutionNotice
from models.tables import OutboxMessage, Ticket, TicketEvent
from tests.conftest import RunningBot, start_bot
from tests.fake_slack import Call, FakeSlack
from tests.slack_requests import Response
from tests.triage_support import hc, shown, ticket

REPORTERS = ("U1", "U2", "U3")


@pytest.fixture
def loop_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    """U_T1 triages; U1–U3 are people in the workspace; U_ROBOT is a bot user."""
    for user in (*REPORTERS, "U_T1"):
        fake_slack.add_user(user_id=user, name=user.lower())
    fake_slack.add_user(user_id="U_ROBOT", name="deploybot", is_bot=True)
    running = start_bot(fake=fake_slack, database_url=database_url, triage_users=("U_T1",), scheduler_enabled=False)
    yield running
    running.server.stop()
    running.hypercare.stop()
    running.hypercare.engine.dispose()


def report(bot: RunningBot, text: str, *, user: str, channel: str) -> str:
    sent = bot.slack.message(channel=channel, user=user, text=text)
    assert sent.status == 200 and sent.ts
    bot.settle()
    return sent.ts


def dms(bot: RunningBot, user: str) -> list[Call]:
    """Direct messages the bot posted to `user` (the fake's DM channel for U1 is DU1)."""
    return [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("channel") == "D" + user and c.response and c.response.get("ok")]


def in_thread(bot: RunningBot, channel: str, ts: str) -> list[Call]:
    return [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("channel") == channel and c.params.get("thread_ts") == ts]


def button(call: Call, action_id: str) -> dict[str, str]:
    return next(e for b in call.params["blocks"] for e in b.get("elements") or [] if e.get("action_id") == action_id)


def click(bot: RunningBot, dm: Call, action_id: str, *, user: str, key: str = "click") -> Response:
    assert dm.response is not None
    return bot.slack.block_action(
        action_id=action_id, value=button(dm, action_id)["value"], user=user, channel=dm.response["channel"],
        message_ts=dm.response["ts"], response_url=bot.fake.response_url(key=key), trigger_id=f"trig-{user}",
    )


def notices(bot: RunningBot) -> list[ResolutionNotice]:
    with Session(bot.engine) as session:
        return list(session.execute(select(ResolutionNotice).order_by(ResolutionNotice.id)).scalars())


def events(bot: RunningBot, kind: str) -> list[TicketEvent]:
    with Session(bot.engine) as session:
        return list(session.execute(select(TicketEvent).where(TicketEvent.kind == kind).order_by(TicketEvent.id)).scalars())


def three_reports(bot: RunningBot) -> tuple[str, str, str]:
    """HC-1 from U1 in C100; U2's report in C101 linked to it; U3's HC-2 closed as its duplicate."""
    first = report(bot, "Login fails with error 502 since the deploy", user="U1", channel="C100")
    linked = report(bot, "can't sign in, getting a 502 error", user="U2", channel="C101")
    third = report(bot, "The invoice PDF shows the wrong VAT amount", user="U3", channel="C102")
    assert "duplicate of HC-1" in shown(hc(bot, "dup HC-2 HC-1"))
    bot.settle()
    assert ticket(bot, "HC-1").affected_users == ["U1", "U2", "U3"], "premise: all three joined HC-1"
    return first, linked, third


def test_resolve_tells_every_reporter_in_their_thread_and_by_dm(loop_bot: RunningBot) -> None:
    bot = loop_bot
    first, linked, third = three_reports(bot)
    [joined] = dms(bot, "U3")
    assert "Your report HC-2 joined HC-1" in joined.params["blocks"][0]["text"]["text"], "the duplicate's reporter learns which ticket it joined"
    assert dms(bot, "U1") == [] and dms(bot, "U2") == []

    answer = hc(bot, "resolve HC-1 The load balancer dropped sessions <!channel>; rolled back", user="U_T1")
    assert "is resolved" in shown(answer)
    bot.settle()
    announcement = [c for c in in_thread(bot, "C100", first) if "resolved HC-1" in c.params["text"]]
    assert len(announcement) == 1 and "<@U_T1>" in json.dumps(announcement[0].params["blocks"])
    assert "load balancer dropped sessions" in announcement[0].params["text"]
    for channel, ts in (("C101", linked), ("C102", third)):
        [told] = [c for c in in_thread(bot, channel, ts) if "which this report joined" in c.params["text"]]
        assert "load balancer" in told.params["text"], "told where they reported it"
    link = ticket(bot, "HC-1").permalink
    assert link
    for user in REPORTERS:
        [dm] = [c for c in dms(bot, user) if "is fixed" in c.params["text"]]
        summary = dm.params["blocks"][0]["text"]["text"]
        assert "*HC-1 is fixed*" in summary and "Login fails with error 502" in summary and "rolled back" in summary
        assert f"<{link}|View the thread>" in summary and "<@U_T1>" in summary
        assert {button(dm, csat.RATE_UP)["value"], button(dm, csat.RATE_DOWN)["value"]} == {str(n.id) for n in notices(bot) if n.user_id == user}
    assert "your report HC-2 joined it" in dms(bot, "U3")[-1].params["blocks"][0]["text"]["text"]
    opened = sorted(c.params["users"] for c in bot.fake.calls_to("conversations.open"))
    assert opened == ["U1", "U2", "U3", "U3"], "one DM channel opened per message, none twice"
    assert dms(bot, "U_T1") == [], "no DM to the person who resolved it"
    reacted = {(c.params["channel"], c.params["timestamp"]) for c in bot.fake.calls_to("reactions.add") if c.params["name"] == "white_check_mark"}
    assert reacted == {("C100", first), ("C101", linked), ("C102", third)}
    card = json.dumps(bot.fake.calls_to("chat.update")[-1].params["blocks"])
    assert "status *resolved*" in card and "load balancer" in card
    posted = json.dumps([c.params for c in bot.fake.calls if c.method == "chat.postMessage"])
    assert "<!channel>" not in posted, "a typed note never pings"
    assert [(n.user_id, n.round, n.rating) for n in notices(bot)] == [("U1", 1, None), ("U2", 1, None), ("U3", 1, None)]


def test_thumbs_up_records_thumbs_down_asks_why_and_reopens(loop_bot: RunningBot) -> None:
    bot = loop_bot
    first, _, _ = three_reports(bot)
    hc(bot, "resolve HC-1 Rolled back the load balancer config", user="U_T1")
    bot.settle()
    [dm1], [dm2] = dms(bot, "U1"), dms(bot, "U2")

    refused = click(bot, dm1, csat.RATE_UP, user="U2", key="refused")
    assert refused.status == 200
    assert "someone else" in bot.fake.wait_for("response_url:refused")[0].params["text"]
    assert all(n.rating is None for n in notices(bot)), "only the person asked can answer"

    assert click(bot, dm1, csat.RATE_UP, user="U1").status == 200
    bot.settle()
    assert [(n.user_id, n.rating) for n in notices(bot) if n.rating] == [("U1", "up")]
    [thanks] = [c for c in bot.fake.calls_to("chat.update") if c.params["channel"] == "DU1"]
    assert thanks.params["ts"] == dm1.response["ts"] and "fixed for you" in json.dumps(thanks.params["blocks"])
    assert "actions" not in json.dumps(thanks.params["blocks"]), "the buttons are gone once answered"

    assert click(bot, dm2, csat.RATE_DOWN, user="U2").status == 200
    modal = bot.fake.wait_for("views.open")[0].params
    assert modal["trigger_id"] == "trig-U2" and modal["view"]["callback_id"] == csat.REASON_VIEW
    assert ticket(bot, "HC-1").status == "resolved", "nothing changes before the reason is given"

    def reason(text: str) -> Response:
        values = {"reason": {"value": {"type": "plain_text_input", "value": text}}}
        return bot.slack.view_submission(callback_id=csat.REASON_VIEW, values=values, private_metadata=modal["view"]["private_metadata"], user="U2")

    empty = reason("   ")
    assert empty.json()["response_action"] == "errors" and "reason" in empty.json()["errors"]
    assert ticket(bot, "HC-1").status == "resolved"
    assert reason("Still 502 on the mobile app <!here>, mail me at jane.doe@example.com").status == 200
    bot.settle()
    reopened = ticket(bot, "HC-1")
    assert (reopened.status, reopened.resolution, reopened.resolved_at) == ("new", None, None)
    assert [(n.user_id, n.rating, n.reason) for n in notices(bot) if n.rating] == [("U1", "up", None), ("U2", "down", "Still 502 on the mobile app <!here>, mail me at [email]")]
    status_change = [e for e in events(bot, "changed") if e.field_name == "status" and e.new_value == "new"]
    assert [(e.actor, e.old_value) for e in status_change] == [("U2", "resolved")] and "Still 502" in (status_change[0].note or "")
    [told] = [c for c in in_thread(bot, "C100", first) if "not fixed for them" in c.params["text"]]
    assert "<@U_T1>" in json.dumps(told.params["blocks"]), "the triage team is told in the thread"
    assert "<!here>" not in json.dumps(told.params), "a typed reason never pings"
    assert "jane.doe@example.com" not in json.dumps(told.params) and "[email]" in told.params["text"], "nor shows an address"
    assert any(c.params["name"] == "white_check_mark" and c.params["timestamp"] == first for c in bot.fake.calls_to("reactions.remove"))
    assert any("status *new*" in json.dumps(c.params["blocks"]) for c in bot.fake.calls_to("chat.update")), "the card shows it open again"

    stats = hc(bot, "stats", user="U_T1")["text"]
    assert "*Satisfaction:* 50% :+1: (1 of 2 ratings; 1 :-1:)" in stats

    # Fixed again: a new round, so everyone is asked again (the first round's DMs are not repeats).
    hc(bot, "resolve HC-1 Also fixed the mobile app's session cookie", user="U_T1")
    bot.settle()
    assert [len(dms(bot, u)) for u in REPORTERS] == [2, 2, 3]
    assert sorted((n.user_id, n.round) for n in notices(bot) if n.round == 2) == [("U1", 2), ("U2", 2), ("U3", 2)]


def test_dms_off_is_respected_and_the_thread_reply_still_comes(loop_bot: RunningBot) -> None:
    bot = loop_bot
    assert "*on*" in hc(bot, "notify", user="U2")["text"]
    bad = hc(bot, "notify loudly", user="U2")
    assert "on` or `off" in bad["text"] and "/hc notify off|on" in shown(bad)
    assert "now *off*" in hc(bot, "notify off", user="U2")["text"]
    assert "already *off*" in hc(bot, "notify OFF", user="U2")["text"]
    assert "/hc notify off|on" in shown(hc(bot, "help"))
    first = report(bot, "Login fails with error 502 since the deploy", user="U1", channel="C100")
    linked = report(bot, "can't sign in, getting a 502 error", user="U2", channel="C101")
    hc(bot, "resolve HC-1 Rolled back the load balancer config", user="U_T1")
    bot.settle()
    assert len(dms(bot, "U1")) == 1 and dms(bot, "U2") == []
    assert [c.params["users"] for c in bot.fake.calls_to("conversations.open")] == ["U1"]
    assert [c for c in in_thread(bot, "C101", linked) if "Rolled back" in c.params["text"]], "U2 still hears in their thread"
    assert [c for c in in_thread(bot, "C100", first) if "Rolled back" in c.params["text"]]
    assert [n.user_id for n in notices(bot)] == ["U1"]
    assert "now *on*" in hc(bot, "notify on", user="U2")["text"]
    hc(bot, "reopen HC-1 not yet", user="U_T1")
    hc(bot, "resolve HC-1 Really fixed now", user="U_T1")
    bot.settle()
    assert len(dms(bot, "U2")) == 1


def test_no_dm_to_bots_and_undeliverable_dms_are_recorded_not_retried(loop_bot: RunningBot) -> None:
    bot = loop_bot
    report(bot, "The staging deploy pipeline crashes at the migration step", user="U_ROBOT", channel="C100")
    report(bot, "Search ignores accents: searching for café finds nothing", user="U_GONE", channel="C101")
    with Session(bot.engine) as session:  # the bot itself among the affected (say, a linked alert it posted)
        robots = session.execute(select(Ticket).where(Ticket.number == 1)).scalars().one()
        robots.affected_users = ["U_ROBOT", bot.fake.bot_user_id]
        session.add(robots)
        session.commit()
    report(bot, "Notification e-mails arrive with an empty subject line", user="U3", channel="C102")
    hc(bot, "resolve HC-1 Staging cluster certificate renewed", user="U_T1")
    hc(bot, "resolve HC-2 Accents are normalised before searching", user="U_T1")
    bot.fake.fail_next("conversations.open", status=200, error="account_inactive")  # U3 left since
    hc(bot, "resolve HC-3 The subject template was restored", user="U_T1")
    bot.settle()
    assert dms(bot, "U_ROBOT") == [] and dms(bot, "UBOT") == [] and dms(bot, "U_GONE") == [] and dms(bot, "U3") == []
    assert [c.params["users"] for c in bot.fake.calls_to("conversations.open")] == ["U3"], "no DM opened for a bot"
    with Session(bot.engine) as session:
        rows = {r.params["channel"]: r for r in session.execute(select(OutboxMessage).where(OutboxMessage.lane.like("$dm:%"))).scalars()}  # type: ignore[union-attr]
    for robot in ("U_ROBOT", bot.fake.bot_user_id):
        assert (rows[f"$dm:{robot}"].status, rows[f"$dm:{robot}"].result) == ("done", {"ok": True, "skipped": "is_bot"})
    for user, error in (("U_GONE", "user_not_found"), ("U3", "account_inactive")):
        row = rows[f"$dm:{user}"]
        assert (row.status, row.error, row.attempts) == ("failed", error, 1), "a permanent error is not retried"
    failed = {(e.ticket_id, (e.note or "").rsplit(" ", 1)[-1]) for e in events(bot, "delivery_failed")}
    assert failed == {(ticket(bot, "HC-2").id, "user_not_found"), (ticket(bot, "HC-3").id, "account_inactive")}, "recorded on the ticket"


def test_wont_fix_needs_a_note_and_tells_the_reporter_why(loop_bot: RunningBot) -> None:
    bot = loop_bot
    report(bot, "The export button is greyed out on the reports page", user="U1", channel="C100")
    report(bot, "Dark mode colours look washed out on the settings page", user="U2", channel="C101")
    missing = hc(bot, "status HC-1 wont_fix", user="U_T1")
    assert "Say why" in missing["text"] and "wont_fix <why>" in shown(missing)
    assert ticket(bot, "HC-1").status != "wont_fix"
    hc(bot, "status HC-1 wont_fix Exports need the Pro plan <!channel>", user="U_T1")
    bot.settle()
    assert ticket(bot, "HC-1").status == "wont_fix"
    [dm] = dms(bot, "U1")
    summary = dm.params["blocks"][0]["text"]["text"]
    assert "*HC-1 won't be fixed*" in summary and "Exports need the Pro plan" in summary and "<!channel>" not in json.dumps(dm.params)
    assert "csat" not in json.dumps(dm.params["blocks"]), "nothing to rate when nothing was fixed"
    # "Not an issue" on the card: the reporter is told by the triager's click, not their own.
    bot.slack.block_action(action_id="not_an_issue", value="HC-2", user="U_T1")
    bot.settle()
    assert ticket(bot, "HC-2").status == "wont_fix"
    [dm2] = dms(bot, "U2")
    assert "not an issue" in dm2.params["blocks"][0]["text"]["text"]


def test_resolving_from_the_card_modal_notifies_too(loop_bot: RunningBot) -> None:
    bot = loop_bot
    first = report(bot, "Webhooks are delivered twice since this morning", user="U1", channel="C100")
    bot.slack.block_action(action_id="resolve_ticket", value="HC-1", user="U_T1", trigger_id="trig-r")
    meta = bot.fake.wait_for("views.open")[0].params["view"]["private_metadata"]
    values = {"note": {"value": {"type": "plain_text_input", "value": "Retries were not idempotent; fixed"}}}
    assert bot.slack.view_submission(callback_id="hc_resolve", values=values, private_metadata=meta, user="U_T1").status == 200
    bot.settle()
    [dm] = dms(bot, "U1")
    assert "Retries were not idempotent" in dm.params["blocks"][0]["text"]["text"]
    assert ("C100", first) in {(c.params["channel"], c.params["timestamp"]) for c in bot.fake.calls_to("reactions.add") if c.params["name"] == notify.RESOLVED_REACTION}
