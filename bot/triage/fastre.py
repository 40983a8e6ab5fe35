"""Faster keyword regexes for lower-cased text. Stdlib only.

`FastRe` compiles without re.I (callers pass lower-cased text and write lower-case patterns) and,
with strip=True, drops the leading `\\b` of each top-level alternative and re-checks the word
boundary in Python. Python's `re` then skips quickly to positions whose character can start a
match: several times faster when the alternatives start with few distinct letters ("should",
"expect"), slower when they start with almost any letter (then keep strip=False). Either way the
matches are exactly those of the original pattern.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["FastRe", "strip_leading_boundaries"]

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


class FastRe:
    """A lower-case keyword pattern; `search`/`finditer` only yield matches at a word boundary."""

    __slots__ = ("pattern", "_rx", "_strip")

    def __init__(self, pattern: str, flags: int = 0, *, strip: bool = True) -> None:
        self.pattern = pattern
        self._strip = strip
        self._rx = re.compile(strip_leading_boundaries(pattern) if strip else pattern, flags & ~re.I)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
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
