"""Words of a report as the duplicate model sees them: folded into canonical terms, stemmed.

Reports of one problem use different words for the same things ("can't sign in", "login fails",
"auth broken"), so phrases are first folded into canonical terms; the learned word vectors
(bot/duplicates/model.py) then bring related words close that no list names.
"""
from __future__ import annotations

import re

MAX_TOKENS = 400  # a pasted log says little more after its first few hundred words

SYNONYMS = {
    "login": ("log in", "logging in", "log-in", "sign in", "signin", "sign-in", "signing in", "logon", "authenticate", "authentication", "auth", "sso", "2fa", "mfa"),
    "logout": ("log out", "sign out", "signout", "logged out", "signed out", "kicked out"),
    "signup": ("sign up", "register", "registration", "create account", "onboarding"),
    "checkout": ("check out", "check-out", "payment", "payments", "pay", "paying", "purchase", "billing", "charge", "charged", "card declined"),
    "crash": ("crashes", "crashed", "crashing", "freezes", "frozen", "freeze", "hangs", "hang", "stuck", "unresponsive", "white screen", "blank screen"),
    "fail": ("fails", "failed", "failing", "failure", "broken", "broke", "doesn't work", "does not work", "not working", "isn't working", "can't", "cannot", "unable", "won't", "error", "errors"),
    "slow": ("slowly", "slowness", "latency", "lag", "laggy", "takes forever", "forever", "timeout", "timeouts", "timed out", "time out", "spinner", "loading forever", "ages"),
    "notification": ("notifications", "push", "alert", "alerts"),
    "missing": ("disappeared", "gone", "lost", "vanished", "not showing", "not shown", "doesn't show", "empty", "drops", "dropped", "drop", "skips", "skipped"),
    "last": ("final", "latest", "end"),
    "deploy": ("release", "released", "deployment", "deployed", "rollout", "rolled out", "launch", "upgrade", "new version"),
    "export": ("download", "csv", "export", "exports", "report download"),
    "upload": ("uploads", "uploading", "attach", "attachment", "attachments"),
    "search": ("searching", "find", "lookup", "filter"),
    "mobile": ("ios", "iphone", "ipad", "android", "app store"),
    "password": ("passwords", "reset password", "forgot password", "password reset"),
}
STOPWORDS = frozenset(
    "a an the and or but if of to in on at for from with by is are was were be been being it its this that these those "
    "i me my we our you your he she they them their there here what which who whom when where why how all any some no not "
    "do does did doing have has had having just so than too very can will would should could may might must also again "
    "still now then only out up down over under into about after before while since because as get got getting "
    "hi hey hello team folks anyone someone please thanks thank today yesterday morning seems seem like see seeing "
    "nt ve ll re im dont "
    # English function words the list above missed: in every report, so they only add noise to a ranking
    "am isn aren wasn weren doesn didn don hasn haven hadn won wouldn shouldn couldn cant "
    "each every other such same both few more most own off through during above below between until against "
    "once whether either neither nor yet etc eg ie us him his her hers itself myself yourself themselves".split()
)
_PHRASES = sorted(((phrase, canon) for canon, phrases in SYNONYMS.items() for phrase in phrases), key=lambda p: -len(p[0]))
_PHRASE_RE = re.compile("|".join(r"\b" + re.escape(p) + r"\b" for p, _ in _PHRASES))
_PHRASE_TO_CANON = dict(_PHRASES)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_MARKUP = re.compile(r"<[^>]+>")  # Slack links and mentions say nothing about the problem
# "2.0.1", "v1.1": one token for the major.minor release ("v2x0"): reports of one regression name it,
# while the digits alone are dropped (too many meanings)
_CAMEL = re.compile(r"(?<=[a-z]{2})(?=[A-Z][a-z])")  # "AutoCorrect", "getValue": the words inside an identifier
_VERSION = re.compile(r"\bv?(\d{1,3})\.(\d{1,3})(?:\.\d+)*\b")


# Inflections that leave the meaning alone, longest first; each needs a stem of at least 3 letters
# left ("sing" and "bed" stay). "-ies"/"-ied" end in "y" like the word ("copies", "copied" ~ "copy").
_SUFFIXES = ("ations", "ation", "ions", "ion", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")
_ES_AFTER = ("ss", "sh", "ch", "x", "z")  # where "-es" is the plural ("crashes"); elsewhere the "e" is the word's ("files")
_VOWELS = frozenset("aeiouy")


def stem(word: str) -> str:
    """A light stemmer: "crashes", "crashed", "crashing" ~ "crash"; "changes", "changed" ~ "change"
    ~ "chang"; "installation" ~ "install"; "customise" ~ "customize"; "colour" ~ "color". Every form
    of a word has to land on one stem, not on a dictionary word (the stems are only compared)."""
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix == "es" and not base.endswith(_ES_AFTER):
                base = word[:-1]
            elif suffix in ("ies", "ied"):
                base += "y"
            elif suffix == "s" and base.endswith(("s", "u", "i")):  # "class", "status", "analysis" are not plurals
                base = word
            if not _VOWELS & set(base):  # "things" -> "th" would say nothing
                continue
            word = base
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS and word[-1] not in "ls":
        word = word[:-1]  # "dropped" -> "dropp" -> "drop", "running" -> "run"
    if word.endswith("ise") or word.endswith("yse"):
        word = word[:-3] + "ize"  # British "-ise" = US "-ize" ("customise", "analyse")
    elif word.endswith("our") and len(word) > 5:
        word = word[:-3] + "or"  # British "colour", "behaviour"
    elif word.endswith("tre") and len(word) > 5:
        word = word[:-3] + "ter"  # "centre"
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # "change" ~ "chang(es|ed|ing)", "save" ~ "sav(es|ed|ing)"
    if len(word) > 3 and word.endswith("y"):
        word = word[:-1] + "i"  # "copy" ~ "copies" ~ "copied"
    return word


def words(text: str) -> list[str]:
    """The stemmed content words of `text`, in order (at most MAX_TOKENS)."""
    lowered = _MARKUP.sub(" ", _CAMEL.sub(" ", text).lower())
    lowered = _VERSION.sub(lambda m: f" v{m.group(1)}x{m.group(2)} ", lowered)
    lowered = _PHRASE_RE.sub(lambda m: f" {_PHRASE_TO_CANON[m.group(0)]} ", lowered)
    out: list[str] = []
    for w in _WORD.findall(lowered):
        if w in STOPWORDS or len(w) < 2 or (w.isdigit() and len(w) != 3):  # 3 digits: an HTTP status
            continue
        out.append(stem(w.replace("'", "")))
        if len(out) >= MAX_TOKENS:
            break
    return out


def terms(text: str) -> list[str]:
    """Words and adjacent word pairs ("search_result"): what the lexical score compares."""
    stems = words(text)
    return stems + [f"{a}_{b}" for a, b in zip(stems, stems[1:])]
