"""Tracker-style (prose, titled) reports through `hypercare classify`: where the category model
says "question" or "feature", observed behaviour in a report without an issue template decides
the bug family, and the report is checked for missing details (issue 12)."""
from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bot.triage import triage
from bot.triage.classify import classify_stream
from bot.triage.model import load_model, set_model

BUG_FAMILY = {"bug", "performance", "usability", "integration", "data"}
TITLE = "Editor crashes when a file with a long line is opened"
PROSE = ("I opened a 2 MB minified script in the editor.\n"
         "The window freezes for a minute and then the whole application closes.\n"
         "Nothing is written to the log.")


def classify(records: list[dict[str, str]]) -> list[dict[str, Any]]:
    out = io.StringIO()
    classify_stream(io.StringIO("".join(json.dumps(r) + "\n" for r in records)), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture()
def question_classifier() -> Any:
    """The shipped model with a category block that reads every report as a question (p ≈ 0.9),
    as the GitHub-trained classifier does with many Bugzilla-style reports."""
    set_model({**load_model(), "category": {"classes": ["bug", "feature", "question"], "bias": [-1.0, -1.0, 1.3],
                                            "weights": {}}})
    yield
    set_model(None)


def test_a_prose_report_stating_observed_behaviour_is_a_bug_and_asked_for_what_it_lacks(
        question_classifier: None) -> None:
    [out] = classify([{"title": TITLE, "body": PROSE}])
    assert out["is_report"] and out["category"] in BUG_FAMILY
    assert "expected" in out["missing"]
    assert "actual" not in out["missing"], "it says what happens"


def test_a_templated_issue_keeps_the_classifier_label(question_classifier: None) -> None:
    body = "### Describe the problem\n" + PROSE + "\n\n### Environment\n_No response_"
    [out] = classify([{"title": "How should long lines be handled in the editor?", "body": body}])
    assert out["category"] == "question" and out["missing"] == []


def test_a_prose_request_and_a_howto_title_are_not_made_bugs(question_classifier: None) -> None:
    request, howto = classify([
        {"title": "Add an option to wrap long lines", "body": PROSE},
        {"title": "How do I stop the editor from closing on long lines?", "body": PROSE},
    ])
    assert request["category"] == "feature_request" and request["missing"] == []
    assert howto["category"] == "question" and howto["missing"] == []


def test_a_prose_report_that_asks_nothing_is_a_report_and_one_that_asks_stays_a_question(question_classifier: None) -> None:
    """No problem word, one plain statement: a tracker report all the same (someone with a question
    asks it); the same report with a question in its opening stays a question."""
    body = "I switched to the dark theme in the preferences.\nThe toolbar icons keep the light colours until the next start."
    states, asks = classify([{"title": "Toolbar icons after switching themes", "body": body},
                             {"title": "Toolbar icons after switching themes", "body": "Is a restart needed? " + body}])
    assert states["category"] in BUG_FAMILY and "expected" in states["missing"], "checked for what it lacks"
    assert asks["category"] == "question" and asks["missing"] == []


def test_a_one_line_message_that_names_a_thing_is_not_asked_for_steps() -> None:
    """"cursor control" says nothing happens: a request or a question, no reproduction questions;
    a one-liner that states behaviour, even without a problem word, stays a bug report."""
    named, flicker, orders = classify([{"text": "Conan build system"}, {"text": "the sidebar flickers on scroll"},
                                       {"text": "someone else's orders are visible in my account!!"}])
    assert named["is_report"] and named["category"] in ("feature_request", "question") and named["missing"] == []
    for said in (flicker, orders):
        assert said["category"] in BUG_FAMILY and said["missing"], said


def _gated(p_tracker_margin: float) -> dict[str, Any]:
    """The shipped model with a category block that reads every report as a question (as above) and
    a tracker-style gate column whose margin is `p_tracker_margin` for any report mentioning "the",
    for titled reports and chat alike."""
    block = {"classes": ["bug", "feature", "question"], "bias": [-1.0, -1.0, 1.3],
             "tracker_bias": -5.0, "weights": {"the": [0.0, 0.0, 0.0, 5.0 + p_tracker_margin]}}
    return {**load_model(), "category": block, "chat_category": block}   # chat meets the gate column too


def test_with_a_gate_a_report_written_like_a_tracker_report_is_a_bug_and_one_that_is_not_keeps_its_label() -> None:
    """With the gate column the style decides, not the prose rules: the same templated question is a
    bug report when the gate reads it as tracker-written, and a question when it does not."""
    body = "### Describe the problem\n" + PROSE
    try:
        set_model(_gated(2.0))
        [tracker] = classify([{"title": "Long lines in the editor", "body": body}])
        why = triage(title="Long lines in the editor", text=body).reasons
        set_model(_gated(-4.0))      # p ≈ 0.02: below PROSE_STYLE too
        [github] = classify([{"title": "Long lines in the editor", "body": body}])
        [prose] = classify([{"title": "Toolbar icons after switching themes", "body": "The icons keep their colours."}])
    finally:
        set_model(None)
    assert tracker["category"] in BUG_FAMILY and "expected" in tracker["missing"], tracker
    assert any("written like a tracker bug report" in r for r in why), why
    assert github["category"] == "question" and github["missing"] == [], github
    assert prose["category"] == "question", "no gate vote: the prose rules no longer apply"


def test_the_gate_does_not_touch_chat_or_requests() -> None:
    """A chat statement that reaches the classifier (no question, problem word or request) keeps the
    classifier's `question` though the gate would call it tracker-written; so does a titled request."""
    statement = "The toolbar keeps the light colours after the theme change.\nThe sidebar follows the theme."
    try:
        set_model(_gated(4.0))
        chat, request = classify([{"text": statement}, {"title": "Add a way to wrap the long lines", "body": PROSE}])
        why = triage(text=statement).reasons
    finally:
        set_model(None)
    assert any("classifier question" in r for r in why), why
    assert chat["category"] == "question" and chat["missing"] == [], chat
    assert request["category"] == "feature_request", request


def test_the_shipped_gate_reads_a_bugzilla_style_report_as_a_bug_report() -> None:
    """The shipped model, on a report written as Bugzilla reports are (not from the data)."""
    [out] = classify([{"title": "Bookmarks toolbar empty after upgrade to 3.6",
                       "body": "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\nBuild Identifier: 20100115\n\n"
                               "After upgrading the bookmarks toolbar shows no items. The bookmarks "
                               "are still in the Library window.\n\nReproducible: Always"}])
    assert load_model()["category"].get("tracker_bias") is not None
    assert out["category"] in BUG_FAMILY, out
    assert "expected" in out["missing"], out


def test_chat_is_scored_by_the_chat_block_and_titled_reports_by_the_gated_one() -> None:
    """A model with both blocks: chat messages meet `chat_category`, titled reports `category`."""
    every = {"classes": ["bug", "feature", "question"], "weights": {}}
    model = {**load_model(), "category": {**every, "bias": [-1.0, -1.0, 1.3], "tracker_bias": -9.0},
             "chat_category": {**every, "bias": [1.3, -1.0, -1.0]}}
    text = "The calendar shows meetings one hour off"
    try:
        set_model(model)
        chat, titled = classify([{"text": text}, {"title": text, "body": "### Details\nSince Monday."}])
    finally:
        set_model(None)
    assert chat["category"] in BUG_FAMILY and chat["missing"], chat
    assert titled["category"] == "question" and titled["missing"] == [], titled
