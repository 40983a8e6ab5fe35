"""Is a new report the same problem as an open ticket? A small, explainable text similarity.

Reports of one problem in a war room use different words for the same things ("can't sign in",
"login fails", "auth broken"), so words are first folded into canonical terms, then compared by
IDF-weighted cosine over terms and term pairs. IDF comes from the open tickets themselves, so words
every report shares ("app", "error") count for little.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Picked on the hand-written pairs in tests/test_duplicates.py: there, same-problem pairs score
# 0.36-0.66 and different problems at most 0.12 (the score is the mean of cosine and coverage).
DUPLICATE_THRESHOLD = 0.30

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
    "hi hey hello team folks anyone someone please thanks thank today yesterday morning seems seem like see seeing".split()
)
_PHRASES = sorted(((phrase, canon) for canon, phrases in SYNONYMS.items() for phrase in phrases), key=lambda p: -len(p[0]))
_PHRASE_RE = re.compile("|".join(r"\b" + re.escape(p) + r"\b" for p, _ in _PHRASES))
_PHRASE_TO_CANON = dict(_PHRASES)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    lowered = re.sub(r"<[^>]+>", " ", text.lower())  # Slack links and mentions say nothing about the problem
    lowered = _PHRASE_RE.sub(lambda m: f" {_PHRASE_TO_CANON[m.group(0)]} ", lowered)
    words = [w for w in _WORD.findall(lowered) if w not in STOPWORDS and not w.isdigit() or (w.isdigit() and len(w) == 3)]
    stems = [_stem(w) for w in words if len(w) > 1]
    return stems + [f"{a}_{b}" for a, b in zip(stems, stems[1:])]


@dataclass(frozen=True)
class Candidate:
    ticket_id: int
    text: str


@dataclass(frozen=True)
class Match:
    ticket_id: int
    score: float
    shared: tuple[str, ...]


def _weights(bag: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    return {t: (1 + math.log(c)) * idf.get(t, 1.0) for t, c in bag.items()}


def best_match(text: str, candidates: Sequence[Candidate], *, threshold: float = DUPLICATE_THRESHOLD) -> Match | None:
    """The open ticket this report most likely repeats, if any scores at or above `threshold`."""
    new_bag = Counter(terms(text))
    if not new_bag or not candidates:
        return None
    bags = [Counter(terms(c.text)) for c in candidates]
    documents = len(bags) + 1
    frequency: Counter[str] = Counter()
    for bag in (*bags, new_bag):
        frequency.update(set(bag))
    # Smoothed IDF with a floor of documents=20, so a workspace with two open tickets does not
    # make every shared word look rare.
    scale = max(documents, 20)
    idf = {t: math.log((1 + scale) / (1 + n)) + 1 for t, n in frequency.items()}
    new_weights = _weights(new_bag, idf)
    new_norm = math.sqrt(sum(w * w for w in new_weights.values()))
    new_total = sum(new_weights.values())
    best: Match | None = None
    for candidate, bag in zip(candidates, bags):
        weights = _weights(bag, idf)
        shared = set(new_weights) & set(weights)
        if not shared:
            continue
        dot = sum(new_weights[t] * weights[t] for t in shared)
        norm = new_norm * math.sqrt(sum(w * w for w in weights.values()))
        cosine = dot / norm if norm else 0.0
        # How much of the new report the ticket explains: a short report fully inside a longer
        # ticket is a strong sign even when the ticket says much more.
        coverage = sum(new_weights[t] for t in shared) / new_total
        score = (cosine + coverage) / 2
        if score >= threshold and (best is None or score > best.score):
            best = Match(ticket_id=candidate.ticket_id, score=round(score, 3), shared=tuple(sorted(t for t in shared if "_" not in t)))
    return best


def candidate_texts(rows: Iterable[tuple[int, str, str]]) -> list[Candidate]:
    return [Candidate(ticket_id=ticket_id, text=f"{title}\n{description}") for ticket_id, title, description in rows]
