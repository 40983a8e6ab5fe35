"""Issue 13, items 4–6 over real HTTP: what people type never becomes the bot's own link or ping
(blocks.safe() escapes user text; blocks.bot_mrkdwn() keeps the bot's own markup), more personal
data is masked before it is stored, the reporter's answer is never dropped, and the triage team
cannot be emptied nor a linked duplicate split by a bystander."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from models.tables import OutboxMessage, Ticket, TicketEvent
from tests.conftest import RunningBot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.slack_requests import new_ts
from tests.test_followups import reply, report
from tests.triage_support import all_tickets, hc, shown, ticket

# What Slack delivers when a reporter types the phishing text as plain text: escaped.
PHISH_TYPED = "&lt;https://evil.example/login|Reset your SSO password here&gt;"
PHISH_REPORT = f"{PHISH_TYPED} gives error 500 on the login page for EU users"
# A Slack link with a label to a site the user named (the bot's own links go to Slack).
DISGUISED_LINK = re.compile(r"<(?:https?|mailto):(?!//fake\.slack\.com/)[^>|]*\|")


def posted(bot: RunningBot) -> str:
    """Everything the bot sent to Slack: posts, updates, views, DMs and response_url answers."""
    return json.dumps([c.params for c in bot.fake.calls if c.method.startswith(("chat.", "views.", "response_url"))])


def changes(bot: RunningBot, field: str) -> list[TicketEvent]:
    with Session(bot.engine) as session:
        return list(session.execute(select(TicketEvent).where(TicketEvent.kind == "changed", TicketEvent.field_name == field)
                                    .order_by(TicketEvent.id)).scalars())


# -- 4. escaping ------------------------------------------------------------------------------------
def test_a_typed_link_never_becomes_the_bots_own_link_anywhere(bot: RunningBot) -> None:
    ts = report(bot, PHISH_REPORT)
    reply(bot, ts, f"Steps: open login. Expected: the form. Actual: {PHISH_TYPED}. Chrome 131 on macOS")
    bot.slack.event(event={"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home", "event_ts": new_ts()})
    answers = [hc(bot, text, user="U1") for text in ("show HC-1", "list", "search login", "digest preview")]
    hc(bot, f"resolve HC-1 fixed, see {PHISH_TYPED}", user="U1")  # the resolution DM and thread post
    hc(bot, "digest now", user="U1")
    bot.settle()
    sent = posted(bot) + json.dumps(answers)
    assert bot.fake.calls_to("views.publish") and bot.fake.calls_to("chat.update"), "the App Home and the card were rendered"
    assert "evil.example" in sent, "the text is shown, not dropped"
    assert "<https://evil.example" not in sent, sent[max(0, sent.find("<https://evil.example") - 300):][:600]
    assert not DISGUISED_LINK.search(sent), "no link with the bot's authority"
    assert "&lt;https://evil.example/login|Reset your SSO password here&gt;" in sent, "shown as it was typed"
    card = next(c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts)
    assert "&lt;https://evil.example/login" in card.params["blocks"][0]["text"]["text"]
    assert "&amp;lt;" not in sent, sent[max(0, sent.find("&amp;lt;") - 400):][:600]
    assert ticket(bot, "HC-1").description.count("<https://evil.example/login|") == 1, "stored as readable text"


def test_a_real_link_shows_its_url_and_pings_stay_neutralised(bot: RunningBot) -> None:
    ts = report(bot, "Checkout fails with error 502, see <https://status.example/incident-42|the status page> "
                     "<!channel> <@U_VICTIM> &amp; more")
    answer = shown(hc(bot, "show HC-1", user="U1"))
    assert "the status page (https://status.example/incident-42)" in answer, "the URL stays visible"
    sent = posted(bot) + answer
    assert not DISGUISED_LINK.search(sent) and "|the status page>" not in sent
    for ping in ("<!channel>", "<@U_VICTIM>", "@channel"):
        assert ping not in sent.replace("@\\u200b", ""), ping
    assert "&amp; more" in answer and "&amp;amp;" not in answer, "a typed & is escaped once"
    # The bot's own markup around user text is intact: the reporter mention and the report link.
    card = next(c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts)
    assert "reporter <@U1>" in card.params["blocks"][0]["text"]["text"]


# -- 4. masking before storage ------------------------------------------------------------------------
SECRETS = ("5551234567", "555 1234567", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "123-45-6789",
           "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ4", "sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ4aB7c", "glpat-Xy7zAb3dEf6hIj9kLm2n",
           "hunter2pw", "s3cretpwd", "jane.doe@example.com")


def test_phones_ibans_ssns_keys_pw_values_and_file_names_are_masked_before_storage(bot: RunningBot) -> None:
    sent = bot.slack.message(channel="C100", user="U1", text=(
        "Payout fails with error 500 for my account, call 5551234567 or 555 1234567. IBAN DE89 3704 0044 0532 0130 00 "
        "(or GB82WEST12345698765432), SSN 123-45-6789. Our key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ4 and "
        "sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ4aB7c, gitlab glpat-Xy7zAb3dEf6hIj9kLm2n, login url ?user=bob&amp;pw=hunter2pw"),
        subtype="file_share", files=[{"id": "F1", "name": "jane.doe@example.com_5551234567.pdf",
                                      "permalink": "https://fake.slack.com/files/U1/F1/jane.doe@example.com_5551234567.pdf"}])
    assert sent.status == 200 and sent.ts
    bot.settle()
    ts = sent.ts
    reply(bot, ts, "same with pwd=s3cretpwd, screenshot attached", user="U2")
    bot.slack.message(channel="C100", user="U2", text="here", thread_ts=ts, subtype="file_share",
                      files=[{"id": "F2", "title": "passport_scan jane.doe@example.com.png"}])
    bot.settle()
    with Session(bot.engine) as session:
        kept: list[Any] = [[t.title, t.description, t.steps, t.expected, t.actual, t.environment, t.files] for t in session.execute(select(Ticket)).scalars()]
        kept += [[e.note, e.old_value, e.new_value] for e in session.execute(select(TicketEvent)).scalars()]
        kept += [o.params for o in session.execute(select(OutboxMessage)).scalars()]
    stored = json.dumps(kept)
    for secret in SECRETS:
        assert secret not in stored and secret not in posted(bot), secret
    for marker in ("[phone]", "[iban]", "[ssn]", "[secret]", "[email]"):
        assert marker in stored, marker
    files = ticket(bot, "HC-1").files
    assert files[0] == {"id": "F1", "name": "[email]_[phone].pdf", "permalink": "https://fake.slack.com/files/U1/F1"}
    assert files[1]["id"] == "F2" and "[email]" in files[1]["name"]
    assert "error 500" in stored, "codes and versions stay"


def test_what_looks_like_data_but_is_not_stays_and_the_digit_gate_sees_every_new_number() -> None:
    from bot.triage import mask_pii
    from bot.triage import text as T
    kept = ("exit code 2147483647, order 123456789, ts 1700000000, error id 5551234567, build #4155551234, "
            "v2.4.1 on Chrome 131.0.6778.85, HC-12, 2024-05-01 12:30, DE00 1234 5678 9012 3456 78 (bad check digits), "
            "uses sk-learn and a task-runner, 000-12-3456, the pw is expired")
    assert mask_pii(kept) == kept
    for number in ("5551234567", "555 1234567", "123-45-6789", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432",
                   "NL91ABNA0417164300", "FR1420041010050500013M02606"):
        assert T._DIGIT_RUN.search(number), number  # masked inside the digit gate: it must not skip them
        assert number not in mask_pii(f"mine: {number} thanks"), number


# -- 5. answers -------------------------------------------------------------------------------------
VAGUE = "The checkout page is broken, pay button gives an error :("


def thanks(bot: RunningBot, ts: str) -> str:
    [said] = [c.params["text"] for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts and "recorded" in c.params["text"]]
    return said


def test_the_reporters_labelled_answer_replaces_the_bots_guess(bot: RunningBot) -> None:
    """The issue's example: the labelled Actual: used to be dropped, and the error code with it."""
    ts = report(bot, VAGUE)
    filed = ticket(bot, "HC-1")
    assert filed.actual == VAGUE and filed.missing == ["steps", "expected", "environment"], "the bot guessed actual"
    reply(bot, ts, "Steps: open the cart, click Pay. Expected: the receipt page. "
                   "Actual: red banner 'payment failed (code 502)'. Firefox 132 on Windows 11")
    answered = ticket(bot, "HC-1")
    assert answered.actual == "red banner 'payment failed (code 502)'"
    assert (answered.steps, answered.expected, answered.environment) == ("open the cart, click Pay", "the receipt page", "Firefox 132 on Windows 11")
    [guess_replaced] = changes(bot, "actual")
    assert guess_replaced.actor == "U1" and guess_replaced.old_value == VAGUE and "replaces what Hypercare read" in (guess_replaced.note or "")
    said = thanks(bot, ts)
    for name in ("steps to reproduce", "expected behaviour", "actual behaviour", "environment", "payment failed (code 502)"):
        assert name in said, name


def test_an_unlabelled_detail_is_added_to_the_guess(bot: RunningBot) -> None:
    ts = report(bot, VAGUE)
    reply(bot, ts, "Steps: open the cart, click Pay. Expected: the receipt page. instead I get 'payment failed (code 502)'. "
                   "Firefox 132 on Windows 11")
    answered = ticket(bot, "HC-1")
    assert answered.actual == f"{VAGUE} instead I get 'payment failed (code 502)'", "kept both"
    [added] = changes(bot, "actual")
    assert added.actor == "U1" and "added to what Hypercare (read from the report) gave" in (added.note or "")
    assert "actual behaviour (added “instead I get 'payment failed (code 502)'”)" in thanks(bot, ts)


def form(**values: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("category", "severity"):
            out[key] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        else:
            out[key] = {"value": {"type": "plain_text_input", "value": value}}
    return out


def test_a_value_a_person_gave_is_added_to_never_overwritten(bot: RunningBot) -> None:
    assert bot.slack.command(text="new", user="U_FORM", channel="C100", trigger_id="trig-7").status == 200
    view = bot.fake.wait_for("views.open")[0].params["view"]
    filled = form(title="Pay button fails", description="Paying fails at checkout", category="bug", severity="high",
                  steps=None, expected="a receipt", actual="a blank page", environment="Firefox 132")
    assert bot.slack.view_submission(callback_id="hc_new_ticket", values=filled, private_metadata=view["private_metadata"], user="U_FORM").status == 200
    bot.settle()
    filed = ticket(bot, "HC-1")
    assert filed.missing == ["steps"] and filed.thread_ts
    reply(bot, filed.thread_ts, "Steps: open the cart and click Pay. Actual: red banner 'payment failed (code 502)'", user="U_FORM")
    answered = ticket(bot, "HC-1")
    assert answered.steps == "open the cart and click Pay"
    assert answered.actual == "a blank page red banner 'payment failed (code 502)'", "what the form said stays"
    [added] = changes(bot, "actual")
    assert added.actor == "U_FORM" and "added to what <@U_FORM> gave" in (added.note or "")
    said = thanks(bot, filed.thread_ts)
    assert "steps to reproduce" in said and "actual behaviour (added" in said


def test_someone_else_in_the_thread_only_answers_what_is_missing(bot: RunningBot) -> None:
    ts = report(bot, VAGUE)
    reply(bot, ts, "Actual: probably the gateway again. Steps: open the cart, click Pay", user="U_BYSTANDER")
    answered = ticket(bot, "HC-1")
    assert answered.actual == VAGUE and answered.steps == "open the cart, click Pay"


def test_a_labelled_detail_after_everything_was_given_is_still_recorded(bot: RunningBot) -> None:
    ts = report(bot, VAGUE)
    reply(bot, ts, "Steps: open the cart, click Pay. Expected: the receipt page. Firefox 132 on Windows 11")
    assert ticket(bot, "HC-1").missing == []
    reply(bot, ts, "Actual: red banner 'payment failed (code 502)'")
    assert ticket(bot, "HC-1").actual == "red banner 'payment failed (code 502)'"
    reply(bot, ts, "thanks, also it happens on mobile")  # chat is history only: no field, no post
    assert ticket(bot, "HC-1").actual == "red banner 'payment failed (code 502)'"
    assert len([c for c in bot.fake.calls_to("chat.postMessage") if "recorded" in c.params["text"]]) == 2


# -- 6. permissions -----------------------------------------------------------------------------------
def test_the_last_triager_cannot_be_removed(bot: RunningBot) -> None:
    hc(bot, "triagers add me", user="U_A")
    hc(bot, "triagers add <@U_B>", user="U_A")
    assert "no longer on the triage team" in shown(hc(bot, "triagers remove <@U_B>", user="U_A"))
    refused = shown(hc(bot, "triagers remove me", user="U_A"))
    assert "last person on the triage team" in refused and "HYPERCARE_TRIAGE_USERS" in refused
    assert "<@U_A>" in shown(hc(bot, "triagers list", user="U_OUT"))
    assert "Only the triage team" in hc(bot, "capture off", user="U_OUT")["text"], "triage did not open to everyone"


def test_with_a_configured_team_the_last_added_member_can_go(fake_slack: FakeSlack, database_url: str) -> None:
    running = start_bot(fake=fake_slack, database_url=database_url, triage_users=("U_T1",), scheduler_enabled=False)
    try:
        hc(running, "triagers add <@U_NEW>", user="U_T1")
        assert "no longer on the triage team" in shown(hc(running, "triagers remove <@U_NEW>", user="U_T1"))
    finally:
        stop_bot(running)


@pytest.fixture
def team_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url, triage_users=("U_T1",), scheduler_enabled=False)
    yield running
    stop_bot(running)


def linked_duplicate(bot: RunningBot) -> tuple[str, dict[str, Any]]:
    report(bot, "Login fails with error 502 since the deploy", user="U1")
    second = report(bot, "can't sign in, getting a 502 error", user="U2", channel="C101")
    bot.fake.add_message(channel="C101", ts=second, user="U2", text="can't sign in, getting a 502 error")
    post = next(c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == second)
    return second, post.params["blocks"][1]["elements"][0]


@pytest.mark.parametrize("who", ["U_T1", "U1", "U2"])
def test_only_the_triage_team_or_the_reporters_may_split_a_duplicate(team_bot: RunningBot, who: str) -> None:
    second, button = linked_duplicate(team_bot)
    url = team_bot.fake.response_url(key="split")
    team_bot.slack.block_action(action_id=button["action_id"], value=button["value"], user="U_OUT", channel="C101", response_url=url)
    team_bot.settle()
    refusal = team_bot.fake.wait_for("response_url:split")[0].params
    assert "Only the triage team or the people who reported it" in refusal["text"] and refusal["replace_original"] is False
    assert "<@U_T1>" in json.dumps(refusal["blocks"]), "the refusal says who can"
    assert not team_bot.fake.calls_to("conversations.history") + team_bot.fake.calls_to("conversations.replies"), \
        "a bystander's click is refused before the report is read back from Slack"
    [one] = all_tickets(team_bot)
    assert one.affected_users == ["U1", "U2"], "a refusal changes nothing"
    team_bot.slack.block_action(action_id=button["action_id"], value=button["value"], user=who, channel="C101", response_url=url)
    team_bot.settle()
    assert "Filed separately as HC-2" in team_bot.fake.wait_for("response_url:split", count=2)[1].params["text"]
    first, split = all_tickets(team_bot)
    assert first.affected_users == ["U1"] and (split.reporter, split.message_ts) == ("U2", second)
