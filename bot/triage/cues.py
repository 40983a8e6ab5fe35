"""Which cues fire in which unit (sentence or line) of a report: the hot loop of triage.

Every cue pattern of bot.triage.patterns runs once over all units joined by newlines, and the
single-word cues are found by word sets; extract.py turns the result into features and spans.
Stdlib only.
"""
from __future__ import annotations

import re
from bisect import bisect_right

from bot.triage import patterns as P
from bot.triage.fastre import FastRe

__all__ = ["cues_per_unit", "UNIT_CHARS", "CUE_CHARS"]

# cues whose alternatives start with almost any letter scan faster with their leading \b kept
_KEEP_BOUNDARY = frozenset({"eb_correct", "eb_label", "s2r_imperative", "s2r_code", "s2r_example"})
# cues whose scan is cheaper than their literal gate (many literals, or a pattern `re` already
# scans quickly): measured per cue on the first 1500 characters of the development issue bodies
_UNGATED = frozenset({"eb_able", "eb_label", "s2r_when_i", "s2r_i_did", "s2r_code", "s2r_config"})
_ALL_CUES: tuple[tuple[str, FastRe], ...] = tuple(
    (name, FastRe(rx.pattern, rx.flags | re.M, strip=name not in _KEEP_BOUNDARY, gated=name not in _UNGATED))
    for name, rx in (*P.EB_CUES.items(), *P.EB_IMPLICIT.items(), *P.EB_COUNTER.items(), *P.S2R_CUES.items())
    if name not in P.EB_GATES)
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
_WORD_AND_GATED: tuple[tuple[str, frozenset[str], FastRe | re.Pattern[str] | None], ...] = (
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
    for name, rx in _ALL_CUES:
        last = -1
        for m in rx.finditer(joined):
            i = bisect_right(starts, m.start()) - 1
            if i != last:
                out[i].append(name)
                last = i
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
