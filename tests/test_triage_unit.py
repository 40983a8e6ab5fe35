"""Unit tests for bot.triage: pure functions, no Slack, no database."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from bot.triage import (
    BUG_LIKE,
    CATEGORIES,
    DETAILS,
    SEVERITIES,
    Triage,
    details_needed,
    mask_pii,
    neutralize_mentions,
    severity_for,
    slack_to_text,
    triage,
)
from bot.triage.model import MODEL_PATH, load_model, set_model

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- report or chatter

@pytest.mark.parametrize("text", [
    "thanks!", "ok", "+1", "lunch?", ":tada:", "good morning team", "brb", "lgtm", "no problem!",
    "<@U123ABC> :pray:", "haha nice", "🎉🎉",
])
def test_chatter_is_not_a_report(text: str) -> None:
    result = triage(text=text)
    assert result.is_report is False
    assert result.missing == []


@pytest.mark.parametrize("text", [
    "checkout button does nothing on Safari",
    "Login fails with 502 since the deploy",
    "how do I export my invoices?",
    "can we add dark mode?",
])
def test_real_reports_are_reports(text: str) -> None:
    assert triage(text=text).is_report is True


def test_question_and_request_categories() -> None:
    assert triage(text="how do I export my invoices?").category == "question"
    assert triage(text="is it possible to change my billing email?").category == "question"
    assert triage(text="can we add dark mode?").category == "feature_request"
    assert triage(text="it would be nice to have a CSV export").category == "feature_request"


def test_problem_reports_are_bug_like() -> None:
    assert triage(text="Login fails with 502 since the deploy").category == "bug"
    assert triage(text="the dashboard is really slow, takes 10s to load").category == "performance"
    assert triage(text="Salesforce sync webhook returns 401 since yesterday").category == "integration"
    assert triage(text="export CSV has duplicated rows and wrong totals").category == "data"
    assert triage(text="the save button is hidden and hard to find").category == "usability"
    assert triage(text="typo in the docs for the API").category == "documentation"


def test_result_shape() -> None:
    result = triage(text="Login fails with 502 since the deploy")
    assert isinstance(result, Triage)
    assert result.category in CATEGORIES and result.severity in SEVERITIES
    assert list(result.fields) == list(DETAILS)
    assert result.reasons and all(isinstance(r, str) for r in result.reasons)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.severity = "low"  # type: ignore[misc]


# ----------------------------------------------------------------------------- severity

def test_payments_failing_for_everyone_is_critical() -> None:
    result = triage(text="payments failing for everyone")
    assert result.severity == "critical"
    assert any("payments" in r for r in result.reasons)


def test_chat_impact_phrasings() -> None:
    assert triage(text="customer says their data from last week is gone after the migration").severity == "critical"
    assert triage(text="someone else's orders are visible in my account!!").severity == "critical"
    assert triage(text="Checkout is throwing 500s for everyone since 14:05").severity == "critical"
    assert triage(text="users report being logged out every 5 minutes on iOS 18").severity == "high"
    assert triage(text="FYI deploy 2.4.1 is rolling out now").is_report is False


def test_login_failure_is_high_with_reason() -> None:
    result = triage(text="Login fails with 502 since the deploy")
    assert result.severity == "high"
    assert any(r.startswith("severity high") and "login" in r for r in result.reasons)


def test_severity_matrix_rules() -> None:
    assert severity_for(category="bug", text="the site is down for everyone", affected_count=1)[0] == "critical"
    assert severity_for(category="bug", text="we lost all our data after the sync", affected_count=1)[0] == "critical"
    assert severity_for(category="bug", text="some card payments are declined", affected_count=1)[0] == "high"
    assert severity_for(category="bug", text="invoice totals are wrong", affected_count=1)[0] == "high"
    assert severity_for(category="bug", text="typo on the settings page", affected_count=1)[0] == "low"
    assert severity_for(category="bug", text="the sidebar flickers", affected_count=1)[0] == "medium"
    assert severity_for(category="feature_request", text="payments for everyone", affected_count=50)[0] == "low"
    assert severity_for(category="question", text="how do I log in?", affected_count=1)[0] == "low"


def test_affected_count_raises_and_never_exceeds_critical() -> None:
    assert severity_for(category="bug", text="the sidebar flickers", affected_count=3)[0] == "high"
    level, reasons = severity_for(category="bug", text="the sidebar flickers", affected_count=10)
    assert level == "critical" and any("10 people" in r for r in reasons)
    assert severity_for(category="bug", text="site is down", affected_count=50)[0] == "critical"
    assert triage(text="the sidebar flickers on scroll", affected_count=4).severity == "high"


def test_workaround_lowers_but_integrity_stays_high() -> None:
    level, reasons = severity_for(category="bug", text="login fails, workaround: use the mobile app",
                                  affected_count=1)
    assert level == "medium" and any("workaround" in r for r in reasons)
    level, _ = severity_for(category="data", text="report totals are wrong, workaround: recalc by hand",
                            affected_count=1)
    assert level == "high"


# ----------------------------------------------------------------------------- PII

def test_mask_pii_masks_contact_data_cards_and_secrets() -> None:
    text = ("mail jane.doe@example.com or call +49 170 1234567, card 4111 1111 1111 1111, "
            "token xoxb-1234-5678-abcdefgh, password=hunter2, key AKIAABCDEFGHIJKLMNOP, "
            "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789, Authorization: Bearer abc.def-ghi123")
    out = mask_pii(text)
    for secret in ("jane.doe@example.com", "170 1234567", "4111 1111 1111 1111", "xoxb-", "hunter2",
                   "AKIAABCDEFGHIJKLMNOP", "ghp_", "abc.def-ghi123"):
        assert secret not in out
    for marker in ("[email]", "[phone]", "[card]", "[secret]"):
        assert marker in out


def test_mask_pii_leaves_versions_codes_and_ids_alone() -> None:
    text = ("v2.4.1 on Chrome 131.0.6778.85, see HC-12, error 502 ERR_CONNECTION_RESET at 12:30 on "
            "2024-05-01, ping <@U123ABC>, server 10.0.0.1, order 123456789")
    assert mask_pii(text) == text


def test_mask_pii_card_needs_luhn() -> None:
    assert mask_pii("ref 1234 5678 9012 3456") == "ref 1234 5678 9012 3456"
    assert mask_pii("card 4111-1111-1111-1111") == "card [card]"


def test_triage_masks_title_description_and_fields() -> None:
    result = triage(text="checkout fails for jane@example.com with card 4111 1111 1111 1111 on iOS 18")
    blob = result.title + result.description + " ".join(v for v in result.fields.values() if v)
    assert "jane@example.com" not in blob and "4111" not in blob


# ----------------------------------------------------------------------------- Slack markup, pings

def test_slack_to_text() -> None:
    src = ("<!here> *checkout* is _down_, see <https://x.example/a?b=1&amp;c=2|the dash> and "
           "<https://y.example> in <#C123|general> cc <@U123|bob> `code` ~old~ snake_case &lt;b&gt;")
    out = slack_to_text(src)
    assert "the dash (https://x.example/a?b=1&c=2)" in out
    assert "https://y.example" in out and "#general" in out and "<@U123>" in out
    assert "<!here>" not in out and "here" in out
    assert "*" not in out and "~" not in out and "`" not in out
    assert "snake_case" in out and "<b>" in out
    assert slack_to_text("```*keep* _me_```") == "```*keep* _me_```"


def test_neutralize_mentions_removes_pings() -> None:
    out = neutralize_mentions("<!channel> <!here> <!everyone> <!subteam^S1|@oncall> <@U123ABC> "
                              "@channel @here @everyone")
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<!subteam", "<@U123ABC>"):
        assert ping not in out
    for bare in ("@channel", "@here", "@everyone"):
        assert bare not in out
    assert "channel" in out and "oncall" in out
    assert neutralize_mentions("plain text, mail a@b.co") == "plain text, mail a@b.co"


# ----------------------------------------------------------------------------- fields, missing

def test_field_extraction_from_chat() -> None:
    result = triage(text="1. open the app 2. tap pay — expected receipt, instead I get error 502 on iOS 18")
    f = result.fields
    assert f["steps"] and "open the app" in f["steps"] and "tap pay" in f["steps"]
    assert f["expected"] and "receipt" in f["expected"]
    assert f["actual"] and "502" in f["actual"]
    assert f["environment"] and "iOS 18" in f["environment"]
    assert result.missing == []


def test_missing_never_lists_found_fields() -> None:
    result = triage(text="Login fails with 502 since the deploy on Chrome 131")
    assert set(result.missing) == {"steps", "expected"}
    for name in result.missing:
        assert result.fields[name] is None
    assert triage(text="can we add dark mode?").missing == []
    assert triage(text="how do I export my invoices?").missing == []
    assert details_needed("performance") == DETAILS
    assert details_needed("feature_request") == details_needed("documentation") == ()


def test_labelled_chat_fields() -> None:
    f = triage(text="Steps: open settings, click save. Expected: saved. Actual: spinner forever. "
                    "Env: Android 14, v2.4.1").fields
    assert f["steps"] and "open settings" in f["steps"]
    assert f["expected"] and "saved" in f["expected"]
    assert f["actual"] and "spinner" in f["actual"]
    assert f["environment"] and "Android 14" in f["environment"]


def test_github_markdown_sections() -> None:
    body = ("<!-- Please describe the expected behavior below -->\n### Steps To Reproduce\n\n"
            "1. Run the app\n2. Click Save\n\n### Expected behavior\n\nThe file is saved\n\n"
            "### Actual behavior\n\nIt crashes with TypeError\n\n### Environment\n\nWindows 11, Firefox 120\n")
    result = triage(text=body, title="Save crashes")
    assert result.title == "Save crashes"
    assert result.fields["steps"] and "Click Save" in result.fields["steps"]
    assert result.fields["expected"] == "The file is saved"
    assert "TypeError" in (result.fields["actual"] or "")
    assert "Windows 11" in (result.fields["environment"] or "")
    assert "Please describe" not in (result.fields["expected"] or "")


# ----------------------------------------------------------------------------- title

def test_title_is_clean_and_short() -> None:
    text = ("<@U123ABC> *Checkout* is broken on <https://shop.example|the shop> for "
            + "very " * 40 + "many users, mail me at jane@example.com")
    title = triage(text=text).title
    assert len(title) <= 120 and title.endswith("…")
    assert "<" not in title and "*" not in title and "U123ABC" not in title
    assert title.startswith("Checkout is broken on the shop")
    assert triage(text="hi\nthe export button is gone").title == "the export button is gone"
    assert triage(text="x", title="Given title").title == "Given title"


# ----------------------------------------------------------------------------- packaging

def test_model_file_is_small_and_has_provenance() -> None:
    assert MODEL_PATH.exists() and MODEL_PATH.stat().st_size < 5_000_000
    model = load_model()
    assert set(model["category"]["classes"]) == {"bug", "feature", "question"}
    prov = model["provenance"]
    assert "issue_reports_labelled.csv" in prov["category_data"] and prov["script"]


def test_works_without_a_model_file() -> None:
    set_model({})
    try:
        result = triage(text="Save crashes. Steps: open settings, click save. Expected: it saves.",
                        title="Save crashes on Windows 11")
        assert result.category == "bug" and any("no classifier model" in r for r in result.reasons)
        assert result.fields["steps"] and result.fields["expected"]
    finally:
        set_model(None)
    assert load_model().get("category")


def test_github_input_is_never_chatter() -> None:
    result = triage(text="", title="ok")
    assert result.is_report is True and result.title == "ok"


def test_package_imports_no_slack_db_or_ml_modules() -> None:
    code = ("import sys, bot.triage as t; t.triage(text='Login fails'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('slack_bolt', 'slack_sdk', 'sqlmodel', 'sqlalchemy', 'numpy', 'sklearn')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_eb_model_has_threshold_and_implicit_cues() -> None:
    from bot.triage.extract import analyse
    eb = load_model()["details"]["eb"]
    assert 0.0 < eb["__threshold__"] < 1.0
    an = analyse("The export does not include the header row.", title="Export doesn't work anymore")
    assert "eb_neg_func" in an.cues[0] and "eb_regress" in an.cues[0]
    assert "t_eb_neg_func" in an.features and "eb_neg_func" in an.cues[1]


def test_eb_chaparro_cues_and_counter_cues() -> None:
    from bot.triage.extract import analyse
    an = analyse("Why doesn't the export include the header? It works fine in the old version. "
                 "The list is not shown correctly. Import works as expected. Got 3, expected 4.",
                 title="Add a retry button to the export dialog")
    cues = dict(zip(an.units, an.cues))
    assert "eb_imperative" in an.cues[0] and "t_eb_imperative" in an.features
    assert "eb_why_neg" in cues["Why doesn't the export include the header?"]
    assert "eb_fine" in cues["It works fine in the old version."]
    assert "eb_neg_correct" in cues["The list is not shown correctly."]
    assert "eb_as_expected" in cues["Import works as expected."]
    assert "eb_test_log" in cues["Got 3, expected 4."]
    # the model learns that these counter cues take evidence away; a plain "should" still counts
    eb = load_model()["details"]["eb"]
    assert eb["eb_neg_correct"] < 0 and eb["eb_should"] > 0
    plain = analyse("The list is shown. It should be sorted by date.", title="List order")
    assert not {"eb_imperative", "eb_neg_correct", "eb_as_expected", "eb_test_log"} & set(sum(plain.cues, []))


def test_a_chat_message_asking_how_is_a_question_even_with_a_problem_word() -> None:
    """Asking how to do something is a question wherever it is asked; asking how to fix a problem
    is a problem report."""
    asked = triage(text="If I create ConfigurationProperties with the Binder, validation doesn't happen. Any way to trigger this?")
    assert (asked.category, asked.missing) == ("question", [])
    fix = triage(text="Login fails with error 500 since the deploy, how can I fix it?")
    assert fix.category in BUG_LIKE and fix.missing


def test_what_is_missing_rather_than_broken_is_a_request() -> None:
    for text in ("TIFFDecoder does not support 12 bit images", "when will the SDK support FP8?",
                 "The exporter has no option to skip empty rows"):
        result = triage(text=text)
        assert (result.category, result.missing) == ("feature_request", []), text
    assert triage(text="Export fails with error 500 when a row is empty").category in BUG_LIKE
