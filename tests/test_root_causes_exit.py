"""Root causes on resolution (`/hc resolve HC-1 config: …`, the modal's select), counted in stats
and the digest; exit criteria (`/hc exit set …`), shown and announced once when all are met."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from models.dashboard_tables import TicketRootCause
from models.loop_tables import ResolutionNotice
from models.types import utcnow
from tests.conftest import RunningBot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.triage_support import file_ticket, hc, shown, ticket


def _cause(bot: RunningBot, key: str) -> str | None:
    found = ticket(bot, key)
    with Session(bot.engine) as session:
        row = session.get(TicketRootCause, found.id)
        return row.cause if row else None


def test_resolve_names_a_root_cause_and_stats_count_it(bot: RunningBot) -> None:
    for text in ("Checkout times out for every EU customer", "The export button does nothing in Safari", "Invoices show last month's VAT rate"):
        file_ticket(bot, text)
    assert "is resolved" in shown(hc(bot, "resolve HC-1 config: the gateway timeout was 1 s; now 10 s"))
    assert ticket(bot, "HC-1").resolution == "the gateway timeout was 1 s; now 10 s" and _cause(bot, "HC-1") == "configuration"
    hc(bot, "resolve HC-2 Fixed: a missing polyfill")  # "Fixed:" names no cause: the note stays as typed
    assert ticket(bot, "HC-2").resolution == "Fixed: a missing polyfill" and _cause(bot, "HC-2") is None
    hc(bot, "resolve HC-3 third-party: the tax provider's table was stale")
    assert _cause(bot, "HC-3") == "third_party"
    stats = shown(hc(bot, "stats 7d"))
    assert "*Root causes:* Configuration 1 · Third-party 1" in stats
    bot.settle()
    posted = " ".join(str(c.params.get("text", "")) + str(c.params.get("blocks", "")) for c in bot.fake.calls_to("chat.postMessage"))
    assert "root cause: Configuration" in posted


def test_the_resolve_modal_offers_root_causes(bot: RunningBot) -> None:
    filed = file_ticket(bot, "Search results are empty for every query since noon")
    bot.settle()
    click = {"type": "block_actions", "trigger_id": "t1", "user": {"id": "U_T1"}, "channel": {"id": "C100"},
             "actions": [{"type": "button", "action_id": "resolve_ticket", "value": filed.key, "block_id": "b"}]}
    assert bot.slack.action(payload=click).status == 200
    modal = bot.fake.wait_for("views.open")[0].params["view"]
    select = next(b for b in modal["blocks"] if b.get("block_id") == "cause")
    assert select["optional"] is True and {o["value"] for o in select["element"]["options"]} >= {"code_defect", "not_reproducible", "user_error"}
    values = {"note": {"value": {"type": "plain_text_input", "value": "Index rebuilt"}},
              "cause": {"value": {"type": "static_select", "selected_option": {"value": "infrastructure"}}}}
    bot.slack.view_submission(callback_id="hc_resolve", values=values, private_metadata=modal["private_metadata"], user="U_T1")
    assert ticket(bot, filed.key).status == "resolved" and _cause(bot, filed.key) == "infrastructure"


@pytest.fixture
def exit_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url, triage_users=("U_T1",), triage_channel="C102", scheduler_enabled=False)
    yield running
    stop_bot(running)


def test_exit_criteria_are_shown_and_announced_once(exit_bot: RunningBot) -> None:
    bot = exit_bot
    assert "No exit criteria are set" in hc(bot, "exit", user="U_T1")["text"]
    bad = hc(bot, "exit set no-critical-for 72h; world-peace", user="U_T1")
    assert "world-peace" in bad["text"] and "/hc exit set" in shown(bad)
    assert "Only the triage team" in hc(bot, "exit set high-open-below 3", user="U_OUT")["text"]
    file_ticket(bot, "Checkout is down for everyone, payments fail with error 500")  # critical, open
    answer = shown(hc(bot, "exit set no-critical-for 72h; high-open-below 3; satisfaction-above 80%", user="U_T1"))
    assert "0 of 3 met" in answer or "1 of 3 met" in answer
    assert ":black_square_button: no critical for 3d" in answer and ":white_check_mark: high open below 3 (0 open)" in answer
    assert ":black_square_button: satisfaction above 80% (no ratings yet)" in answer
    # Meet them all: the critical ticket is from long ago and resolved; ratings 9 of 10 up.
    found = ticket(bot, "HC-1")
    with Session(bot.engine) as session:
        row = session.get(type(found), found.id)
        assert row is not None
        long_ago = utcnow().replace(year=utcnow().year - 1)
        row.severity, row.status, row.created_at, row.resolved_at = "critical", "resolved", long_ago, long_ago
        session.add(row)
        for n in range(10):
            session.add(ResolutionNotice(team_id=bot.fake.team_id, ticket_id=found.id, user_id=f"U{n}", rating="up" if n else "down", rated_at=utcnow()))
        session.commit()
    shown_now = shown(hc(bot, "exit", user="U_T1"))
    assert "3 of 3 met" in shown_now and "90% of 10" in shown_now
    check = __import__("bot.loop.exit_criteria", fromlist=["check_job"]).check_job(engine=bot.engine, settings=bot.hypercare.settings)
    assert check(utcnow()) is True and check(utcnow()) is False  # told once
    bot.hypercare.outbox.wake()
    bot.settle()
    told = [c for c in bot.fake.calls_to("chat.postMessage") if "exit criteria are met" in str(c.params.get("text"))]
    assert len(told) == 1 and told[0].params["channel"] == "C102"
