"""The form paths over real HTTP: the message shortcut and `/hc new` open a prefilled modal, its
submission files; where the bot is not a member it says how to invite it. (Messages, the
:ticket: reaction and the card: test_intake_paths.py.)"""
from __future__ import annotations

import json

from tests.conftest import RunningBot, card_posts
from tests.slack_requests import new_ts
from tests.triage_support import all_tickets as tickets


def test_shortcut_opens_a_prefilled_modal_and_submission_files(bot: RunningBot) -> None:
    ts = new_ts()
    message = {"type": "message", "ts": ts, "user": "U_AUTHOR", "text": "Steps: 1. open billing 2. click download. Expected a PDF, instead error 500 on Chrome 131"}
    assert bot.slack.shortcut(callback_id="hc_create_ticket", message=message, channel="C100", user="U_TRIAGE").status == 200
    view = bot.fake.wait_for("views.open")[0].params["view"]
    prefilled = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["element"]["type"] == "plain_text_input"}
    assert prefilled["title"] and "open billing" in (prefilled["steps"] or "")
    chosen = {b["block_id"]: b["element"]["initial_option"]["value"] for b in view["blocks"] if b["element"]["type"] == "static_select"}
    assert chosen["category"] == "bug" and chosen["severity"] in ("critical", "high", "medium", "low")

    def values(title: str) -> dict[str, dict[str, dict[str, object]]]:
        text_value = lambda v: {"value": {"type": "plain_text_input", "value": v}}  # noqa: E731
        select_value = lambda v: {"value": {"type": "static_select", "selected_option": {"value": v}}}  # noqa: E731
        return {
            "title": text_value(title), "description": text_value(message["text"]), "category": select_value("bug"),
            "severity": select_value("high"), "steps": text_value(prefilled["steps"]), "expected": text_value(None),
            "actual": text_value("error 500"), "environment": text_value("Chrome 131"),
        }

    refused = bot.slack.view_submission(callback_id="hc_new_ticket", values=values(""), private_metadata=view["private_metadata"], user="U_TRIAGE")
    assert refused.json() == {"response_action": "errors", "errors": {"title": "Please give the ticket a short title."}}
    assert tickets(bot) == []
    accepted = bot.slack.view_submission(callback_id="hc_new_ticket", values=values("Billing PDF download fails"), private_metadata=view["private_metadata"], user="U_TRIAGE")
    assert accepted.status == 200
    bot.settle()
    [ticket] = tickets(bot)
    assert (ticket.title, ticket.reporter, ticket.severity, ticket.source, ticket.message_ts) == ("Billing PDF download fails", "U_AUTHOR", "high", "shortcut", ts)
    assert ticket.missing == ["expected"]
    assert bot.fake.calls_to("chat.postMessage")[0].params["thread_ts"] == ts


def form(**fields: str | None) -> dict[str, dict[str, dict[str, object]]]:
    """view.state.values of the new-ticket modal."""
    out: dict[str, dict[str, dict[str, object]]] = {}
    for name, value in fields.items():
        if name in ("category", "severity"):
            out[name] = {"value": {"type": "static_select", "selected_option": {"value": value} if value else None}}
        else:
            out[name] = {"value": {"type": "plain_text_input", "value": value}}
    return out


def test_hc_new_without_text_opens_the_modal_and_submitting_files(bot: RunningBot) -> None:
    assert bot.slack.command(text="new", user="U_FORM", channel="C100", trigger_id="trig-99").status == 200
    opened = bot.fake.wait_for("views.open")[0]
    view = opened.params["view"]
    assert opened.params["trigger_id"] == "trig-99" and view["callback_id"] == "hc_new_ticket"
    assert [b["block_id"] for b in view["blocks"]] == ["title", "description", "category", "severity", "steps", "expected", "actual", "environment"]
    blank = form(title=" ", description="", category="bug", severity="medium", steps=None, expected=None, actual=None, environment=None)
    refused = bot.slack.view_submission(callback_id="hc_new_ticket", values=blank, private_metadata=view["private_metadata"], user="U_FORM")
    assert refused.json() == {"response_action": "errors", "errors": {"title": "Please give the ticket a short title.", "description": "Please describe what happened."}}
    assert tickets(bot) == []
    filled = form(title="Billing page shows last year's prices", description="The billing page shows 2024 prices to *everyone*",
                  category="bug", severity="low", steps="open billing", expected=None, actual="2024 prices", environment="Firefox 133")
    assert bot.slack.view_submission(callback_id="hc_new_ticket", values=filled, private_metadata=view["private_metadata"], user="U_FORM").status == 200
    bot.settle()
    [ticket] = tickets(bot)
    assert (ticket.reporter, ticket.source, ticket.channel, ticket.message_ts, ticket.severity) == ("U_FORM", "modal", "C100", None, "low")
    assert (ticket.steps, ticket.expected, ticket.environment, ticket.missing) == ("open billing", None, "Firefox 133", ["expected"])
    assert ticket.description == "The billing page shows 2024 prices to everyone", "Slack markup becomes readable text"
    [card] = card_posts(bot.fake)
    assert card.params["channel"] == "C100" and "thread_ts" not in card.params, "no report message: the card starts the thread"
    assert "filed by <@U_FORM>" in card.params["text"] and ticket.thread_ts == card.response["ts"]  # type: ignore[index]


INVITE_TEXT = ("I'm not a member of <#G_SECRET>, so I can't post tickets there. "
               "Invite me first: type `/invite @Hypercare` in <#G_SECRET>, then try again.")


def test_shortcut_where_the_bot_is_not_a_member_says_how_to_invite(bot: RunningBot) -> None:
    bot.fake.add_channel(channel_id="G_SECRET", name="secret", is_private=True, is_member=False)
    message = {"type": "message", "ts": new_ts(), "user": "U_AUTHOR", "text": "The VPN drops every hour"}
    # The bot has not seen this channel yet: the form opens at once (no Slack call before the ack),
    # then membership is checked and the form turns into the invitation.
    bot.slack.shortcut(callback_id="hc_create_ticket", message=message, channel="G_SECRET", user="U1", trigger_id="trig-a")
    [opened] = bot.fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "trig-a" and opened.params["view"]["callback_id"] == "hc_new_ticket"
    [updated] = bot.fake.wait_for("views.update")
    assert updated.params["view_id"] == opened.response["view"]["id"] and INVITE_TEXT in json.dumps(updated.params["view"])  # type: ignore[index]
    # Now it knows: said by response_url, and no form at all.
    bot.slack.shortcut(callback_id="hc_create_ticket", message=message, channel="G_SECRET", user="U1", response_url=bot.fake.response_url(key="sc"))
    said = bot.fake.wait_for("response_url:sc")[0].params
    assert said["response_type"] == "ephemeral" and said["text"] == INVITE_TEXT
    bot.slack.shortcut(callback_id="hc_create_ticket", message=message, channel="G_SECRET", user="U1", trigger_id="trig-nr")
    [notice] = bot.fake.wait_for("views.open", where=lambda c: c.params["trigger_id"] == "trig-nr")
    assert notice.params["view"].get("callback_id") is None and "`/invite @Hypercare` in <#G_SECRET>" in json.dumps(notice.params["view"])
    # A form still open from before is refused on submission, and nothing is filed.
    refused = bot.slack.view_submission(callback_id="hc_new_ticket", values=form(title="VPN drops", description="hourly", category="bug", severity="low"),
                                        private_metadata=opened.params["view"]["private_metadata"], user="U1")
    assert refused.json()["response_action"] == "errors" and "/invite @Hypercare" in refused.json()["errors"]["title"]
    bot.settle()
    assert tickets(bot) == []


def test_not_a_member_says_how_to_invite(bot: RunningBot) -> None:
    bot.fake.add_channel(channel_id="G_SECRET", name="secret", is_private=True, is_member=False)
    # Unknown channel: filed optimistically (nothing is lost), then corrected by response_url.
    first = bot.slack.command(text="new the VPN drops every hour", channel="G_SECRET", response_url=bot.fake.response_url(key="new1")).json()
    assert first["text"].startswith("Filed HC-1")
    correction = bot.fake.wait_for("response_url:new1")[0].params
    assert correction["response_type"] == "ephemeral" and "/invite @Hypercare" in correction["text"] and "saved" in correction["text"]
    # Known now: still filed (nothing typed is lost), and the answer itself says how to invite the bot.
    answer = bot.slack.command(text="new the printer is on fire", channel="G_SECRET").json()
    assert answer["response_type"] == "ephemeral" and answer["text"].startswith("Filed HC-2") and "/invite @Hypercare" in answer["text"]
    bot.settle()
    assert [t.key for t in tickets(bot)] == ["HC-1", "HC-2"]
