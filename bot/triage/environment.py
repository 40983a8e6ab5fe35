"""The environment a report names: browsers, operating systems, devices, versions, stages.

Case-sensitive on purpose ("Edge", "Safari", "iOS" are names). Each gated pattern is tried only
where one of its start literals occurs (bot.triage.cues' trick; tests/test_triage_literals.py
checks every position at which one matches). Stdlib only.
"""
from __future__ import annotations

import re

from bot.triage.cues import holds_any
from bot.triage.text import LITERAL_SCAN_MIN, clip, literal_positions

__all__ = ["ENV_CHARS", "environment"]

ENV_CHARS = 1500           # environment mentions are looked for in the first 1500 characters

# (pattern, gate): every match contains one of the gate's literals (tests/test_triage_literals.py
# checks it), so a text holding none of them skips that scan
_ENV: tuple[tuple[re.Pattern[str], tuple[str, ...] | None], ...] = tuple((re.compile(p), g) for p, g in (
    # case-sensitive on purpose: "Edge", "Safari", "iOS" are names
    (r"\b(?:Chrome|Chromium|Firefox|Safari|Edge|Opera|Brave|IE ?\d+|Internet Explorer)"
     r"(?: ?(?:v(?:ersion)? ?)?\d+(?:\.\d+)*)?",
     ("Chrom", "Firefox", "Safari", "Edge", "Opera", "Brave", "IE", "Internet Explorer")),
    (r"\b(?:iOS|iPadOS|Android|Windows(?: Server)?|Win ?(?:7|8|10|11|XP)|macOS|Mac ?OS(?: X)?|OS X|Linux|"
     r"Ubuntu|Debian|Fedora|CentOS|RHEL|ChromeOS|Solaris|FreeBSD)(?: ?(?:\d+(?:\.\d+)*|XP|Vista|NT))?"
     r"(?: ?(?:x64|64-bit|32-bit|arm64))?",
     ("iOS", "iPadOS", "Android", "Win", "macOS", "Mac", "OS X", "Linux", "Ubuntu", "Debian", "Fedora", "CentOS",
      "RHEL", "ChromeOS", "Solaris", "FreeBSD")),
    (r"\b(?:iPhone|iPad|Pixel|Galaxy|Samsung|Huawei|OnePlus|Xiaomi)(?: ?[A-Z]?\d+\w*(?: (?:Pro|Max|Plus|"
     r"Ultra|mini))*)?", ("iPhone", "iPad", "Pixel", "Galaxy", "Samsung", "Huawei", "OnePlus", "Xiaomi")),
    # "\bv" written as "v(?<!\wv)": a pattern that starts with a literal lets `re` jump from "v" to
    # "v" instead of trying every position (same matches)
    (r"v(?<!\wv)\d+(?:\.\d+){1,3}(?:[-+]\w+)?\b", None),
    (r"\b(?:version|build|release) \d+(?:\.\d+)+\w*", ("version ", "build ", "release ")),
    (r"\b(?:prod|production|staging|sandbox|preprod|uat)(?: (?:env(?:ironment)?|server|site|app|build))?\b",
     ("prod", "staging", "sandbox", "uat")),
))
# Start literals of the gated _ENV patterns (every position at which one matches starts with one of
# its literals: tests/test_triage_literals.py checks every such position): they are tried only
# there, which finds what finditer finds without a scan of every position for the leading \b.
_ENV_STARTS: dict[str, tuple[str, ...]] = dict(zip((rx.pattern for rx, gate in _ENV if gate is not None), (
    ("Chrom", "Firefox", "Safari", "Edge", "Opera", "Brave", "IE", "Internet Explorer"),
    ("iOS", "iPadOS", "Android", "Win", "macOS", "Mac", "OS X", "Linux", "Ubuntu", "Debian", "Fedora", "CentOS", "RHEL",
     "ChromeOS", "Solaris", "FreeBSD"),
    ("iPhone", "iPad", "Pixel", "Galaxy", "Samsung", "Huawei", "OnePlus", "Xiaomi"),
    ("version ", "build ", "release "),
    ("prod", "staging", "sandbox", "preprod", "uat"),
), strict=True))


def _matches_at(rx: re.Pattern[str], lits: tuple[str, ...], text: str) -> list[re.Match[str]]:
    """rx.finditer(text) (matches are never empty), trying rx only where a start literal occurs."""
    at = literal_positions(text, lits)
    found: list[re.Match[str]] = []
    after = 0
    for pos in sorted(at):
        if pos >= after and (m := rx.match(text, pos)) is not None:
            found.append(m)
            after = m.end()
    return found


# "Eclipse 3.1 RC2", "React 18.2.0": find the version number first (a digit start scans fast),
# then look just before it for a capitalised product name.
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)*(?: ?(?:RC|M|rc|beta|alpha)\d*)?\b")
_PRODUCT_BEFORE = re.compile(r"\b([A-Z][A-Za-z]+(?:\.js)?) $")
_ENV_STOP = re.compile(r"^(?:HTTP|Error|Python \d|Step|Steps|Section|Chapter|Table|Figure)\b")


def _env_mentions(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    starts = _ENV_STARTS if len(text) >= LITERAL_SCAN_MIN else {}   # short texts: gate, then a plain scan
    for rx, gate in _ENV:
        lits = starts.get(rx.pattern)
        if lits is not None:
            out.extend((m.start(), m.group(0).strip()) for m in _matches_at(rx, lits, text))
        elif gate is None or holds_any(text, gate):
            out.extend((m.start(), m.group(0).strip()) for m in rx.finditer(text))
    for m in _VERSION.finditer(text):
        s = m.start()
        if s and (text[s - 1] != " " or (s > 1 and text[s - 2] in ".v")):
            continue
        name = _PRODUCT_BEFORE.search(text, max(0, s - 30), s)
        if name:
            out.append((name.start(), text[name.start():m.end()]))
    return sorted(out)


def environment(text: str, *, section: str | None) -> str | None:
    """The environment a report names: its labelled section when short, else up to six mentions
    (browsers, systems, devices, versions, prod/staging) in its first ENV_CHARS characters."""
    found: list[str] = []
    for _, s in _env_mentions(text[:ENV_CHARS]):
        if _ENV_STOP.match(s) or any(s.lower() in f.lower() for f in found):
            continue
        found = [f for f in found if f.lower() not in s.lower()]
        found.append(s)
        if len(found) >= 6:
            break
    if section and (not found or len(section) < 200):
        return clip(section)
    return ", ".join(found) if found else None
