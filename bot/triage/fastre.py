"""Faster keyword regexes for lower-cased text. Stdlib only.

`FastRe` compiles without re.I (callers pass lower-cased text and write lower-case patterns) and,
with strip=True, drops the leading `\\b` of each top-level alternative and re-checks the word
boundary in Python. Python's `re` then skips quickly to positions whose character can start a
match: several times faster when the alternatives start with few distinct letters ("should",
"expect"), slower when they start with almost any letter (then keep strip=False). Either way the
matches are exactly those of the original pattern.

Each FastRe also derives from the parsed pattern a few literal strings one of which every match
contains (`required_literals`); a text that holds none of them cannot match, and a few `in` checks
(fast substring scans in C) rule it out before the regex runs. Most cue and severity patterns
match in under a fifth of the texts, so most scans are skipped. The gate only ever skips texts
without a match, so the matches stay the same.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import product
from typing import Any

from re import _constants as C
from re import _parser

__all__ = ["FastRe", "strip_leading_boundaries", "required_literals"]

_WORD = re.compile(r"\w").match


def strip_leading_boundaries(pattern: str) -> str:
    alts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            alts.append(pattern[start:i])
            start = i + 1
        i += 1
    alts.append(pattern[start:])
    return "|".join(a[2:] if a.startswith("\\b") else a for a in alts)


_MAX_SET = 64             # largest set of exact strings tracked while combining pattern pieces
_MAX_GATE = 24            # more `in` checks than this cost about as much as the regex
_ZERO_WIDTH = {C.AT, C.ASSERT, C.ASSERT_NOT}
Exact = frozenset[str] | None


def _minimal(strings: frozenset[str]) -> frozenset[str]:
    """Drop strings that contain another one of the set: the shorter one is found whenever they are."""
    return frozenset(s for s in strings if not any(o != s and o in s for o in strings))


_SHORT_PENALTY = (1000, 10, 6, 4, 2, 1, 0)  # short literals (and spaces) occur in most texts


def _cost(req: frozenset[str]) -> tuple[int, int]:
    """(checks + weakness, -shortest): lower is a cheaper and more selective gate."""
    return sum(1 + _SHORT_PENALTY[min(len(s.strip()), 6)] for s in req), -min(map(len, req))


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None or b is None:
        return a if b is None else b
    return a if _cost(a) <= _cost(b) else b


def _item(op: Any, av: Any) -> tuple[Exact, frozenset[str] | None]:
    """(every string the item can match, if few; a set of strings one of which any match contains)."""
    if op is C.LITERAL:
        return frozenset([chr(av)]), None
    if op in _ZERO_WIDTH:
        return frozenset([""]), None             # consumes nothing: neighbours stay contiguous
    if op is C.IN:
        chars: set[str] = set()
        for kind, val in av:
            if kind is C.LITERAL:
                chars.add(chr(val))
            elif kind is C.RANGE and val[1] - val[0] < 16:
                chars.update(map(chr, range(val[0], val[1] + 1)))
            else:
                return None, None                # negated set, category, wide range
        return (frozenset(chars), None) if len(chars) <= _MAX_SET else (None, None)
    if op is C.SUBPATTERN:
        _group, add_flags, _del, sub = av
        return (None, None) if add_flags & C.SRE_FLAG_IGNORECASE else _seq(sub)
    if op is C.BRANCH:
        parts = [_seq(b) for b in av[1]]
        exact: Exact = None
        if all(e is not None for e, _ in parts):
            union = frozenset().union(*(e for e, _ in parts if e is not None))
            exact = union if len(union) <= _MAX_SET else None
        needs = [r for _e, r in parts]
        req = None if any(n is None for n in needs) else frozenset().union(*needs)  # type: ignore[arg-type]
        return exact, req
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        lo, hi, sub = av
        e, r = _seq(sub)
        exact = None
        if e is not None and hi is not C.MAXREPEAT and hi <= 3:
            words = {"".join(t) for k in range(lo, hi + 1) for t in product(e, repeat=k)}
            exact = frozenset(words) if len(words) <= _MAX_SET else None
        req = r if lo >= 1 else None
        return exact, req
    return None, None                            # any character, negated literal, back reference


def _concat(parts: list[frozenset[str]]) -> Exact:
    out = frozenset([""])
    for e in parts:
        if len(out) * len(e) > _MAX_SET:
            return None
        out = frozenset(a + b for a in out for b in e)
    return out


def _seq(items: Any) -> tuple[Exact, frozenset[str] | None]:
    """Exact strings of a sequence (if few) and its most selective required set: the best of its
    items' own required sets and, from each item on, of the longest stretch of items with few
    exact strings (longer strings are found in fewer texts)."""
    parsed = [_item(op, av) for op, av in items]
    best: frozenset[str] | None = None
    for _e, r in parsed:
        best = _better(best, r)
    for i in range(len(parsed)):
        window: frozenset[str] = frozenset([""])
        for e, _r in parsed[i:]:
            if e is None or len(window) * len(e) > _MAX_SET:
                break
            window = frozenset(a + b for a in window for b in e)
        if "" not in window:
            best = _better(best, window)
    whole = _concat([e for e, _ in parsed if e is not None]) if all(e is not None for e, _ in parsed) else None
    return whole, best


def required_literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` contains, or None when no small set is known.
    Case-sensitive: callers match lower-cased text with lower-case patterns."""
    if flags & re.I:
        return None
    parsed = _parser.parse(pattern, flags)
    if parsed.state.flags & C.SRE_FLAG_IGNORECASE:
        return None
    exact, req = _seq(parsed)
    if exact is not None and "" not in exact:
        req = _better(exact, req)
    req = _minimal(req) if req is not None else None
    return req if req is not None and len(req) <= _MAX_GATE and _cost(req)[0] < 1000 else None


class FastRe:
    """A lower-case keyword pattern; `search`/`finditer` only yield matches at a word boundary."""

    __slots__ = ("pattern", "_rx", "_strip", "gate", "_line_start")

    def __init__(self, pattern: str, flags: int = 0, *, strip: bool = True, gated: bool = True) -> None:
        self.pattern = pattern
        self._strip = strip
        compiled = strip_leading_boundaries(pattern) if strip else pattern
        self._rx = re.compile(compiled, flags & ~re.I)
        gate = required_literals(compiled, flags & ~re.I) if gated else None
        self.gate = tuple(sorted(gate, key=lambda g: (-len(g), g))) if gate else None
        # "^…" under re.M can only match at the text's start or just after a newline: trying those
        # few positions beats letting the engine try every character
        first = _parser.parse(compiled, flags & ~re.I)[:1]
        self._line_start = bool(flags & re.M) and list(first) == [(C.AT, C.AT_BEGINNING)]

    def possible(self, text: str) -> bool:
        """False when `text` holds none of the required literals (then nothing can match)."""
        if self.gate is None:
            return True
        for lit in self.gate:
            if lit in text:
                return True
        return False

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self.gate is not None and not self.possible(text):
            return
        if self._line_start:
            match = self._rx.match
            pos = start = 0
            while start >= 0:
                if start >= pos and (m := match(text, start)) is not None:
                    yield m
                    pos = m.end() if m.end() > start else start + 1
                nl = text.find("\n", start)
                start = nl + 1 if nl >= 0 else -1
            return
        if not self._strip:
            yield from self._rx.finditer(text)
            return
        search = self._rx.search
        pos = 0
        while (m := search(text, pos)) is not None:
            s = m.start()
            if s and _WORD(text[s - 1]) and _WORD(text[s]):
                pos = s + 1                  # not at a word boundary: look again one further on
                continue
            yield m
            pos = m.end() if m.end() > s else s + 1

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)
