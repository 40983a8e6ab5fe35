"""Which cues fire in which unit (sentence or line) of a report: the hot loop of triage.

Every cue pattern of bot.triage.patterns runs once over all units joined by newlines, and the
single-word cues are found by word sets; extract.py turns the result into features and spans.
Stdlib only.
"""
from __future__ import annotations

import re
from bisect import bisect_right

import bot.triage.patterns as P
from bot.triage.text import LITERAL_SCAN_MIN, literal_positions

__all__ = ["cues_per_unit", "UNIT_CHARS", "CUE_CHARS"]

# every cue pattern is written in lower case and runs on lower-cased text: compiled without re.I
# (case-insensitive matching is about 3x slower in `re`)
_ALL_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx.pattern, (rx.flags & ~re.I) | re.M))
    for name, rx in (*P.EB_CUES.items(), *P.EB_IMPLICIT.items(), *P.EB_COUNTER.items(), *P.S2R_CUES.items())
    if name not in P.EB_GATES)
# Hand-listed start literals: every match of the cue starts with one of these strings (checked on
# the development data and random texts by tests/test_triage_literals.py: at every position where
# the cue matches, not only where a scan reports a match). The cue is then tried only where a
# literal occurs (a few `find` C substring searches, then `match` at those positions): the
# leftmost such position that matches is the leftmost match a full regex scan finds, and a scan
# of a pattern that starts with \b makes `re` try every position of the text. s2r_config (a
# pattern `re` scans fast: it starts with a literal) is scanned as before.
START_LITERALS: dict[str, tuple[str, ...]] = {
    "eb_expect": ("expect",),
    "eb_should": ("should",),
    "eb_would_like": ("would ", "i'd ", "id ", "we'd ", "wed ", "wish"),
    "eb_would_be": ("it ", "that ", "this ", "would be ", "ideally"),
    "eb_supposed": ("supposed", "meant", "intended", "designed", "ought"),
    "eb_instead": ("instead of", "rather than"),
    "eb_need": ("need", "has ", "have ", "must", "shall", "require"),
    "eb_want": ("i ", "we ", "user", "want"),
    "eb_correct": ("correct", "proper", "desired", "right", "normal", "intended", "same", "consistent"),
    "eb_able": ("be able", "allow", "there "),
    "eb_worked": ("used to", "worked ", "previously", "works "),
    "eb_please": ("please", "could ", "can ", "suggest"),
    "eb_as": ("as ", "per "),
    "eb_question": ("?",),
    "s2r_label": ("step", "to reproduce", "repro", "str"),
    "s2r_when_i": ("when", "if ", "after ", "once ", "while ", "before "),
    "s2r_when_ing": ("when ", "after ", "while ", "by ", "upon ", "before "),
    "s2r_i_did": ("i ", "i'"),
    "s2r_then": ("then", "afterwards", "subsequently", "finally", "next,"),
    "s2r_menu": ("->", "=>", "\u2192", " > ", "menu", "dialog", "tab", "button"),
    "s2r_example": ("test", "example", "sample", "snippet", "attach", "the following", "following ", "simple ",
                    "here is", "below"),
    "s2r_url": ("http", "www."),
    "s2r_code": (";", "{", "}"),          # and unit starts (its "^" alternative): LINE_TOO
}
LINE_TOO = frozenset({"s2r_code"})        # start literals of these cues miss the matches at a unit start
# Literal gates for the line-start cues: every match contains one of these strings, so a text
# holding none of them is not tried at all
LITERAL_GATES: dict[str, tuple[str, ...]] = {
    "eb_label": ("expect", "desired", "what", "eb"),
}
# cues that can only match at a unit start ("^" under re.M): tried at line starts only
LINE_START = frozenset({"eb_label", "s2r_imperative"})
# gated EB cues are searched only in units that contain one of their gate words (whole-text scans
# were slow); every match contains a gate word (most gates hold the words a match can start with),
# so the matches are the same
_GATED = tuple((name, gate, {**P.EB_IMPLICIT, **P.EB_COUNTER}[name]) for name, gate in P.EB_GATES.items())
# observed-behaviour words: the "ob" cue is a word-set test (a regex for it was the slowest cue)
_OB_WORDS = frozenset("""instead actual actually error errors exception traceback crash crashes crashed
crashing fail fails failed failing failure doesn't doesnt don't didn't isn't won't can't cannot unable
broken stuck hang hangs hanging freeze freezes froze frozen blank wrong incorrect missing shows displays
returns throws slow nothing""".split())
_WORD_RX = re.compile(r"[a-z']+")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz'")
# in the order each unit lists them: word cues, gated cues (a regex after the word test), "ob"
_WORD_AND_GATED: tuple[tuple[str, frozenset[str], re.Pattern[str] | None], ...] = (
    *((name, vocab, None) for name, vocab in P.EB_IMPLICIT_WORDS.items()),
    *_GATED, ("ob", _OB_WORDS, None))
UNIT_CHARS = 400
CUE_CHARS = 1500           # cues are looked for in the first 1500 characters of the units


def cues_per_unit(units: list[str]) -> list[list[str]]:
    """Cue names per unit. One pass per cue over all units joined by newlines (much faster than
    searching every unit with every pattern); ^/$ in the cues then anchor at unit edges."""
    joined = "\n".join(u[:UNIT_CHARS].replace("\n", " ") for u in units).lower()[:CUE_CHARS]
    parts = joined.split("\n")                # part i is unit i (lower() may change a length)
    starts = [0]
    for part in parts[:-1]:
        starts.append(starts[-1] + len(part) + 1)
    out: list[list[str]] = [[] for _ in units]
    last = len(starts) - 1
    literals = START_LITERALS if len(joined) >= LITERAL_SCAN_MIN else {}
    for name, rx in _ALL_CUES:
        lits = literals.get(name)
        if lits is not None:
            _first_per_unit(name, rx, lits, joined, starts, out, name in LINE_TOO)
            continue
        # a start literal is in every match (not so for a match at a unit start)
        gate = LITERAL_GATES.get(name) or (START_LITERALS.get(name) if name not in LINE_TOO else None)
        if gate is not None and not holds_any(joined, gate):
            continue
        if name in LINE_START:              # each unit on its own (endpos: no match runs into the next)
            for i, at in enumerate(starts):
                if rx.match(joined, at, at + len(parts[i])) is not None:
                    out[i].append(name)
            continue
        # one match per unit is enough: after a hit, search again from the next unit's start
        # (instead of walking every match of a frequent cue)
        m = rx.search(joined)
        while m is not None:
            i = bisect_right(starts, m.start()) - 1
            out[i].append(name)
            if i >= last:
                break
            m = rx.search(joined, starts[i + 1])
    # Word cues fire in the units that hold one of their words. The text's words are found once;
    # the few cue words among them are then located unit by unit (no word spans a newline, so the
    # units' word sets add up to the text's). Gated cues run their regex only in such units.
    every = set(_WORD_RX.findall(joined))
    fired: list[tuple[str, set[int]]] = []
    units_of: dict[str, set[int]] = {}
    for name, vocab, rx in _WORD_AND_GATED:
        present = vocab & every
        if not present:
            continue
        where: set[int] = set()
        for word in present:
            if word not in units_of:
                units_of[word] = _units_holding(word, joined, starts)
            where |= units_of[word]
        if rx is not None:
            where = {i for i in where if rx.search(parts[i])}
        if where:
            fired.append((name, where))
    if not fired:
        return out
    for i in sorted(set().union(*(where for _name, where in fired))):
        out[i].extend(name for name, where in fired if i in where)
    return out


def _first_per_unit(name: str, rx: re.Pattern[str], lits: tuple[str, ...], joined: str, starts: list[int],
                    out: list[list[str]], line_too: bool = False) -> None:
    """The units in which `rx` matches, trying it only where one of its start literals occurs
    (and at every unit start with `line_too`): the same units as a scan that searches again from
    the next unit's start after each hit."""
    at = literal_positions(joined, lits) + (starts if line_too else [])
    if not at:
        return
    at.sort()
    last = len(starts) - 1
    after = 0                               # the next unit's start once a unit has fired
    for pos in at:
        if pos < after or rx.match(joined, pos) is None:
            continue
        i = bisect_right(starts, pos) - 1
        out[i].append(name)
        if i >= last:
            return
        after = starts[i + 1]


def holds_any(text: str, literals: tuple[str, ...]) -> bool:
    for lit in literals:                 # a plain loop: cheaper than any() over a generator
        if lit in text:
            return True
    return False


def _units_holding(word: str, joined: str, starts: list[int]) -> set[int]:
    """Units (by start offset in `joined`) in which `word` is a whole token of _WORD_RX."""
    found: set[int] = set()
    size, end = len(word), len(joined)
    pos = joined.find(word)
    while pos >= 0:
        after = pos + size
        if (pos == 0 or joined[pos - 1] not in _TOKEN_CHARS) and (after == end or joined[after] not in _TOKEN_CHARS):
            found.add(bisect_right(starts, pos) - 1)
        pos = joined.find(word, pos + 1)
    return found
