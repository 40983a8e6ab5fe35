"""Texts the triage shortcut tests scan (tests/test_triage_literals.py, test_triage_shortcuts.py)."""
from __future__ import annotations

import csv
import random
import sys
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"   # ../shared/data beside the checkout


@lru_cache(maxsize=1)      # read once: several tests scan the same texts (none changes the list)
def cue_texts() -> list[str]:
    """3,000 random cue-word texts and, when ../shared/data is beside this checkout, the first
    1,500 lower-cased characters of every development issue and tracker report."""
    rng = random.Random(3)
    words = ("should", "expected", "instead of", "error", "it would be nice", "i'd like", "supposed to", "used to",
             "works fine", "please", "can you", "as expected", "steps:", "to reproduce", "when clicking", "then",
             "menu", "-> file", "example", "https://x.y", "correctly", "be able to", "allow me", "want to", "?",
             "\n", "1. open", "- click", "expected:", "what you expected:", "the", "it", "this would be", "str:")
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    try:                                   # the development data, when it is on this machine
        csv.field_size_limit(sys.maxsize)
        for name, col in (("issue_reports_labelled.csv", "body"), ("bug_reports_ob_eb_s2r.csv", "description")):
            path = DATA / name
            if path.exists():
                with path.open(newline="", encoding="utf-8") as fh:
                    texts += [row[col][:1500].lower() for row in csv.DictReader(fh)]
    except OSError:
        pass
    return texts
