"""Duplicate detection on hand-written war-room pairs (unit tests of a pure function)."""
from __future__ import annotations

from bot.duplicates import Candidate, best_match

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


def test_same_problem_in_other_words_is_found() -> None:
    for text, expected in SAME:
        match = best_match(text, OPEN)
        assert match is not None and match.ticket_id == expected, (text, match)


def test_different_problems_are_not_linked() -> None:
    for text in DIFFERENT:
        assert best_match(text, OPEN) is None, (text, best_match(text, OPEN, threshold=0.0))


def test_no_candidates_or_empty_text() -> None:
    assert best_match("login fails", []) is None
    assert best_match("!!!", OPEN) is None
