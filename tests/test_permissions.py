"""Who may triage (issue 5): configured users, the user group, `/hc triagers add`; everyone when
nothing is configured; a reporter may close their own ticket; refusals say who can, change nothing."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import RunningBot, start_bot
from tests.fake_slack import FakeSlack
from tests.triage_support import file_ticket, hc, shown, ticket

TRIAGE_ACTIONS = (
    "assign HC-1 me", "severity HC-1 critical", "status HC-1 triaged", "resolve HC-1 fixed it",
    "reopen HC-1", "dup HC-1 HC-2", "capture off", "triagers add <@U_X>",
)


@pytest.fixture
def team_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    """Triage team: U_T1 and U_T2 by setting, and the members of user group S_TRIAGE."""
    fake_slack.add_usergroup(usergroup_id="S_TRIAGE", handle="triage", users=["U_G1"])
    running = start_bot(fake=fake_slack, database_url=database_url, triage_users=("U_T1", "U_T2"), triage_usergroup="S_TRIAGE", scheduler_enabled=False)
    yield running
    running.server.stop()
    running.hypercare.stop()
    running.hypercare.engine.dispose()


def test_without_configuration_everyone_may_triage(bot: RunningBot) -> None:
    file_ticket(bot, "The signup form rejects plus signs in e-mail addresses")
    assert "severity is now *high*" in shown(hc(bot, "severity HC-1 high", user="U_ANYONE"))
    assert "everyone" in hc(bot, "triagers list", user="U_ANYONE")["text"]


def test_outsiders_are_refused_every_triage_action_and_told_who_can(team_bot: RunningBot) -> None:
    file_ticket(team_bot, "Export to CSV drops the last row", user="U_REP")
    file_ticket(team_bot, "Avatars do not load in the sidebar", user="U_REP")
    before = ticket(team_bot, "HC-1")
    for text in TRIAGE_ACTIONS:
        answer = hc(team_bot, text, user="U_OUT")
        assert "Only the triage team" in answer["text"], text
        who = json.dumps(answer["blocks"])
        assert "<@U_T1>" in who and "<@U_T2>" in who and "<!subteam^S_TRIAGE>" in who, text
    after = ticket(team_bot, "HC-1")
    assert (after.assignee, after.severity, after.status, after.resolution) == (before.assignee, before.severity, before.status, before.resolution)
    assert "Only the triage team" in hc(team_bot, "triagers remove <@U_T1>", user="U_OUT")["text"]
    # Looking is for everyone.
    for text in ("list", "show HC-1", "search export", "stats", "triagers list", "help"):
        assert "Only the triage team" not in shown(hc(team_bot, text, user="U_OUT")), text


def test_configured_users_and_usergroup_members_may_triage(team_bot: RunningBot) -> None:
    file_ticket(team_bot, "Dark mode toggle resets after reload", user="U_REP")
    hc(team_bot, "severity HC-1 low", user="U_T2")
    assert ticket(team_bot, "HC-1").severity == "low"
    hc(team_bot, "assign HC-1 me", user="U_G1")
    assert ticket(team_bot, "HC-1").assignee == "U_G1"
    calls = team_bot.fake.calls_to("usergroups.users.list")
    assert calls and all(c.params["usergroup"] == "S_TRIAGE" for c in calls)
    assert len(calls) == 1, "the user group's members are cached, not asked for on every command"


def test_triagers_add_list_and_remove(team_bot: RunningBot) -> None:
    file_ticket(team_bot, "Notifications arrive twice on Android", user="U_REP")
    team_bot.fake.add_user(user_id="U_NEW", name="newbie")
    assert "Only the triage team" in hc(team_bot, "severity HC-1 high", user="U_NEW")["text"]
    assert "<@U_NEW> is now on the triage team" in shown(hc(team_bot, "triagers add @newbie", user="U_T1"))
    assert "already on the triage team" in hc(team_bot, "triagers add <@U_NEW>", user="U_T1")["text"]
    listed = shown(hc(team_bot, "triagers list", user="U_REP"))
    assert "<@U_NEW>" in listed and "<@U_T1>" in listed and "<!subteam^S_TRIAGE>" in listed
    hc(team_bot, "severity HC-1 high", user="U_NEW")
    assert ticket(team_bot, "HC-1").severity == "high"
    assert "HYPERCARE_TRIAGE_USERS" in hc(team_bot, "triagers remove <@U_T2>", user="U_T1")["text"]
    assert "nothing to remove" in hc(team_bot, "triagers remove <@U_G1>", user="U_T1")["text"]
    assert "no longer on the triage team" in shown(hc(team_bot, "triagers remove <@U_NEW>", user="U_T1"))
    assert "Only the triage team" in hc(team_bot, "severity HC-1 low", user="U_NEW")["text"]
    assert "/hc triagers list|add" in shown(hc(team_bot, "triagers promote <@U_NEW>", user="U_T1"))


def test_the_first_triager_can_be_added_by_anyone_then_the_team_is_closed(bot: RunningBot) -> None:
    hc(bot, "triagers add me", user="U_FIRST")
    assert "Only the triage team" in hc(bot, "triagers add <@U_SECOND>", user="U_OTHER")["text"]
    assert "<@U_FIRST>" in shown(hc(bot, "triagers list", user="U_OTHER"))


def test_a_reporter_may_close_their_own_ticket_but_not_triage_it(team_bot: RunningBot) -> None:
    file_ticket(team_bot, "Billing page shows last month's plan", user="U_REP")
    assert "Only the triage team" in hc(team_bot, "severity HC-1 critical", user="U_REP")["text"]
    assert "or the reporter of HC-1" in hc(team_bot, "close HC-1", user="U_OTHER")["text"]
    assert "is closed" in shown(hc(team_bot, "close HC-1 works after a reload", user="U_REP"))
    closed = ticket(team_bot, "HC-1")
    assert closed.status == "closed" and closed.first_response_at is None, "the reporter closing is no triage response"


def test_card_buttons_check_permissions_too(team_bot: RunningBot) -> None:
    filed = file_ticket(team_bot, "Search box ignores accents", user="U_REP")
    url = team_bot.fake.response_url(key="refused")
    team_bot.slack.block_action(action_id="assign_me", value="HC-1", user="U_OUT", response_url=url)
    refusal = team_bot.fake.wait_for("response_url:refused")[0].params
    assert "Only the triage team" in refusal["text"] and refusal["replace_original"] is False
    assert ticket(team_bot, "HC-1").assignee is None
    team_bot.slack.block_action(action_id="resolve_ticket", value="HC-1", user="U_OUT", response_url=url)
    assert len(team_bot.fake.wait_for("response_url:refused", count=2)) == 2
    assert team_bot.fake.calls_to("views.open") == [], "no resolve modal for someone who may not resolve"
    # "Not an issue" is the reporter withdrawing their own report: allowed.
    team_bot.slack.block_action(action_id="not_an_issue", value="HC-1", user="U_REP", response_url=url)
    assert ticket(team_bot, "HC-1").status == "wont_fix"
    team_bot.slack.block_action(action_id="assign_me", value=filed.key, user="U_T1", response_url=url)
    assert ticket(team_bot, "HC-1").assignee == "U_T1"


def test_the_resolve_modal_refuses_outsiders_in_the_modal(team_bot: RunningBot) -> None:
    file_ticket(team_bot, "Calendar invites have the wrong time zone", user="U_REP")
    values = {"note": {"value": {"type": "plain_text_input", "value": "fixed"}}}
    refused = team_bot.slack.view_submission(callback_id="hc_resolve", values=values, private_metadata='{"key": "HC-1"}', user="U_OUT")
    assert refused.json()["response_action"] == "errors" and "Only the triage team" in refused.json()["errors"]["note"]
    assert ticket(team_bot, "HC-1").status != "resolved"
