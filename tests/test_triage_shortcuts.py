"""The rewritten patterns and shortcuts of bot.triage find exactly what the plain ones they
replace find: the lookbehind-free patterns, mask_pii's digit and IBAN gates, the phone pattern,
heading_field, code fences and the title reuse. (The literal gates and start literals:
test_triage_literals.py. Randomized inputs with fixed seeds.)"""
from __future__ import annotations

from bot.triage import mask_pii
from tests.triage_texts import cue_texts


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
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 25))) for _ in range(20000)] + cue_texts()
    hits = ibans = 0
    for text in texts:
        assert [m.span() for m in version.finditer(text)] == [m.span() for m in plain.finditer(text)], repr(text)
        hits += bool(plain.search(text))
        if T._IBAN.search(text):
            ibans += 1
            assert T._IBAN_START.search(text), repr(text)
    assert hits > 1000 and ibans > 100


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
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 20))) for _ in range(30000)] + cue_texts()
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
    for line in lines + [t for text in cue_texts()[3000:] for t in text.split("\n")]:
        assert P.heading_field(line) == plain(line), repr(line)
        found += plain(line) is not None
    assert found > 1000


def test_triage_titles_are_make_title_of_the_input() -> None:
    """triage() reuses the masked text or title for the title line: the same title make_title makes."""
    from bot.triage import make_title, triage
    texts = ["Login fails with 502 since the deploy", "hi team\ncheckout broken for jane@example.com", "  ",
             "<!-- template -->\n### Bug\nIt crashes", "<@U123ABC> card 4111 1111 1111 1111 declined. Please help",
             "ok", "*Steps:* open settings. *Expected:* saved."] + cue_texts()[:400] + cue_texts()[3000:3300]
    for text in texts:
        for title in (None, "", "  ", "Crash on save for +49 170 1234567", text[:40]):
            assert triage(text=text, title=title).title == make_title(text, title=title), (text[:60], title)


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
