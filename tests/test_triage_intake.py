"""Issue 12's product rules through the running bot over real HTTP (SQLite and PostgreSQL): a
how-to question is filed as a question and nobody is asked for reproduction steps; a long,
tracker-style report that describes observed behaviour is asked for what it lacks."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from models.tables import Ticket
from tests.conftest import RunningBot

HOWTO_WITH_ERROR = "How do I get rid of the error 'token expired' when I export invoices from the billing page?"
TRACKER_STYLE = (
    "Hi,\n\n"
    "Our web server sends every page with ISO-8859-1 as its charset, whereas we use UTF-8 for all our pages.\n"
    "The Content-Type header of each response still says charset=ISO-8859-1 after the config change.\n"
    "Accented characters are shown garbled in the browser for all our customers."
)


def tickets(bot: RunningBot) -> list[Ticket]:
    with Session(bot.engine) as session:
        return list(session.execute(select(Ticket).order_by(Ticket.number)).scalars())


def thread_posts(bot: RunningBot, ts: str) -> list[str]:
    return [c.params.get("text", "") for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]


def post(bot: RunningBot, text: str, channel: str = "C100") -> str:
    sent = bot.slack.message(channel=channel, user="U1", text=text)
    assert sent.status == 200 and sent.ts
    bot.settle()
    return sent.ts


def test_a_howto_question_with_an_error_word_is_filed_as_a_question_without_reproduction_questions(
        bot: RunningBot) -> None:
    ts = post(bot, HOWTO_WITH_ERROR)
    [filed] = tickets(bot)
    assert filed.category == "question"
    assert filed.missing == [] and filed.status == "new"
    asked = [t for t in thread_posts(bot, ts) if "we need a bit more" in t or "Steps to reproduce" in t]
    assert asked == [], asked


def test_a_tracker_style_report_with_observed_behaviour_is_asked_for_what_it_lacks(bot: RunningBot) -> None:
    ts = post(bot, TRACKER_STYLE)
    [filed] = tickets(bot)
    assert filed.category in ("bug", "performance", "usability", "integration", "data")
    assert "steps" in filed.missing and "expected" in filed.missing
    assert "actual" not in filed.missing, "it describes what happens"
    assert filed.status == "needs_info"
    [question] = [t for t in thread_posts(bot, ts) if "we need a bit more" in t]
    assert "Steps to reproduce" in question and "Expected behaviour" in question
    assert "Actual behaviour" not in question
