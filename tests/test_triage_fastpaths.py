"""The speed shortcuts of bot.triage find exactly what the plain patterns they replace find:
FastRe's literal gates and line-start scans, the rewritten lookbehind patterns, and mask_pii's
digit gate. (Randomized inputs with fixed seeds.)"""
from __future__ import annotations

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


def _fast_patterns() -> list[object]:
    """Every FastRe the triage package builds (module globals, also inside tuples, lists, dicts)."""
    import bot.triage.category as category
    import bot.triage.cues as cues
    import bot.triage.extract as extract
    import bot.triage.patterns as patterns
    import bot.triage.severity as severity
    from bot.triage.fastre import FastRe

    found: list[object] = []

    def walk(value: object, depth: int = 0) -> None:
        if isinstance(value, FastRe):
            found.append(value)
        elif depth < 3 and isinstance(value, (tuple, list)):
            for item in value:
                walk(item, depth + 1)
        elif depth < 3 and isinstance(value, dict):
            for item in value.values():
                walk(item, depth + 1)

    for module in (category, cues, extract, patterns, severity):
        for value in vars(module).values():
            walk(value)
    return found


def test_fast_regexes_find_exactly_what_the_plain_search_finds() -> None:
    """FastRe skips texts without a required literal and tries ^-patterns only at line starts;
    both shortcuts must find exactly the matches of the plain search (gate and shortcut off)."""
    import copy
    import random

    fast = _fast_patterns()
    assert len(fast) > 20
    rng = random.Random(7)
    words = ("should", "expected", "instead", "error", "502", "checkout", "fails", "steps", "1.", "click", "login", "slow",
             "not", "working", "ios 18", "chrome 131", "v2.4.1", "would", "like", "\n", "- ", "## ", "the", "it", "when i")
    texts = ["", "ok", "expected: the receipt\nactual: error 502", "1. open the app\n2. tap pay\nit should show a receipt"]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(400)]
    checked = 0
    for pattern in fast:
        plain = copy.copy(pattern)
        plain.gate, plain._line_start = None, False  # type: ignore[attr-defined]
        for text in texts:
            lowered = text.lower()
            assert [m.span() for m in pattern.finditer(lowered)] == [m.span() for m in plain.finditer(lowered)], (pattern.pattern, text)  # type: ignore[attr-defined]
            checked += 1
    assert checked > 8000


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
