"""The hand-listed literals behind bot.triage's fast scans hold: every match of a gated pattern
contains one of its gate literals, and every position where a pattern matches starts with one of
its start literals (cue, sub-category, severity and environment patterns), so trying a pattern
only there finds what a full scan finds. (Randomized inputs with fixed seeds, and the development
texts when ../shared/data is beside the checkout.)"""
from __future__ import annotations

from tests.triage_texts import DATA, cue_texts


def test_every_cue_match_holds_one_of_its_hand_listed_gate_literals() -> None:
    """A gate may only skip texts where its cue cannot match: each match contains a gate literal."""
    from bot.triage.cues import _ALL_CUES, LITERAL_GATES
    cues = dict(_ALL_CUES)
    assert set(LITERAL_GATES) <= set(cues)
    matched = 0
    for text in cue_texts():
        for name, gate in LITERAL_GATES.items():
            for m in cues[name].finditer(text):
                matched += 1
                assert any(lit in m.group(0) for lit in gate), (name, m.group(0))
    assert matched > 100


def test_every_position_a_cue_matches_at_starts_with_one_of_its_start_literals() -> None:
    """cues_per_unit tries a cue only where a start literal occurs: that may skip no position at
    which the cue matches (every such position, found by a zero-width lookahead scan, not only the
    non-overlapping matches a plain scan reports)."""
    import re

    from bot.triage.cues import _ALL_CUES, LINE_START, LINE_TOO, START_LITERALS
    cues = dict(_ALL_CUES)
    assert set(START_LITERALS) <= set(cues) and not set(START_LITERALS) & LINE_START and LINE_TOO <= set(START_LITERALS)
    anywhere = {name: re.compile(r"(?=(?:" + cues[name].pattern + r"))", cues[name].flags) for name in START_LITERALS}
    matched = 0
    for text in cue_texts():
        for name, lits in START_LITERALS.items():
            for m in anywhere[name].finditer(text):
                matched += 1
                at = m.start()
                assert text.startswith(lits, at) or (name in LINE_TOO and (at == 0 or text[at - 1] == "\n")), \
                    (name, text[at:at + 40])
    assert matched > 20000


def test_cues_fire_in_the_units_where_a_full_scan_finds_a_match_starting() -> None:
    """The whole of cues_per_unit's regex part (start literals, gates, one search per unit) against
    the plain definition: a cue fires in a unit when one of its matches in the joined text starts
    there (at a unit's start for the line-start cues)."""
    import re
    from bisect import bisect_right

    import bot.triage.cues as C
    words = {name for name, _vocab, _rx in C._WORD_AND_GATED}
    anywhere = {name: re.compile(r"(?=(?:" + rx.pattern + r"))", rx.flags) for name, rx in C._ALL_CUES}
    checked = 0
    for text in cue_texts():
        units = [u for u in re.split(r"\n|(?<=[.?!]) ", text) if u.strip()]
        if not units:
            continue
        fired = C.cues_per_unit(units)
        joined = "\n".join(u[:C.UNIT_CHARS].replace("\n", " ") for u in units).lower()[:C.CUE_CHARS]
        parts = joined.split("\n")
        starts = [0]
        for part in parts[:-1]:
            starts.append(starts[-1] + len(part) + 1)
        for name, rx in C._ALL_CUES:
            if name in C.LINE_START:
                plain = {i for i, part in enumerate(parts) if rx.match(part)}
            else:
                plain = {bisect_right(starts, m.start()) - 1 for m in anywhere[name].finditer(joined)}
            got = {i for i, names in enumerate(fired) if name in names}
            assert got == plain, (name, units)
            checked += len(plain)
        assert all(n in words or n in anywhere for names in fired for n in names)
    assert checked > 20000


def test_line_start_cues_fire_in_the_same_units_as_a_full_scan() -> None:
    from bot.triage.cues import LINE_START, cues_per_unit
    import bot.triage.cues as C
    cues = dict(C._ALL_CUES)
    for text in cue_texts()[:3000]:
        units = [u for u in text.split("\n") if u.strip()]
        if not units:
            continue
        fired = cues_per_unit(units)
        joined = "\n".join(u[:C.UNIT_CHARS] for u in units).lower()[:C.CUE_CHARS].split("\n")
        for name in LINE_START:
            full = [i for i, part in enumerate(joined) if cues[name].search(part)]
            assert [i for i, names in enumerate(fired) if name in names] == full, (name, units)


def test_every_environment_match_holds_one_of_its_gate_literals() -> None:
    from bot.triage.environment import _ENV
    samples = ["Chrome 131 on macOS 14", "IE 11", "Internet Explorer", "Windows Server 2019 x64", "Win 10", "OS X",
               "iPhone 15 Pro Max", "Galaxy S23 Ultra", "version 2.4.1", "build 10.0.1", "prod server", "preprod",
               "uat environment", "Edge 120", "Ubuntu 22.04", "ChromeOS", "Mac OS X", "iPadOS 17"]
    texts = samples + [t for t in cue_texts() if t] + [" ".join(samples)]
    matched = 0
    for text in texts:
        for rx, gate in _ENV:
            for m in rx.finditer(text):
                if gate is not None:
                    matched += 1
                    assert any(lit in m.group(0) for lit in gate), (rx.pattern, m.group(0))
    assert matched >= len(samples) - 2


def test_every_severity_match_holds_one_of_its_gate_literals() -> None:
    import re
    from bot.triage import severity as S
    samples = ["site is down for everyone", "payments failing for all users", "card was declined", "can't log in",
               "getting logged out", "data loss: records were deleted", "someone else's invoices", "wrong totals",
               "charged twice", "typo in the button label", "workaround: refresh fixes it", "works after a retry",
               "500 errors everywhere", "whole app is broken", "lost all my data", "totals don't add up",
               "other users' data", "temporary fix"]
    texts = samples + [t[:600] for t in cue_texts()]
    patterns = {rx.pattern: rx for rx in vars(S).values() if isinstance(rx, re.Pattern)}
    assert set(S.GATES) <= set(patterns)
    matched = 0
    for text in texts:
        for pattern, gate in S.GATES.items():
            for m in patterns[pattern].finditer(text):
                matched += 1
                assert any(lit in m.group(0) for lit in gate), (pattern[:40], m.group(0))
    assert matched >= len(samples)


def _sub_texts() -> list[str]:
    import random
    rng = random.Random(7)
    words = ("typo in the docs", "docs are wrong", "[docs]:", "\n", "wrong totals", "duplicated rows", "data loss",
             "orders were gone", "export is empty", "don't add up", "slow", "timed out", "takes 10s", "oom", "p95",
             "webhook", "api", "sso", "oauth2", "3rd-party", "sync with", "google login", "confusing", "hard to find",
             "ui", "button is hidden", "can't find the", "too small", "a11y", "the", "it", ",", "x", "build", "guide")
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    return texts + [t[:520] for t in cue_texts()]


def test_every_position_a_sub_category_rule_matches_at_starts_with_one_of_its_start_literals() -> None:
    import re

    from bot.triage import category as C
    rules = dict(C._SUB_RULES)
    assert set(C.SUB_START_LITERALS) == set(rules) and C.SUB_LINE_START <= set(rules)
    anywhere = {name: re.compile(r"(?=(?:" + rx.pattern + r"))", rx.flags) for name, rx in rules.items()}
    matched = 0
    for text in _sub_texts():
        for name, lits in C.SUB_START_LITERALS.items():
            for m in anywhere[name].finditer(text):
                at = m.start()
                matched += 1
                assert text.startswith(lits, at) or (name in C.SUB_LINE_START and (at == 0 or text[at - 1] == "\n")), \
                    (name, text[at:at + 40])
    assert matched > 20000


def test_sub_category_hits_are_those_of_a_plain_scan() -> None:
    from bot.triage import category as C
    checked = 0
    for text in _sub_texts():
        for name, rx in C._SUB_RULES:
            plain = [m.group(0) for m in rx.finditer(text)]
            assert C._hits(name, rx, text) == plain, (name, text)
            checked += len(plain)
    assert checked > 20000


def test_every_position_a_severity_pattern_matches_at_starts_with_one_of_its_start_literals() -> None:
    import re

    from bot.triage import severity as S
    samples = ["site is down for everyone", "payments failing for all users", "card was declined", "can't log in",
               "getting logged out", "data loss: records were deleted", "someone else's invoices", "wrong totals",
               "charged twice", "typo in the button label", "workaround: refresh fixes it", "works after a retry",
               "500 errors everywhere", "whole app is broken", "lost all my data", "totals don't add up",
               "other users' data", "temporary fix", "cannot sign in", "couldn't login", "keeps getting kicked out",
               "timed out", "times out", "won't load", "100 % of orders", "company-wide outage", "double-charged"]
    texts = samples + [" ".join(samples)] + [t[:600] for t in cue_texts()] + _sub_texts()
    patterns = {rx.pattern: rx for rx in vars(S).values() if isinstance(rx, re.Pattern)}
    assert set(S.START_LITERALS) <= set(patterns)
    anywhere = {p: re.compile(r"(?=(?:" + p + r"))", patterns[p].flags) for p in S.START_LITERALS}
    matched = 0
    for text in texts:
        for pattern, lits in S.START_LITERALS.items():
            for m in anywhere[pattern].finditer(text):
                matched += 1
                assert text.startswith(lits, m.start()), (pattern[:40], text[m.start():m.start() + 40])
            first = patterns[pattern].search(text)
            assert S._first(patterns[pattern], text) == (first.group(0).lower() if first else None)
    # the random texts and samples alone give about 19,000 positions; ../shared/data beside the checkout adds more
    assert matched > (20000 if DATA.exists() else 15000)


def test_environment_patterns_are_tried_at_their_start_literals_only() -> None:
    import csv
    import random
    import re
    import sys
    from pathlib import Path

    from bot.triage.environment import _ENV, _ENV_STARTS, _matches_at
    samples = ["Chrome 131 on macOS 14", "IE 11", "IE11", "Internet Explorer", "Windows Server 2019 x64", "Win 10", "OS X",
               "iPhone 15 Pro Max", "Galaxy S23 Ultra", "version 2.4.1", "build 10.0.1", "prod server", "preprod",
               "uat environment", "Edge 120", "Ubuntu 22.04", "ChromeOS", "Mac OS X", "iPadOS 17", "Chromium 120"]
    rng = random.Random(17)
    texts = [" ".join(rng.choice(samples + ["x", "(", "_", "a", "1", ","]) for _ in range(rng.randint(1, 12)))
             for _ in range(3000)]
    csv.field_size_limit(sys.maxsize)
    for name, col in (("issue_reports_labelled.csv", "body"), ("bug_reports_ob_eb_s2r.csv", "description")):
        path = Path("/work/shared/data") / name
        if path.exists():
            with path.open(newline="", encoding="utf-8") as fh:
                texts += [row[col][:1500] for row in csv.DictReader(fh)]
    patterns = {rx.pattern: rx for rx, _gate in _ENV}
    assert set(_ENV_STARTS) <= set(patterns)
    matched = 0
    for text in texts:
        for pattern, lits in _ENV_STARTS.items():
            for m in re.finditer(r"(?=(?:" + pattern + r"))", text):
                matched += 1
                assert text.startswith(lits, m.start()), (pattern[:30], text[m.start():m.start() + 30])
            plain = [m.span() for m in patterns[pattern].finditer(text)]
            assert [m.span() for m in _matches_at(patterns[pattern], lits, text)] == plain
    assert matched > 3000
