"""The speed shortcuts of bot.triage find exactly what the plain patterns they replace find:
the rewritten lookbehind patterns, mask_pii's digit and IBAN gates, the hand-listed literal gates
and start literals of the cue, sub-category, severity and environment patterns (checked at every
position where a pattern matches), and the title reuse. (Randomized inputs with fixed seeds.)"""
from __future__ import annotations

from functools import lru_cache

from bot.triage import mask_pii


def test_the_digit_gate_only_skips_texts_with_no_card_or_phone_to_mask() -> None:
    from bot.triage import text as T
    phones = ["+49 170 1234567", "+1 (555) 123-4567", "+44(20)7946-0958", "(555) 123-4567", "(030) 1234 5678",
              "555-123-4567", "555.123.4567", "555 123 4567", "0170 1234567", "030/1234567", "0170-123-45-67",
              "+33 1 23 45 67 89", "+1-555-123-4567", "+49 123 45"]  # the last: 7 digits, the fewest masked
    cards = ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "378282246310005"]
    for number in phones + cards:
        for text in (number, f"call {number} now", f"x{number}.", f"({number})"):
            whole = T._PHONE.sub(T._phone, T._CARD.sub(T._card, text))   # the scans without the gate
            assert mask_pii(text) == whole, text
        assert mask_pii(f"reach me on {number} today") != f"reach me on {number} today", number
    for text in ("v2.4.1 build 12345", "error 502 at 12:30", "1 2 3 4 5 6", "ports 8080 and 443", "HC-12 (3 people)"):
        assert T._DIGIT_RUN.search(text) is None
        assert T._PHONE.sub(T._phone, T._CARD.sub(T._card, text)) == text == mask_pii(text)


def test_enum_start_finds_what_the_lookbehind_pattern_finds() -> None:
    """extract._enum_start replaces a slow pattern that starts with a lookbehind; same starts."""
    import random
    import re

    from bot.triage.extract import _enum_start
    plain = re.compile(r"(?:^|(?<=[\s:]))\(?1[.)]\s+\S")
    rng = random.Random(0)
    texts = ["1. open", "(1) open", "x(1) open", "a 1. b", "a:1) b", "a1) 1. b", "((1) b", "11. x", "a\u00a01. b"]
    texts += ["".join(rng.choice("1().: a\n\tb\u00a0") for _ in range(rng.randint(1, 14))) for _ in range(20000)]
    for text in texts:
        found = plain.search(text)
        assert _enum_start(text) == (found.start() if found else None), repr(text)


def test_sentence_split_and_inline_labels_match_their_lookbehind_patterns() -> None:
    """patterns.split_sentences and extract._INLINE_LABEL replace slow lookbehind-first patterns."""
    import random
    import re

    from bot.triage.extract import _INLINE_LABEL, _label_break
    from bot.triage.patterns import split_sentences
    sentence_split = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\[])|\s+(?=\(?[2-9][.)]\s+[A-Za-z])")
    inline_label = re.compile(r"(?<=[.;,!)|])\s+(?=(?:expected|actual|steps|environment|env|observed|result)"
                              r"(?: \w+)?\s*:)", re.I)
    rng = random.Random(0)
    words = ["It", "fails.", "Then", "(2)", "2.", "3)", "x", "?", "!", "'Quote'", "[A]", "\t", "  ", "expected:",
             "Actual result:", ",", ";", ")", "|", "env :", "steps", "a.", "B", "\n"]
    for _ in range(20000):
        line = "".join(rng.choice(words) + rng.choice(["", " ", "  ", "\t"]) for _ in range(rng.randint(8, 30)))
        expected = [s for s in sentence_split.split(line) if s] if len(line) >= 40 and not line.startswith("```") else [line]
        assert split_sentences(line) == expected, repr(line)
        assert _INLINE_LABEL.sub(_label_break, line) == inline_label.sub("\n", line), repr(line)


@lru_cache(maxsize=1)      # read once: several tests scan the same texts (none changes the list)
def _cue_texts() -> list[str]:
    import random
    rng = random.Random(3)
    words = ("should", "expected", "instead of", "error", "it would be nice", "i'd like", "supposed to", "used to",
             "works fine", "please", "can you", "as expected", "steps:", "to reproduce", "when clicking", "then",
             "menu", "-> file", "example", "https://x.y", "correctly", "be able to", "allow me", "want to", "?",
             "\n", "1. open", "- click", "expected:", "what you expected:", "the", "it", "this would be", "str:")
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    try:                                   # the development data, when it is on this machine
        import csv
        import sys
        from pathlib import Path
        csv.field_size_limit(sys.maxsize)
        for name, col in (("issue_reports_labelled.csv", "body"), ("bug_reports_ob_eb_s2r.csv", "description")):
            path = Path("/work/shared/data") / name
            if path.exists():
                with path.open(newline="", encoding="utf-8") as fh:
                    texts += [row[col][:1500].lower() for row in csv.DictReader(fh)]
    except OSError:
        pass
    return texts


def test_every_cue_match_holds_one_of_its_hand_listed_gate_literals() -> None:
    """A gate may only skip texts where its cue cannot match: each match contains a gate literal."""
    from bot.triage.cues import _ALL_CUES, LITERAL_GATES
    cues = dict(_ALL_CUES)
    assert set(LITERAL_GATES) <= set(cues)
    matched = 0
    for text in _cue_texts():
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
    for text in _cue_texts():
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
    for text in _cue_texts():
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
    for text in _cue_texts()[:3000]:
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
    texts = samples + [t for t in _cue_texts() if t] + [" ".join(samples)]
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
    texts = samples + [t[:600] for t in _cue_texts()]
    patterns = {rx.pattern: rx for rx in vars(S).values() if isinstance(rx, re.Pattern)}
    assert set(S.GATES) <= set(patterns)
    matched = 0
    for text in texts:
        for pattern, gate in S.GATES.items():
            for m in patterns[pattern].finditer(text):
                matched += 1
                assert any(lit in m.group(0) for lit in gate), (pattern[:40], m.group(0))
    assert matched >= len(samples)


def test_literal_first_patterns_find_what_their_plain_patterns_find() -> None:
    """The version pattern of extract._ENV ("v(?<!\\wv)" for "\\bv") and mask_pii's IBAN gate."""
    import random
    import re

    from bot.triage import text as T
    from bot.triage.environment import _ENV
    version = next(rx for rx, _gate in _ENV if rx.pattern.startswith("v(?<!"))
    plain = re.compile(r"\bv\d+(?:\.\d+){1,3}(?:[-+]\w+)?\b")
    rng = random.Random(5)
    pieces = ["v", "V", "1", "2.", ".3", "-rc1", "+b", "x", "_", " ", "(", "é", "\n", "v2.4.1", "DE89", "3704", "0044",
              "GB", "82 ", "WEST", "1234", "5698"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 25))) for _ in range(20000)] + _cue_texts()
    hits = ibans = 0
    for text in texts:
        assert [m.span() for m in version.finditer(text)] == [m.span() for m in plain.finditer(text)], repr(text)
        hits += bool(plain.search(text))
        if T._IBAN.search(text):
            ibans += 1
            assert T._IBAN_START.search(text), repr(text)
    assert hits > 1000 and ibans > 100


def _sub_texts() -> list[str]:
    import random
    rng = random.Random(7)
    words = ("typo in the docs", "docs are wrong", "[docs]:", "\n", "wrong totals", "duplicated rows", "data loss",
             "orders were gone", "export is empty", "don't add up", "slow", "timed out", "takes 10s", "oom", "p95",
             "webhook", "api", "sso", "oauth2", "3rd-party", "sync with", "google login", "confusing", "hard to find",
             "ui", "button is hidden", "can't find the", "too small", "a11y", "the", "it", ",", "x", "build", "guide")
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    return texts + [t[:520] for t in _cue_texts()]


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
    texts = samples + [" ".join(samples)] + [t[:600] for t in _cue_texts()] + _sub_texts()
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
    assert matched > 20000


def test_the_phone_pattern_finds_what_the_plain_alternation_finds() -> None:
    import random
    import re

    from bot.triage import text as T
    plain = re.compile(
        r"(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,5}){1,4}|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,5}"
        r"|\d{3}[-. ]\d{3}[-. ]\d{4}|0\d{2,4}[ /-]\d{3,4}(?:[ -]?\d{2,5}){0,2})(?![\w.-]*\w)")
    rng = random.Random(11)
    pieces = ["+", "(", ")", "0", "1", "5", "9", "12", "555", "4567", " ", ".", "-", "/", "x", "_", "\u0663", "+49 170 1234567",
              "(555) 123-4567", "0170 1234567"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 20))) for _ in range(30000)] + _cue_texts()
    hits = 0
    for text in texts:
        spans = [m.span() for m in plain.finditer(text)]
        assert [m.span() for m in T._PHONE.finditer(text)] == spans, repr(text)
        hits += len(spans)
    assert hits > 10000


def test_heading_field_tries_the_heading_pattern_only_where_it_can_match() -> None:
    import random

    from bot.triage import patterns as P

    def plain(line: str) -> str | None:              # heading_field as written before the shortcut
        m = P._HEADING.match(line)
        if m and (line.lstrip().startswith(("#", "**", "__")) or line.rstrip().endswith(":")):
            head = m.group(1).strip(" *_:#").strip()
        elif line.rstrip().endswith(":") and len(line) <= 50:
            head = line.rstrip(": ").strip(" *_-#")
        else:
            return None
        return next((name for name, rx in P._HEADING_WORD.items() if rx.match(head)), None)

    rng = random.Random(13)
    pieces = ["#", "##", "**", "__", "*", "_", " ", "\t", "\u00a0", ":", "Steps to reproduce", "Expected", "env", "x", "-"]
    lines = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))) for _ in range(30000)]
    found = 0
    for line in lines + [t for text in _cue_texts()[3000:] for t in text.split("\n")]:
        assert P.heading_field(line) == plain(line), repr(line)
        found += plain(line) is not None
    assert found > 1000


def test_triage_titles_are_make_title_of_the_input() -> None:
    """triage() reuses the masked text or title for the title line: the same title make_title makes."""
    from bot.triage import make_title, triage
    texts = ["Login fails with 502 since the deploy", "hi team\ncheckout broken for jane@example.com", "  ",
             "<!-- template -->\n### Bug\nIt crashes", "<@U123ABC> card 4111 1111 1111 1111 declined. Please help",
             "ok", "*Steps:* open settings. *Expected:* saved."] + _cue_texts()[:400] + _cue_texts()[3000:3300]
    for text in texts:
        for title in (None, "", "  ", "Crash on save for +49 170 1234567", text[:40]):
            assert triage(text=text, title=title).title == make_title(text, title=title), (text[:60], title)


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


def test_fences_are_put_aside_as_the_fence_pattern_finds_them() -> None:
    import random
    import re

    from bot.triage import text as T

    def plain(text: str) -> tuple[str, list[str]]:     # slack_to_text's fence step as it was written
        fences: list[str] = []

        def keep(m: re.Match[str]) -> str:
            fences.append(m.group(0))
            return f"\x00{len(fences) - 1}\x00"
        return T._FENCE.sub(keep, text), fences

    rng = random.Random(19)
    pieces = ["`", "``", "```", "````", "x", " ", "\n", "code", "*b*"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 16))) for _ in range(30000)]
    with_fence = 0
    for text in texts:
        fences: list[str] = []
        out = T._keep_fences(text, fences)
        assert (out, fences) == plain(text), repr(text)
        with_fence += bool(fences)
    assert with_fence > 5000
