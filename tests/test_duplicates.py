"""Duplicate detection: the matcher on hand-written war-room pairs (unit tests of a pure
function), then linking over real HTTP (the reply, affected people, severity, history).
Suggestions, their buttons and recently resolved tickets: tests/test_duplicate_suggestions.py."""
from __future__ import annotations

from bot.duplicates import LINK, Candidate, judge
from bot.duplicates.text import stem, words
from tests.conftest import RunningBot
from tests.triage_support import all_tickets, ticket_events

OPEN = [
    Candidate(1, "Login fails with error 502 since the deploy\nCan't log in on web, 502 page"),
    Candidate(2, "Checkout button does nothing on Safari\nClicking Pay does nothing, no error"),
    Candidate(3, "CSV export is missing the last row of the invoice list"),
    Candidate(4, "Dashboard loads very slowly for EU customers, takes 30 seconds"),
    Candidate(5, "Push notifications not arriving on Android 14"),
]

SAME = [
    ("can't sign in, getting a 502 error", 1),
    ("Sign-in broken after release: 502 bad gateway", 1),
    ("pay button on safari doesn't work, nothing happens when I click it", 2),
    ("the exported CSV of invoices drops the final row", 3),
    ("EU dashboard takes forever to load (30s)", 4),
    ("android users aren't getting push notifications", 5),
]
DIFFERENT = [
    "password reset email never arrives",
    "typo on the pricing page: 'recieve'",
    "the admin user list shows deleted users",
    "iOS app crashes when opening settings",
    "can we add dark mode?",
]


def test_same_problem_in_other_words_is_linked() -> None:
    for text, expected in SAME:
        match = judge(text, OPEN)
        assert match is not None and (match.ticket_id, match.outcome) == (expected, LINK), (text, match)


def test_different_problems_are_never_linked() -> None:
    # Three outcomes now (issue 12): a borderline pair may be *suggested* (the reporter decides),
    # so the old "no match at all" became "never linked, and at most one of five suggested".
    found = {text: judge(text, OPEN) for text in DIFFERENT}
    assert all(m is None or m.outcome != LINK for m in found.values()), found
    assert sum(m is not None for m in found.values()) <= 1, found


def test_no_candidates_or_empty_text() -> None:
    assert judge("login fails", []) is None
    assert judge("!!!", OPEN) is None


def test_forms_of_one_word_share_a_stem_and_different_words_do_not() -> None:
    same = [("crashes", "crashed", "crashing", "crash"), ("change", "changes", "changed", "changing"),
            ("copy", "copies", "copied"), ("drop", "dropped", "dropping"), ("install", "installed", "installation"),
            ("customise", "customize"), ("colour", "color"), ("file", "files"), ("correct", "correctly")]
    for forms in same:
        assert len({stem(w) for w in forms}) == 1, forms
    assert len({stem(w) for w in ("class", "status", "sing", "bed", "set", "save")}) == 6  # not plurals or inflections


def test_identifiers_and_versions_become_words() -> None:
    assert words("AutoCorrect broke in 2.0.1") == words("auto correct broke in v2.0")
    assert "v2x0" in words("since 2.0") and "v2x1" not in words("since 2.0")
    assert words("iPhone app") == words("iphone app")  # a brand name is not split


# -- over HTTP --------------------------------------------------------------------------------
SORT_REPORTS = (
    ("U1", "C100", "Search results page shows the wrong sort order"),
    ("U2", "C101", "search results are sorted wrongly"),
    ("U3", "C102", "the sort order of search results is wrong"),
)


def test_each_extra_reporter_is_linked_and_severity_rises_with_the_count(bot: RunningBot) -> None:
    sent = []
    for user, channel, text in SORT_REPORTS:
        sent.append(bot.slack.message(channel=channel, user=user, text=text))
        bot.settle()
    [ticket] = all_tickets(bot)
    assert ticket.affected_users == ["U1", "U2", "U3"]
    assert [(e.actor, (e.note or "").endswith(text)) for e, (_, _, text) in zip(ticket_events(bot, "linked"), SORT_REPORTS[1:])] == [("U2", True), ("U3", True)]
    replies = [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") in (sent[1].ts, sent[2].ts)]
    assert [(r.params["channel"], r.params["text"]) for r in replies] == [
        ("C101", "Looks like HC-1 — added you to it. (2 people affected)"),
        ("C102", "Looks like HC-1 — added you to it. (3 people affected)"),
    ]
    assert all(r.params["blocks"][1]["elements"][0]["text"]["text"] == "No, this is different" for r in replies)
    # Medium for one or two people; the third reporter raises it, and the history says why.
    assert ticket.severity == "high"
    [raised] = [e for e in ticket_events(bot, "changed") if e.field_name == "severity"]
    assert (raised.actor, raised.old_value, raised.new_value) == (None, "medium", "high")
    assert "affected" in (raised.note or ""), raised.note
    card = bot.fake.calls_to("chat.update")[-1]
    assert "3 people affected" in str(card.params["blocks"])


def test_a_closed_ticket_is_not_a_duplicate_candidate(bot: RunningBot) -> None:
    user, channel, text = SORT_REPORTS[0]
    bot.slack.message(channel=channel, user=user, text=text)
    bot.settle()
    assert "resolved" in bot.slack.command(text="resolve HC-1 fixed the sort key", user="U_T", channel="C100").json()["text"]
    bot.slack.message(channel="C101", user="U2", text=SORT_REPORTS[1][2])
    bot.settle()
    assert [(t.key, t.status, t.affected_users) for t in all_tickets(bot)] == [("HC-1", "resolved", ["U1"]), ("HC-2", "needs_info", ["U2"])]  # filed anew (and asked for details)
    assert ticket_events(bot, "linked") == []
