"""Category choice: chat rules for questions and requests, the learned bug/feature/question model,
and keyword rules that split "bug" into performance / usability / integration / data /
documentation. Stdlib only.
"""
from __future__ import annotations

import re

import bot.triage.intent as I
from bot.triage.chatter import PROBLEM, QUESTION, REQUEST
from bot.triage.model import score_category_style
from bot.triage.severity import stated_harm
from bot.triage.text import LITERAL_SCAN_MIN, literal_positions

__all__ = ["CATEGORIES", "choose_category", "sub_category"]

CATEGORIES = ("bug", "performance", "usability", "integration", "data", "documentation", "feature_request", "question")
_FROM_MODEL = {"bug": "bug", "feature": "feature_request", "question": "question"}
CHAT_CHARS = 400
CHAT_MODEL_MIN = 0.8
UNSURE = 0.45              # below this the classifier's non-bug label yields to observed behaviour
OBSERVED_LONG = 5          # this many observed-behaviour sentences make a report a bug report
ANALYSE_TRACE = 4000       # a stack trace is looked for in the first 4000 characters
PROSE_STYLE = 0.1          # below this gate probability the prose rules below do not apply (a GitHub-style issue)
TRACKER_STYLE = 0.5        # the gate's probability from which a titled report reads as a tracker bug report
PROSE_OBSERVED = 2         # sentences of observed behaviour that make a prose report a bug report
FEATURE_BIAS = 1.5  # a non-question one-liner that names a thing is more often a request (fitted on even-numbered GitHub titles)
# Markdown structure of an issue template (section headings, fences, HTML comments, bold labels,
# checkboxes): a report without any is written as prose, in the style of Bugzilla / Jira trackers.
# A heading counts when it names a section ("### Steps to reproduce"): "# Insert filter" in a pasted
# httpd.conf is a comment, not a template.
_TEMPLATE = re.compile(
    r"^\s*#{1,6}\s+(?:\W\s*)?(?:describ|descript|summary|steps|reproduc|repro|expected|actual|current|observed|"
    r"environment|system|version|context|additional|problem|issue|bug|feature|motivation|proposal|solution|"
    r"alternative|screenshot|log|detail|what|how|why|question|info|platform|os\b|browser|behaviou?r|result|"
    r"output|error|code|example|minimal|standalone|related|checklist|note|background|use ?case|prerequisite|"
    r"request|overview|workaround|type|link|relevant|other|your|source|willing|sdk|pr\b)"
    r"|```|<!--|\*\*|^\s*[-*] \[[ xX]\]", re.M | re.I)


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
# Hand-listed start literals of the _SUB_RULES (every position at which a rule matches starts with
# one of them, or is a line start where a rule has a "^" alternative; tests/test_triage_literals.py
# checks every such position): the rules are then tried only there, as in cues.py. A pattern that
# starts with \b makes `re` try every position of the text; a few `find` calls are cheaper.
SUB_START_LITERALS: dict[str, tuple[str, ...]] = {
    "documentation": ("typo in", "doc", "readme", "guide", "help ", "tutorial", "changelog", "broken link", "missing ",
                      "undocumented", "not documented", "update ", "fix ", "improve "),
    "data": ("wrong ", "incorrect ", "inconsistent ", "mismatch", "missing ", "lost ", "duplicat", "deleted ", "data ",
             "corrupt", "records ", "orders ", "rows ", "export", "csv ", "excel ", "report ", "out of sync", "don",
             "doesn"),
    "performance": ("slow", "latency", "lag", "time", "take", "perf", "memory ", "high ", "cpu ", "out of memory", "oom",
                    "sluggish", "hang", "freez", "unresponsive", "spin", "load", "p9"),
    "integration": ("webhook", "api", "rest endpoint", "endpoint", "salesforce", "hubspot", "zapier", "stripe", "paypal",
                    "jira", "okta", "auth0", "sso", "saml", "oauth", "third", "3rd", "integration", "callback url",
                    "sync", "connector", "slack app", "google ", "microsoft ", "sendgrid", "twilio", "shopify"),
    "usability": ("confus", "hard to", "not intuitive", "unintuitive", "ux", "ui", "usability", "button", "link",
                  "option", "setting", "menu", "can", "where is the", "too ", "overlap", "cut off", "misaligned",
                  "layout", "contrast", "accessib", "a11y", "screen reader", "unclear", "tooltip", "discoverab",
                  "clunky", "annoying"),
}
SUB_LINE_START = frozenset({"documentation"})       # rules with a "^" alternative
_FOCUS_CHARS = 400
_PROBLEM = re.compile(PROBLEM.pattern)   # lower-case text: no re.I needed
_REQUEST = re.compile(REQUEST.pattern)


def sub_category(text: str) -> tuple[str, str | None]:
    """("bug" | a sub-category, the phrase that decided it)."""
    text = text.lower()
    best: tuple[int, int, str, str] | None = None
    short = len(text) < LITERAL_SCAN_MIN
    for order, (name, rx) in enumerate(_SUB_RULES):
        hits = [m.group(0) for m in rx.finditer(text)] if short else _hits(name, rx, text)
        if hits:
            key = (len(set(hits)), -order)
            if best is None or key > best[:2]:
                best = (key[0], key[1], name, hits[0])
    return (best[2], best[3].lower()) if best else ("bug", None)


def _hits(name: str, rx: re.Pattern[str], text: str) -> list[str]:
    """What rx.finditer(text) finds, trying the rule only where one of its start literals occurs:
    the leftmost such position that matches is where a scan would find the next match."""
    at = literal_positions(text, SUB_START_LITERALS[name])
    if name in SUB_LINE_START:
        at.append(0)
        pos = text.find("\n")
        while pos >= 0:
            at.append(pos + 1)
            pos = text.find("\n", pos + 1)
    if not at:
        return []
    at.sort()
    hits: list[str] = []
    after = 0                                   # a match ends here: the scan goes on from there
    for pos in at:
        if pos < after:
            continue
        m = rx.match(text, pos)
        if m is not None:
            hits.append(m.group(0))
            after = m.end()
    return hits


def _bug(head: str, reasons: list[str], why: str) -> tuple[str, list[str]]:
    """The bug family: "bug" or the sub-category its keywords name."""
    reasons.append(f"category bug: {why}")
    sub, phrase = sub_category(head)
    if sub != "bug":
        reasons.append(f"category {sub}: mentions '{phrase}'")
    return sub, reasons


def choose_category(*, text: str, title: str | None, observed: int = 0,
                    title_observed: bool = False, hints_observed: bool = True) -> tuple[str, list[str]]:
    """(category, reasons) for a report; `text` is already plain (markup stripped, PII masked).
    `observed`: how many of its sentences (title excluded) the sentence model reads as observed
    behaviour; `title_observed`: whether it reads the title as observed behaviour;
    `hints_observed`: whether any sentence has even a small chance of stating behaviour.

    The opening decides first (a how-to question, a request, a problem), then the learned
    classifier; a titled report that the tracker-style gate reads as written like a tracker bug
    report is one; where the classifier is unsure, observed behaviour makes it a bug report, and
    a long report that describes observed wrong behaviour is one (unless written as GitHub issues
    are, where that rule was wrong more often than the classifier)."""
    reasons: list[str] = []
    chat = title is None
    head = ((title + "\n" if title else "") + text[:_FOCUS_CHARS]).lower()
    opening = I.opening(title if title else text[:_FOCUS_CHARS])
    if req := I.strong_request(opening):          # before how-to: "can we add …?" asks for a feature
        return "feature_request", [f"category feature_request: a request ('{req.strip()}…')"]
    if asked := I.howto(opening):
        return "question", [f"category question: a how-to question ('{asked.strip()}…')"]
    if chat and (req := _REQUEST.search(head)):
        return "feature_request", [f"category feature_request: request phrase '{req.group(0).lower()}'"]
    problem = _PROBLEM.search(opening if title else head)
    if not problem and len(opening) <= I.SHORT and (req := I.request_anywhere(opening)):
        return "feature_request", [f"category feature_request: request phrase '{req.strip()}'"]
    asks = chat and bool(text.rstrip().endswith("?") or QUESTION.search(text) or "?" in text[:_FOCUS_CHARS])
    if chat:
        if problem and (how := I.asks_how(text[:CHAT_CHARS * 2].lower())) and not I.stack_trace(text[:ANALYSE_TRACE]):
            return "question", [f"category question: asks how ('{how}'), though it mentions '{problem.group(0).lower()}'"]
        if problem:
            return _bug(head, reasons, f"describes a problem ('{problem.group(0).lower()}')")
        if trace := I.stack_trace(text[:ANALYSE_TRACE]):
            return _bug(head, reasons, f"a stack trace ('{trace}')")
        if since := I.regression(head):
            return _bug(head, reasons, f"a regression ('{since}')")
        if req := I.weak_request(opening):
            return "feature_request", [f"category feature_request: an imperative request ('{req.strip()}…')"]
        if asks and observed == 0:
            return "question", ["category question: asks something and describes no observed behaviour"]
    one_line = chat and len(text) <= I.SHORT and "\n" not in text.strip()
    # a one-line message reads like an issue title
    scored = score_category_style(text, "", chat=True) if one_line else score_category_style(title, text, chat=chat)
    if not scored:
        return _bug(head, reasons, "default (no classifier model found)")
    probs, p_tracker = scored
    label = max(probs, key=probs.__getitem__)
    said = f"classifier {label} p={probs[label]:.2f}"
    if one_line and label == "bug" and not hints_observed and not problem:
        # A one-line chat message that names a thing ("cursor control", "3D SSIM", "Conan build
        # system") and says nothing happens: no problem word, no hint of observed behaviour (a
        # trace or "since the release" returned above). Calling it a bug would ask its author for
        # steps to reproduce; it is a request or a question (the classifier decides, leaning to a
        # request: such a message is not phrased as a question, those returned above).
        other = "feature" if probs.get("feature", 0.0) * FEATURE_BIAS >= probs.get("question", 0.0) else "question"
        base = _FROM_MODEL[other]
        return base, [f"category {base}: a one-line message that describes no problem ({said}, then {other} "
                      f"p={probs.get(other, 0.0):.2f})"]
    prose_style = p_tracker is None or p_tracker >= PROSE_STYLE
    if p_tracker is not None and p_tracker >= TRACKER_STYLE and label != "bug" and not chat \
            and not I.weak_request(opening):
        # The classifier learned bug / feature / question from GitHub issues; tracker (Bugzilla,
        # Jira) bug reports are written otherwise and it reads many as questions. The gate, learned
        # from GitHub issues vs tracker bug reports, says this one is written like the latter:
        # trackers hold bug reports (bench/category_tradeoff.py, docs/classifier.md).
        return _bug(head, reasons, f"written like a tracker bug report (style p={p_tracker:.2f}; {said})")
    if prose_style and label != "bug" and not chat and not I.weak_request(opening) \
            and (title_observed or problem or observed >= PROSE_OBSERVED) and not _TEMPLATE.search(text, 0, ANALYSE_TRACE):
        # A titled report written as prose (no issue template) that states observed behaviour:
        # the classifier learned bug reports mostly from GitHub templates and reads such tracker
        # reports as questions, so the observed-behaviour evidence decides.
        evidence = ("the title states observed behaviour" if title_observed or problem
                    else f"{observed} sentences describe observed behaviour")
        return _bug(head, reasons, f"{evidence} in a prose report ({said})")
    elif prose_style and label == "question" and not chat and "?" not in (title or "") and "?" not in text[:_FOCUS_CHARS] \
            and not I.howto(opening) and not _TEMPLATE.search(text, 0, ANALYSE_TRACE):
        # A titled prose report (no issue template) whose title is a statement and whose opening
        # asks nothing: trackers' bug reports read like that ("reverse proxy return FORBIDDEN all
        # the time"), and the classifier, which learned questions from GitHub, calls them questions.
        # Someone with a question asks it. (Bug-family share of the Facebook and Firefox tracker
        # rows, never read while writing this, issues-only classifier: 81.6 % -> 90.8 %; GitHub
        # 5-fold macro-F1 0.730 -> 0.721: docs/classifier.md.)
        return _bug(head, reasons, f"a prose report that states and asks nothing ({said})")
    if label != "bug" and observed >= OBSERVED_LONG and prose_style:
        return _bug(head, reasons, f"{observed} sentences describe observed behaviour ({said})")
    if label != "bug" and probs[label] < UNSURE and (observed or problem):
        evidence = f"'{problem.group(0)}'" if problem else "observed behaviour described"
        return _bug(head, reasons, f"classifier unsure ({said}) and {evidence}")
    if label == "bug" and probs[label] < UNSURE and not observed and not problem and I.weak_request(opening):
        return "feature_request", [f"category feature_request: classifier unsure ({said}) and an imperative "
                                   f"request ('{I.weak_request(opening)}…')"]
    if chat and label != "bug" and probs[label] < CHAT_MODEL_MIN and observed:
        return _bug(head, reasons, f"a statement of observed behaviour in chat ({said})")
    if label != "bug" and not I.weak_request(opening) and (harm := stated_harm(head)):
        return _bug(head, reasons, f"states harm done ('{harm}'; {said})")
    if label == "bug":
        return _bug(head, reasons, said)
    base = _FROM_MODEL.get(label, "bug")
    return base, [f"category {base}: {said}"]
