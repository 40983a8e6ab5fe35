"""Issue 13, item 4 over real HTTP: what people type never becomes the bot's own link or ping
(blocks.safe() escapes user text; blocks.bot_mrkdwn() keeps the bot's own markup)."""
from __future__ import annotations

import json
import re

from sqlalchemy import select
from sqlmodel import Session

from models.tables import TicketEvent
from tests.conftest import RunningBot

from tests.slack_requests import new_ts
from tests.test_followups import reply, report
from tests.triage_support import hc, shown, ticket

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
