"""Category choice: chat rules for questions and requests, the learned bug/feature/question model,
and keyword rules that split "bug" into performance / usability / integration / data /
documentation. Stdlib only.
"""
from __future__ import annotations

import re

from bot.triage.chatter import PROBLEM, QUESTION, REQUEST
from bot.triage.model import score_category

__all__ = ["CATEGORIES", "choose_category", "sub_category"]

CATEGORIES = ("bug", "performance", "usability", "integration", "data", "documentation", "feature_request", "question")
_FROM_MODEL = {"bug": "bug", "feature": "feature_request", "question": "question"}
CHAT_CHARS = 400
CHAT_MODEL_MIN = 0.8


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.M)   # lower-case patterns, matched on lower-cased text


# order = priority when two kinds score the same
_SUB_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("documentation", _rx(
        r"\b(?:typo in (?:the )?(?:docs?|documentation|readme|guide|help|tutorial)|(?:docs?|documentation|"
        r"readme|guide|help (?:page|article|center)|tutorial|changelog)(?: page)? (?:is|are|says|has|have) "
        r"(?:wrong|outdated|out of date|missing|incorrect|unclear|misleading|broken|confusing|a typo|an? "
        r"error)|broken links? (?:in|on) (?:the )?(?:docs|documentation|readme)|(?:docs?|documentation) "
        r"(?:bug|issue|error|fix|update|request)|missing (?:docs|documentation)|undocumented|not documented|"
        r"(?:update|fix|improve) (?:the )?(?:docs|documentation|readme))\b|^\W*\[?docs?\]?\s*[:\]]")),
    ("data", _rx(
        r"\b(?:(?:wrong|incorrect|inconsistent|mismatch\w*) (?:totals?|amounts?|numbers?|sums?|"
        r"counts?|values?|"
        r"data|figures|balances?|prices?)|(?:missing|lost|duplicat\w*|deleted) (?:records?|rows?|"
        r"data|entries|"
        r"orders|items|transactions)|data (?:loss|lost|corrupt\w*|mismatch|missing|integrity)|corrupt\w*|"
        r"(?:data|records|orders|rows) [^.!?\n]{0,30}(?:is|are|was|were) (?:gone|lost|deleted|missing)|"
        r"duplicat\w* (?:rows?|records?|entries|orders?|charges?)|exports? (?:is |are )?(?:wrong|empty|"
        r"missing|broken|incomplete)|(?:csv|excel|report) (?:shows?|has|is) (?:wrong|missing|empty)|out of "
        r"sync|don'?t add up|doesn'?t add up)\b")),
    ("performance", _rx(
        r"\b(?:slow\w*|latency|lag\w*|timeouts?|timed? ?out|times out|takes? ~?(?:\d+ ?(?:s|ms|secs?|"
        r"seconds|mins?|minutes)?|forever|ages|minutes|"
        r"seconds|so long|too long)|performance|perf|memory leak|high (?:cpu|memory)|cpu usage|memory usage|"
        r"out of memory|oom|sluggish|hangs?|hanging|freez\w*|unresponsive|spinner (?:forever|keeps)|"
        r"spins forever|loads? forever|p9\d)\b")),
    ("integration", _rx(
        r"\b(?:webhooks?|api|apis|rest endpoint|endpoints?|salesforce|hubspot|zapier|stripe|paypal|jira|"
        r"okta|auth0|sso|saml|oauth\w*|third[- ]party|3rd[- ]party|integrations?|callback url|sync(?:ing)? "
        r"(?:with|to|from)|connector|slack app|google (?:login|sign[- ]in|calendar|sheets)|"
        r"microsoft (?:login|teams)|sendgrid|twilio|shopify)\b")),
    ("usability", _rx(
        r"\b(?:confus\w+|hard to (?:find|use|read|see|understand|click|navigate)|not intuitive|unintuitive|"
        r"ux|ui|usability|(?:button|link|option|setting|menu)s? (?:is |are )?(?:hidden|buried|hard to find|"
        r"too small|not visible)|can'?t find (?:the|where|how)|cannot find (?:the|where|how)|where is the|"
        r"too small|overlap\w*|cut off|misaligned|layout|contrast|accessib\w*|a11y|screen reader|unclear|"
        r"tooltip|discoverab\w*|clunky|annoying|too many clicks)\b")),
)
_FOCUS_CHARS = 400
_PROBLEM = re.compile(PROBLEM.pattern)
_REQUEST = re.compile(REQUEST.pattern)


def sub_category(text: str) -> tuple[str, str | None]:
    """("bug" | a sub-category, the phrase that decided it)."""
    text = text.lower()
    best: tuple[int, int, str, str] | None = None
    for order, (name, rx) in enumerate(_SUB_RULES):
        hits = [m.group(0) for m in rx.finditer(text)]
        if hits:
            key = (len(set(hits)), -order)
            if best is None or key > best[:2]:
                best = (key[0], key[1], name, hits[0])
    return (best[2], best[3].lower()) if best else ("bug", None)


def choose_category(*, text: str, title: str | None) -> tuple[str, list[str]]:
    """(category, reasons) for a report; `text` is already plain (markup stripped, PII masked)."""
    reasons: list[str] = []
    chat = title is None and len(text) <= CHAT_CHARS
    head = ((title + "\n" if title else "") + text[:_FOCUS_CHARS]).lower()
    req = _REQUEST.search(head) if chat else None
    if req:
        return "feature_request", [f"category feature_request: request phrase '{req.group(0).lower()}'"]
    problem = _PROBLEM.search(head) if chat else None
    if chat:
        q = QUESTION.search(text)
        if (q or text.rstrip().endswith("?")) and not problem:
            asked = q.group(0).strip().lower() if q else text.strip()[:40]
            return "question", [f"category question: asks '{asked}…?'"]

    base = "bug"
    sub, phrase = sub_category(head) if chat else ("bug", None)
    if chat and (problem or sub != "bug"):
        said = problem.group(0).lower() if problem else phrase
        reasons.append(f"category bug: describes a problem ('{said}')")
    elif probs := score_category(title, text):
        label = max(probs, key=probs.__getitem__)
        if chat and label != "bug" and probs[label] < CHAT_MODEL_MIN:
            # the classifier learned from GitHub issues; in chat a statement that is neither a
            # question nor a request is taken as a problem report unless the model is sure
            reasons.append(f"category bug: a statement in chat (classifier {label} p={probs[label]:.2f} "
                           f"< {CHAT_MODEL_MIN})")
        else:
            base = _FROM_MODEL.get(label, "bug")
            reasons.append(f"category {base}: classifier {label} p={probs[label]:.2f}")
    else:
        reasons.append("category bug: default (no classifier model found)")
    if base != "bug":
        return base, reasons
    if not chat:
        sub, phrase = sub_category(head)          # only bug reports are split further
    if sub != "bug":
        reasons.append(f"category {sub}: mentions '{phrase}'")
    return sub, reasons
