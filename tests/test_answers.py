"""Reading answers in a thread (bot.followups.answers): which sentence gives which reproduction detail."""
from __future__ import annotations

import pytest

from bot.followups.answers import merge, understand

BUG = ["steps", "expected", "actual", "environment"]


@pytest.mark.parametrize(("text", "wanted", "expected"), [
    ("1. open billing 2. click download", ["steps", "expected"], {"steps": "1. open billing 2. click download"}),
    ("should show the receipt", ["steps", "expected"], {"expected": "should show the receipt"}),
    ("but I get error 502", ["actual", "steps"], {"actual": "I get error 502"}),
    ("Safari 18 on iPhone", BUG, {"environment": "Safari 18 on iPhone"}),
    ("I opened billing and clicked the March invoice", ["steps", "expected"], {"steps": "I opened billing and clicked the March invoice"}),
    ("- open settings\n- click Privacy\n- click Clear data", BUG, {"steps": "open settings → click Privacy → click Clear data"}),
    ("Steps: open billing, click download\nExpected: a PDF\nActual: error 500\nEnv: Chrome 131", BUG,
     {"steps": "open billing, click download", "expected": "a PDF", "actual": "error 500", "environment": "Chrome 131"}),
    ("1. open billing 2. click the March invoice — should show 120 EUR", ["steps", "expected"],
     {"steps": "1. open billing 2. click the March invoice", "expected": "should show 120 EUR"}),
    ("when I click Pay I get a blank page", BUG, {"steps": "when I click Pay", "actual": "I get a blank page"}),
    ("Go to checkout and click Pay. it should show the receipt, but nothing happens. Firefox 128 on Windows 11", BUG,
     {"steps": "Go to checkout and click Pay", "expected": "it should show the receipt", "actual": "nothing happens",
      "environment": "Firefox 128 on Windows 11"}),
])
def test_sentences_go_to_the_detail_they_give(text: str, wanted: list[str], expected: dict[str, str]) -> None:
    assert understand(text=text, wanted=wanted).fields == expected


def test_an_uncued_answer_goes_to_the_one_detail_awaited_and_only_then() -> None:
    assert understand(text="the invoice PDF downloads", wanted=["expected"]).fields == {"expected": "the invoice PDF downloads"}
    unsure = understand(text="the invoice PDF downloads", wanted=["steps", "expected"])
    assert unsure.fields == {} and unsure.unclassified == ("the invoice PDF downloads",)
    both = understand(text="Open billing and click download. a PDF with the March invoice", wanted=["steps", "expected"])
    assert both.fields == {"steps": "Open billing and click download", "expected": "a PDF with the March invoice"}
    assert understand(text="the invoice PDF downloads", wanted=["expected"], context=False).fields == {}


def test_performance_answers_say_where_since_when_and_how_slow() -> None:
    said = understand(text="on the reports page, since the deploy on Monday, takes about 20 seconds", wanted=BUG, category="performance")
    assert said.fields == {"steps": "on the reports page", "expected": "since the deploy on Monday", "actual": "takes about 20 seconds"}


def test_chatter_and_not_an_issue_fill_nothing() -> None:
    for text in ("thanks!", "ok", "+1", "same here", ":eyes:", "let me check"):
        said = understand(text=text, wanted=BUG)
        assert said.chatter and said.fields == {}, text
    for text in ("never mind, it works now", "false alarm, sorry", "Not an issue after all"):
        assert understand(text=text, wanted=BUG).not_an_issue, text


def test_user_text_is_masked_and_mentions_are_dropped() -> None:
    said = understand(text="<@U123> steps: log in as jane@example.com and open billing", wanted=["steps"])
    assert "jane@example.com" not in said.fields["steps"] and "<@U123>" not in said.fields["steps"]


def test_merge_takes_what_was_asked_and_lets_the_same_conversation_continue_a_detail() -> None:
    said = understand(text="3. then press Pay", wanted=["expected"])
    assert merge(current={"steps": "1. open billing 2. pick March"}, understood=said, pending=["expected"]) == {}
    continued = merge(current={"steps": "1. open billing 2. pick March"}, understood=said, pending=["expected"], appendable=["steps"])
    assert continued == {"steps": "1. open billing 2. pick March then press Pay"}
    unasked = understand(text="but I get error 502", wanted=["expected"])
    assert merge(current={}, understood=unasked, pending=["expected"]) == {}, "a detail nobody asked for is not stored"
