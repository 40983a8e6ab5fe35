"""Duplicate reports by meaning: is a new report the same problem as a known ticket?

`judge()` answers link (confident), suggest (borderline: the reporter is asked) or nothing; the
model (word vectors and weights learned offline from ../shared/data by
bench/train_duplicate_model.py) ships in this folder with its provenance. bot/intake/linking.py acts on
the answer; this package knows nothing of Slack or the database.
"""
from __future__ import annotations

from bot.duplicates.match import LINK, SUGGEST, Candidate, Match, candidate_texts, judge
from bot.duplicates.text import terms

__all__ = ["LINK", "SUGGEST", "Candidate", "Match", "candidate_texts", "judge", "terms"]
