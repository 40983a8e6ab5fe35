"""The App Home tab (issue 5): own reports for everyone, the queue for the triage team, within
Slack's 100-block limit, with buttons that act."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from models.types import utcnow
from tests.conftest import RunningBot, start_bot
from tests.fake_slack import FakeSlack
from tests.slack_requests import new_ts
from tests.triage_support import file_ticket, seed, ticket


@pytest.fixture
def team_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url, triage_users=("U_T1",), scheduler_enabled=False)
    yield running
    running.server.stop()
    running.hypercare.stop()
    running.hypercare.engine.dispose()


def open_home(bot: RunningBot, user: str, *, count: int = 1) -> dict[str, Any]:
    """The user opens the Home tab (an Events API event, stored then replayed); the published view."""
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home", "event_ts": new_ts()}
    assert bot.slack.event(event=event).status == 200
    bot.settle()
    published = bot.fake.wait_for("views.publish", count=count, where=lambda c: c.params["user_id"] == user)
    return published[-1].params["view"]


def texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def headers(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]


def test_a_reporter_sees_their_own_tickets_and_no_queue(team_bot: RunningBot) -> None:
    seed(team_bot, "Mine and open", reporter="U_REP")
    seed(team_bot, "Mine and resolved", reporter="U_REP", status="resolved")
    seed(team_bot, "Someone else's", reporter="U_OTHER")
    view = open_home(team_bot, "U_REP")
    assert view["type"] == "home"
    assert headers(view) == ["Hypercare", "Your reports (2)"]
    shown = texts(view)
    assert "Mine and open" in shown and "Mine and resolved" in shown and "Someone else" not in shown
    assert "· new ·" in shown and "· resolved ·" in shown
    closes = [b["accessory"]["value"] for b in view["blocks"] if b.get("accessory", {}).get("action_id") == "close_ticket"]
    assert closes == ["HC-1"], "a reporter can close their own open ticket from the Home tab"


def test_the_triage_team_sees_the_queue(team_bot: RunningBot) -> None:
    now = utcnow()
    seed(team_bot, "Nobody on it", severity="low")
    seed(team_bot, "Payments down", severity="critical", assignee="U_T1", first_response_at=now)
    seed(team_bot, "Old and unanswered", severity="high", assignee="U_T1", created_at=now - timedelta(hours=2))
    seed(team_bot, "Which tenant?", assignee="U_T1", status="needs_info", first_response_at=now)
    view = open_home(team_bot, "U_T1")
    assert headers(view) == ["Hypercare", "Your reports (0)", "Unassigned (1)", "Critical and high, open (2)", "Breaching SLA (1)", "Waiting on reporters (1)"]
    sections = {h: [] for h in headers(view)}
    current = ""
    for block in view["blocks"]:
        if block["type"] == "header":
            current = block["text"]["text"]
        elif block["type"] == "section" and "accessory" in block:
            sections[current].append((block["text"]["text"].split("*")[1], block["accessory"]["action_id"]))
    assert sections["Unassigned (1)"] == [("HC-1", "assign_me")]
    assert sections["Critical and high, open (2)"] == [("HC-2", "resolve_ticket"), ("HC-3", "resolve_ticket")]
    assert sections["Breaching SLA (1)"] == [("HC-3", "resolve_ticket")]
    assert sections["Waiting on reporters (1)"] == [("HC-4", "resolve_ticket")]


def test_many_tickets_stay_within_the_block_limit(team_bot: RunningBot) -> None:
    old = utcnow() - timedelta(days=9)
    for n in range(130):
        seed(team_bot, f"Problem number {n}", severity=("critical", "high", "medium")[n % 3], reporter="U_T1",
             status="needs_info" if n % 4 == 0 else "new", created_at=old)
    view = open_home(team_bot, "U_T1")
    assert len(view["blocks"]) <= 100
    shown = texts(view)
    assert "Your reports (130)" in shown and "Unassigned (130)" in shown and "Waiting on reporters (33)" in shown
    assert "…and 120 more" in shown and "/hc list unassigned" in shown


def test_home_buttons_act_and_the_home_is_republished(team_bot: RunningBot) -> None:
    file_ticket(team_bot, "The reports page takes a minute to load", user="U_REP")  # with its card and thread
    first = open_home(team_bot, "U_T1")
    button = next(b["accessory"] for b in first["blocks"] if b.get("accessory", {}).get("action_id") == "assign_me")
    click = {
        "type": "block_actions", "user": {"id": "U_T1"}, "trigger_id": "trig-home", "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"}, "actions": [{"type": "button", "action_id": "assign_me", "value": button["value"], "block_id": "b"}],
    }
    assert team_bot.slack.action(payload=click).status == 200
    assert ticket(team_bot, "HC-1").assignee == "U_T1"
    team_bot.settle()
    again = team_bot.fake.wait_for("views.publish", count=2, where=lambda c: c.params["user_id"] == "U_T1")[-1].params["view"]
    assert "Unassigned (0)" in texts(again)
    # Someone who may not assign gets the refusal at the top of their Home tab; nothing changes.
    refused = {**click, "user": {"id": "U_OUT"}}
    team_bot.slack.action(payload=refused)
    team_bot.settle()
    notice = team_bot.fake.wait_for("views.publish", where=lambda c: c.params["user_id"] == "U_OUT")[-1].params["view"]
    assert "Only the triage team" in texts(notice)
    assert ticket(team_bot, "HC-1").assignee == "U_T1"
    # Resolve… opens the modal; its submission resolves and refreshes the Home tab.
    team_bot.slack.action(payload={**click, "actions": [{"type": "button", "action_id": "resolve_ticket", "value": "HC-1", "block_id": "b"}]})
    modal = team_bot.fake.wait_for("views.open")[0].params["view"]
    values = {"note": {"value": {"type": "plain_text_input", "value": "Config fixed"}}}
    team_bot.slack.view_submission(callback_id="hc_resolve", values=values, private_metadata=modal["private_metadata"], user="U_T1")
    assert ticket(team_bot, "HC-1").status == "resolved"
    team_bot.settle()
    assert len(team_bot.fake.wait_for("views.publish", count=3, where=lambda c: c.params["user_id"] == "U_T1")) == 3


def test_the_messages_tab_publishes_nothing(bot: RunningBot) -> None:
    bot.slack.event(event={"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "messages", "event_ts": new_ts()})
    bot.settle()
    assert bot.fake.calls_to("views.publish") == []
