"""Every `/hc` triage subcommand over real HTTP: success, error paths (nothing changes), key and
mention parsing, thread announcements and the card updated in place (issue 5)."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from models.tables import TicketEvent
from models.types import utcnow
from tests.conftest import RunningBot
from tests.triage_support import all_tickets, card_updates, file_ticket, hc, seed, shown, thread_posts, ticket


def test_help_lists_every_subcommand_and_unknown_ones_are_refused(bot: RunningBot) -> None:
    text = shown(hc(bot, "help"))
    for name in ("list", "show", "assign", "severity", "status", "resolve", "reopen", "close", "dup", "search", "stats", "capture", "triagers"):
        assert f"/hc {name}" in text, name
    unknown = hc(bot, "frobnicate HC-1")
    assert "frobnicate" in unknown["text"] and "/hc help" in shown(unknown)


def test_keys_are_read_in_every_spelling_and_bad_keys_change_nothing(bot: RunningBot) -> None:
    filed = file_ticket(bot, "The invoice PDF shows the wrong VAT amount")
    for key in ("HC-1", "hc-1", "1", "hc1", " Hc-1 "):
        assert "*HC-1*" in shown(hc(bot, f"show {key}")), key
    missing = hc(bot, "severity HC-99 critical")
    assert "no ticket HC-99" in missing["text"] and "/hc severity HC-12" in shown(missing)
    garbage = hc(bot, "severity HC-x critical")
    assert "not a ticket key" in garbage["text"]
    assert ticket(bot, filed.key).severity == filed.severity


def test_assign_by_mention_bare_name_and_me_announces_in_thread_and_updates_the_card(bot: RunningBot) -> None:
    bot.fake.add_user(user_id="U_BOB", name="bob", real_name="Bob Builder")
    filed = file_ticket(bot, "Search results are empty for every query since noon")
    answer = hc(bot, "assign HC-1 <@U_ANN|ann>")
    assert "assigned to <@U_ANN>" in shown(answer)
    assert ticket(bot, "HC-1").assignee == "U_ANN"
    hc(bot, "assign hc-1 @bob")
    assert ticket(bot, "HC-1").assignee == "U_BOB"
    hc(bot, "assign 1 <@U_CAT>")
    assert ticket(bot, "HC-1").assignee == "U_CAT"
    hc(bot, "assign HC-1 me", user="U_T9")
    assert ticket(bot, "HC-1").assignee == "U_T9"
    assert "already assigned" in hc(bot, "assign HC-1 me", user="U_T9")["text"]
    unknown = hc(bot, "assign HC-1 @nobody_here")
    assert "can't find anyone" in unknown["text"] and "/hc assign" in shown(unknown)
    assert "Say which ticket" in hc(bot, "assign HC-1")["text"]
    assert ticket(bot, "HC-1").assignee == "U_T9"
    bot.settle()
    announcements = [c for c in thread_posts(bot, filed) if "updated HC-1" in c.params["text"]]
    assert json.dumps(announcements[0].params["blocks"]).count("assigned to <@U_ANN>") == 1
    assert all(c.params.get("thread_ts") == filed.thread_ts for c in announcements)
    assert len(announcements) == 4, "one announcement per change, none for refusals or no-ops"
    last = card_updates(bot, filed)[-1]
    assert "<@U_T9>" in json.dumps(last.params["blocks"]), "the card shows the new assignee, updated in place"


def test_severity_changes_and_bad_values_change_nothing(bot: RunningBot) -> None:
    filed = file_ticket(bot, "The admin list shows deleted users again")
    assert "severity is now *critical*" in shown(hc(bot, "severity HC-1 CRITICAL"))
    bad = hc(bot, "severity HC-1 urgent")
    assert "not a severity" in bad["text"] and "critical|high|medium|low" in shown(bad)
    assert "Say which ticket" in hc(bot, "severity HC-1")["text"]
    assert ticket(bot, "HC-1").severity == "critical"
    bot.settle()
    update = card_updates(bot, filed)[-1]
    assert "severity *critical*" in json.dumps(update.params["blocks"])
    assert any("severity → critical" in c.params["text"] for c in thread_posts(bot, filed))


def test_status_moves_between_open_statuses_and_refuses_the_closing_ones(bot: RunningBot) -> None:
    file_ticket(bot, "Exports time out for accounts with more than 10k rows")
    assert "*triaged*" in shown(hc(bot, "status HC-1 triaged"))
    assert "*needs_info*" in shown(hc(bot, "status HC-1 needs-info waiting for the account id"))
    assert ticket(bot, "HC-1").status == "needs_info"
    hc(bot, "status HC-1 in_progress")
    assert ticket(bot, "HC-1").status == "in_progress"
    for text, expected in (("status HC-1 done", "not a status"), ("status HC-1 resolved", "/hc resolve HC-1"),
                           ("status HC-1 duplicate", "/hc dup HC-1"), ("status HC-1", "Say which ticket")):
        assert expected in shown(hc(bot, text)), text
    assert ticket(bot, "HC-1").status == "in_progress"
    hc(bot, "status HC-1 wont_fix it works as designed")
    gone = ticket(bot, "HC-1")
    assert gone.status == "wont_fix" and gone.resolved_at is not None


def test_resolve_reopen_and_close(bot: RunningBot) -> None:
    filed = file_ticket(bot, "Password reset mails arrive after an hour")
    assert "resolution note" in hc(bot, "resolve HC-1")["text"]
    assert ticket(bot, "HC-1").status == filed.status
    assert "is resolved" in shown(hc(bot, "resolve HC-1 The mail queue was stuck; <!channel> restarted it"))
    resolved = ticket(bot, "HC-1")
    assert (resolved.status, resolved.resolved_at is not None) == ("resolved", True)
    assert resolved.resolution == "The mail queue was stuck; @channel restarted it", "kept as readable text, like a report (posted neutralised)"
    assert "already resolved" in hc(bot, "resolve HC-1 again")["text"]
    bot.settle()
    update = json.dumps(card_updates(bot, filed)[-1].params["blocks"])
    assert "status *resolved*" in update and "reopen_ticket" in update
    posted = json.dumps([c.params for c in thread_posts(bot, filed)])
    assert "resolved HC-1" in posted and "<!channel>" not in posted, "a typed note never pings"

    assert "no ticket HC-2" in hc(bot, "reopen HC-2")["text"]
    assert "open again" in shown(hc(bot, "reopen HC-1 still slow for Gmail users such as jane.doe@example.com"))
    reopened = ticket(bot, "HC-1")
    assert (reopened.status, reopened.resolved_at, reopened.resolution) == ("triaged", None, None)
    bot.settle()
    with Session(bot.engine) as session:
        notes = json.dumps([e.note for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == filed.id)).scalars()])
    posted = json.dumps([c.params for c in thread_posts(bot, filed)])
    assert "still slow for Gmail users such as [email]" in notes and "[email]" in posted, "typed notes are masked like reports"
    assert "jane.doe@example.com" not in notes + posted
    assert "still open" in hc(bot, "reopen HC-1")["text"]
    assert "is closed" in shown(hc(bot, "close HC-1 fixed by the new mail provider"))
    assert ticket(bot, "HC-1").status == "closed"
    assert "already closed" in hc(bot, "close HC-1")["text"]
    bot.settle()
    assert "~HC-1~ closed" in json.dumps(card_updates(bot, filed)[-1].params["blocks"]), "closed cards shrink in place"


def test_dup_links_the_duplicate_to_the_original(bot: RunningBot) -> None:
    first = file_ticket(bot, "Checkout button does nothing on Safari", user="U_A")
    file_ticket(bot, "Dashboard charts render blank after login", user="U_B")
    file_ticket(bot, "Mobile app crashes when opening settings", user="U_C")
    assert "duplicate of HC-1" in shown(hc(bot, "dup HC-2 HC-1"))
    dup, original = ticket(bot, "HC-2"), ticket(bot, "HC-1")
    assert (dup.status, dup.duplicate_of) == ("duplicate", "HC-1")
    assert original.affected_users == ["U_A", "U_B"]
    # Naming a duplicate as the original links to its original instead.
    assert "itself a duplicate of HC-1" in shown(hc(bot, "dup hc-3 2"))
    assert ticket(bot, "HC-3").duplicate_of == "HC-1"
    assert ticket(bot, "HC-1").affected_users == ["U_A", "U_B", "U_C"]
    for text, expected in (("dup HC-1 HC-1", "itself"), ("dup HC-2 HC-1", "already duplicate"), ("dup HC-1", "Name the duplicate"), ("dup HC-1 HC-77", "no ticket HC-77")):
        assert expected in hc(bot, text)["text"], text
    assert ticket(bot, "HC-1").status == first.status
    bot.settle()
    assert any("HC-2 was marked a duplicate of HC-1" in c.params["text"] for c in thread_posts(bot, first))


def test_list_filters_and_channel(bot: RunningBot) -> None:
    seed(bot, "Critical outage of payments", severity="critical", channel="C100")
    seed(bot, "Slow reports page", severity="low", channel="C101", assignee="U_T1")
    seed(bot, "Need the tenant id", channel="C100", status="needs_info")
    seed(bot, "Old fixed thing", channel="C100", status="resolved")
    def keys(text: str, user: str = "U_T1") -> list[str]:
        answer = hc(bot, text, user=user)
        return [b["text"]["text"].split("*")[1] for b in answer["blocks"][1:] if b["type"] == "section"]
    assert keys("list") == ["HC-1", "HC-3", "HC-2"], "open tickets, most severe first"
    assert keys("list all") == ["HC-1", "HC-3", "HC-4", "HC-2"]
    assert keys("list mine") == ["HC-2"]
    assert keys("list unassigned") == ["HC-1", "HC-3"]
    assert keys("list critical") == ["HC-1"]
    assert keys("list needs-info") == ["HC-3"]
    assert keys("list open <#C101|war-room>") == ["HC-2"]
    assert keys("list here", user="U_T1") == ["HC-1", "HC-3"]
    bad = hc(bot, "list everything")
    assert "not a list" in bad["text"] and "/hc list [open|mine" in shown(bad)
    assert "autocomplete" in hc(bot, "list #war-room")["text"]


def test_search_is_ranked_and_takes_words_literally(bot: RunningBot) -> None:
    seed(bot, "Checkout fails on Safari", description="Clicking pay does nothing")
    seed(bot, "Payment page slow", description="the checkout takes 30s on safari and firefox")
    seed(bot, "Checkout total wrong", description="VAT is added twice")
    seed(bot, "Profile photo upload 100% broken", description="upload_limit reached")
    answer = hc(bot, "search Safari checkout")
    found = [b["text"]["text"].split("*")[1] for b in answer["blocks"][1:] if b["type"] == "section"]
    assert found == ["HC-1", "HC-2", "HC-3"], "both words in the title, both in the description, one word"
    assert [b["text"]["text"].split("*")[1] for b in hc(bot, "search 100%")["blocks"][1:] if b["type"] == "section"] == ["HC-4"]
    assert "No ticket" in shown(hc(bot, "search _xxx")), "LIKE wildcards in the words are taken literally"
    assert "Say what to look for" in hc(bot, "search")["text"]


def test_stats_counts_medians_waiting_and_breaches(bot: RunningBot) -> None:
    now = utcnow()
    ago = lambda **kw: now - timedelta(**kw)  # noqa: E731
    seed(bot, "a", severity="critical", created_at=ago(hours=5), first_response_at=ago(hours=5) + timedelta(minutes=30),
         status="resolved", resolved_at=ago(hours=4))  # first response 30m: breaches critical's 15m; resolved in 1h
    seed(bot, "b", severity="high", created_at=ago(hours=6), first_response_at=ago(hours=6) + timedelta(minutes=10),
         status="closed", resolved_at=ago(hours=3))  # 10m; resolved in 3h
    seed(bot, "c", severity="medium", created_at=ago(hours=2), first_response_at=ago(hours=2) + timedelta(minutes=20), status="needs_info")
    seed(bot, "d", severity="low", created_at=ago(days=10))
    text = hc(bot, "stats")["text"]
    assert "Opened:* 3 — critical 1 · high 1 · medium 1" in text
    assert "Resolved:* 2 — critical 1 · high 1" in text
    assert "first response:* 20m (median of 3)" in text
    assert "resolution:* 2h (median of 2)" in text
    assert "Waiting on reporters:* 1" in text
    assert "SLA breaches:* 1 first response · 0 resolution" in text
    assert "Opened:* 4" in hc(bot, "stats 30d")["text"]
    assert "not a period" in hc(bot, "stats lately")["text"]


def test_card_resolve_button_opens_a_modal_and_the_note_resolves(bot: RunningBot) -> None:
    filed = file_ticket(bot, "Webhooks are delivered twice")
    card = bot.fake.calls_to("chat.postMessage")[0].params["blocks"]
    resolve = next(e for e in card[1]["elements"] if e["action_id"] == "resolve_ticket")
    assert bot.slack.block_action(action_id="resolve_ticket", value=resolve["value"], user="U_T1", trigger_id="trig-r").status == 200
    modal = bot.fake.wait_for("views.open")[0].params
    assert modal["trigger_id"] == "trig-r" and modal["view"]["callback_id"] == "hc_resolve"
    meta = modal["view"]["private_metadata"]
    empty = bot.slack.view_submission(callback_id="hc_resolve", values={"note": {"value": {"type": "plain_text_input", "value": "  "}}}, private_metadata=meta, user="U_T1")
    assert empty.json()["response_action"] == "errors" and "note" in empty.json()["errors"]
    assert ticket(bot, filed.key).status == filed.status
    done = bot.slack.view_submission(callback_id="hc_resolve", values={"note": {"value": {"type": "plain_text_input", "value": "Retries were not idempotent; fixed"}}}, private_metadata=meta, user="U_T1")
    assert done.status == 200 and not done.body
    assert (ticket(bot, filed.key).status, ticket(bot, filed.key).resolution) == ("resolved", "Retries were not idempotent; fixed")
    bot.settle()
    assert "Retries were not idempotent" in json.dumps(card_updates(bot, filed)[-1].params["blocks"])
    bot.slack.block_action(action_id="reopen_ticket", value=filed.key, user="U_T1", response_url=bot.fake.response_url(key="reopen"))
    assert ticket(bot, filed.key).status == "triaged"
    assert len(all_tickets(bot)) == 1
