"""Understanding answers to a follow-up question: which reproduction detail does each sentence give?

A reporter answers in chat, not in a form: "1. open … 2. click …", "should show the receipt",
"but I get error 502", "Safari 18 on iPhone", in one message or several, labelled or not. Each
message is cut into labelled sections, lists and clauses; each piece is scored for steps, expected
behaviour, actual behaviour and environment. What the bot asked for is context: an unlabelled
piece nobody can classify ("the invoice PDF downloads") goes to the one detail still awaited, the
way a person reads an answer to their own question. Pure functions, stdlib only (plus the triage
text helpers), so bench/followup_quality.py measures exactly this code.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.triage import mask_pii, slack_to_text

DETAILS = ("steps", "expected", "actual", "environment")
MAX_FIELD = 1000  # a detail is a few sentences; a pasted log stays in the comment history
MIN_FALLBACK_WORDS = 2
MIN_SCORE = 1.5  # a real cue, not just a word like "page" or "button"

_LABELS: dict[str, str] = {
    "steps": r"steps?(?: to reproduce| to repro)?|str|repro(?:duction)?(?: steps)?|to reproduce|how to reproduce|"
             r"what i did|where",
    "expected": r"expected(?: behaviou?r| result| outcome)?|expectation|should(?: be)?|what should happen|since when|since",
    "actual": r"actual(?: behaviou?r| result| outcome)?|observed(?: behaviou?r)?|result|what happens|"
              r"what happened|error(?: message)?|how slow",
    "environment": r"env(?:ironment)?|browser|device|os|platform|version|app version|system",
}
_LINE_LABEL = re.compile(
    r"^\W{0,4}(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _LABELS.items()) + r")\s*(?:[:=]|\s[-–—]\s|-\s)\s*", re.I)
# "Steps: … Expected: … Actual: …" on one line: cut before each label.
_INLINE_LABEL = re.compile(r"(?<=\S)\s+(?=(?:steps(?: to reproduce)?|expected(?: behaviou?r| result)?|"
                           r"actual(?: behaviou?r| result)?|environment|env)\s*:)", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|[-*•]|step \d+[:.]?)\s+", re.I)
_INLINE_ENUM = re.compile(r"(?:^|(?<=[\s:]))\(?1[.)]\s+\S.*?\s\(?2[.)]\s+\S", re.S)
# Chat sentences often start in lower case; abbreviations and list numbers are not sentence ends.
_SENTENCE = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<!\b\d)(?<=[.!?])\s+(?=\S)|\n+")
# Clause boundaries keep the cue word ("but", "instead") with the clause it starts.
_CLAUSE = re.compile(
    r"\s*;\s*|\s+[—–]\s+|\s+-\s+|,?\s+(?=(?:but|instead|whereas|although|though|however)\b)"
    r"|,\s+(?=(?:and )?(?:i|it|we|you|this|that)\s+(?:expected|expect|'d expect|would expect|should|get|got|"
    r"see|saw|only see|shows?|showed)\b)", re.I)
# Performance answers are lists of short facts: "on the reports page, since Monday, takes 30 s".
_PERF_CLAUSE = re.compile(_CLAUSE.pattern + r"|,\s+|\s+(?=(?:since|for the (?:last|past)|(?:it )?takes?)\b)", re.I)
_CONNECTIVE = re.compile(r"^(?:but|and|so|also|plus|well|um|uh)\b[\s,]*(?=\S)", re.I)
_WHEN_SPLIT = re.compile(
    r"^((?:it )?(?:happens |occurs )?(?:when|whenever|if|after|once|as soon as)\s+\S.{3,}?)(?:,\s*|\s+)(?:then\s+)?"
    r"(?=(?:i|it|we|you|nothing|firefox|eclipse|the (?:page|app|browser|server|editor|site|button|screen|tab|"
    r"window|build|file|spinner))\s+(?:get|gets|got|see|sees|saw|shows?|showed|crash\w*|hangs?|freez\w*|"
    r"stops?|jumps?|goes|went|is|was|does|did|doesn'?t|won'?t|can'?t|fails?|returns?|throws?|happens)\b)", re.I)

_VERBS = (
    r"open|click|go|navigate|type|enter|select|press|create|run|launch|install|start|load|visit|tap|add|delete|"
    r"remove|set|choose|right[- ]?click|double[- ]?click|drag|close|restart|save|use|make|put|try|call|build|"
    r"compile|execute|import|configure|change|edit|insert|write|upload|download|log ?in|sign (?:in|up|out)|"
    r"switch|scroll|hover|move|copy|paste|check|uncheck|enable|disable|toggle|fill|submit|refresh|reload|"
    r"browse|send|apply|attach|resize|rename|export|hit|wait|search|pick|update|upgrade|expand|collapse|"
    r"render|mount|request|visit|scan|print|share|invite|book|order|pay|reply|post|play|zoom|sort|filter"
)
_PAST = (r"opened|clicked|went|tried|navigated|typed|selected|pressed|created|ran|installed|started|loaded|"
         r"visited|added|deleted|set|chose|changed|entered|used|launched|restarted|saved|closed|dragged|"
         r"upgraded|updated|downloaded|uploaded|configured|logged|signed|switched|moved|copied|pasted|"
         r"imported|exported|enabled|disabled|submitted|refreshed|reloaded|searched|picked|hit|double-clicked|"
         r"right-clicked|tapped|edited|renamed|attached|sent|called|ordered|paid|booked|scrolled|checked")


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


# (pattern, weight) per detail; a piece goes to the detail with the highest total.
CUES: dict[str, list[tuple[re.Pattern[str], float]]] = {
    "steps": [
        (_rx(r"^\W{0,6}(?:\d+[.)]?\s+|[-*•]\s+)?(?:then |and |now |next |first |finally |just |simply |also )?"
             r"(?:" + _VERBS + r")\b(?! (?:that|you|is|was|are|were|fine|correctly|properly)\b)"), 3.0),
        (_rx(r"\b(?:i|we|you)(?:'ve| have)? (?:just |first |then |also )?(?:" + _PAST + r")\b"), 2.5),
        (_rx(r"\b(?:i|we|you) (?:just )?(?:" + _VERBS + r")\b(?! (?:to|that|it is)\b)"), 1.5),
        (_rx(r"\b(?:when|whenever|if|after|once|while|before|as soon as) (?:i|you|we|the user|a user|users?|"
             r"someone)\b"), 2.0),
        (_rx(r"\b(?:when|after|while|by|upon|before) \w+ing\b"), 1.0),
        (_rx(r"(?:,|\band|\bthen)\s+(?:then\s+)?(?:" + _VERBS + r")\s+(?:the|a|an|it|on|to|my|any|in|\w+)\b"), 1.5),
        (_rx(r"\b(?:then|afterwards|first|next,)\b"), 1.0),
        (_rx(r"->|=>|→|(?<=\w) > (?=\w)|\b(?:menu|dialog|tab|button|link|page|screen|field|form|panel)\b"), 0.75),
        (_rx(r"\b(?:to reproduce|repro|reproducible|every time|each time|always)\b"), 1.0),
        (_rx(r"`[^`]+`|\w+\(\)"), 0.75),
    ],
    "expected": [
        (_rx(r"\bshould(?:n'?t| not)?\b"), 3.0),
        (_rx(r"\bexpect(?:ed|s|ing|ation|ations)?\b"), 3.0),
        (_rx(r"\b(?:supposed|meant|intended|designed) to\b|\bought to\b"), 3.0),
        (_rx(r"\b(?:used to|worked (?:fine|before|yesterday|last week)|like before|as before|as usual|same as "
             r"(?:before|in|on|with)|like (?:it|they) (?:did|used to)|previously|normally|usually|ideally)\b"), 2.5),
        (_rx(r"\b(?:i'?d|i would|we'?d|we would) (?:expect|like|want|prefer|hope)\b|\bwant(?:ed)? (?:it|the|to)\b"), 2.0),
        (_rx(r"\b(?:instead of|rather than)\b"), 1.5),
        (_rx(r"\b(?:correct(?:ly)?|properly|as documented|as intended|as designed|like the (?:docs|setting|"
             r"documentation) says?)\b"), 1.0),
    ],
    "actual": [
        (_rx(r"^\W*(?:but|instead|however|whereas)\b|\binstead\b(?! of)"), 3.0),
        (_rx(r"\b(?:error\w*|exception|crash\w*|fail\w*|freez\w*|froze|hangs?|hung|blank|empty|nothing happens|"
             r"does nothing|doesn'?t|does not|don'?t|didn'?t|won'?t|isn'?t|is not|can'?t|cannot|unable|broken|"
             r"stuck|spinner|spinning|never|times? out|timed out|timeout|wrong|incorrect|missing|disappear\w*|"
             r"gone|jumps?|stays?|still|only (?:see|get|shows?))\b|\b[45]\d\d\b|\b\w+(?:Error|Exception)\b"), 2.0),
        (_rx(r"\b(?:i|we) (?:get|got|see|saw|receive|received|only see)\b|\b(?:it|this|that|the \w+) (?:shows?|showed|says|"
             r"said|gives?|gave|returns?|returned|throws?|threw|displays?|displayed|goes|went|closes|closed|"
             r"reloads|opens|opened)\b|\bright now\b|\bcurrently\b|\bat the moment\b"), 1.5),
    ],
}
# Performance reports ask "where, since when, how slow" in the steps / expected / actual slots.
PERFORMANCE_CUES: dict[str, list[tuple[re.Pattern[str], float]]] = {
    "steps": [(_rx(r"\b(?:on|in|at) the [\w -]{2,30}(?:page|screen|view|tab|dashboard|report|search|list|list "
                   r"view|endpoint|api|form|app)\b|\bwhen (?:loading|opening|saving|searching|exporting)\b"), 1.5)],
    "expected": [(_rx(r"\bsince\b|\bstarted (?:on|after|yesterday|today|this|last|with|when)\b|\bbegan\b|"
                      r"\bfor (?:the )?(?:last |past )?(?:\d+|a|two|three|few|couple of) (?:days?|hours?|weeks?)\b|"
                      r"\b(?:after|since) (?:the|our|yesterday'?s?|last) (?:deploy\w*|release|update|upgrade|"
                      r"migration)\b|\b(?:yesterday|this morning|last (?:week|night)|today|on (?:mon|tues|wednes|"
                      r"thurs|fri|satur|sun)day)\b|\bwas (?:fast|fine|instant)\b"), 3.0)],
    "actual": [(_rx(r"\b\d+(?:[.,]\d+)? ?(?:ms|s|sec|secs|seconds?|min|mins|minutes?)\b|\b(?:very |really |so |"
                    r"too )?slow\w*\b|\bforever\b|\btimes? out\b|\btimeout\b|\bages\b|\blag\w*\b"), 2.5)],
}
_ENV = _rx(
    r"\b(?:(?:Google )?Chrome|Chromium|Firefox|Safari|Edge|Opera|Brave|IE ?\d+|Internet Explorer)(?: ?(?:v(?:ersion)? ?)?"
    r"\d+(?:\.\d+)*)?"
    r"|\b(?:iOS|iPadOS|Android|Windows(?: Server)?|Win ?(?:7|8|10|11|XP)|macOS|Mac ?OS(?: X)?|OS X|Linux|Ubuntu|"
    r"Debian|Fedora|CentOS|RHEL|ChromeOS)(?: ?\d+(?:\.\d+)*)?(?: ?(?:x64|64-bit|32-bit|arm64))?"
    r"|\b(?:iPhone|iPad|Pixel|Galaxy|Samsung|OnePlus|Xiaomi|MacBook(?: (?:Air|Pro))?)(?: ?[A-Z]?\d+\w*(?: (?:Pro|Max|"
    r"Plus|Ultra|mini))*)?\b|\bon (?:my |a |the )?(?:phone|mobile|laptop|desktop|tablet|mac|pc|android|work machine)\b"
    r"|\b(?:app |build |release )?v\d+(?:\.\d+){1,3}(?:[-+]\w+)?\b|\b(?:version|build|release) \d+(?:\.\d+)*\w*"
    r"|\b(?:in|on) (?:prod(?:uction)?|staging|stage|sandbox|qa|dev|uat|preprod)\b"
    r"|\b(?:on|over|via) (?:wi-?fi|4g|5g|lte|vpn|mobile data|the office network|ethernet)\b"
    r"|\b[A-Z][A-Za-z]+(?:\.js)? \d+(?:\.\d+)+(?: ?(?:RC|M|rc|beta|alpha)\d*)?\b|\b[A-Z][A-Za-z]+ \d+ (?:RC|M)\d+\b")
_ENV_STOP = re.compile(r"^(?:HTTP|Error|Step|Steps|Section|Chapter|Table|Figure)\b")
# What is left of an environment-only answer once the environment is taken out ("I'm on …, using …").
_ENV_FILLER = _rx(r"\b(?:i'?m|i am|we'?re|it'?s|its|this is|that'?s|on|in|with|using|via|and|or|the|my|a|an|"
                  r"latest|newest|both|also|same|here|version|browser|device|app|build|env(?:ironment)?|running|"
                  r"it|happens|too|for me|only)\b|[\s,.;:()/&+-]+")
_NOT_AN_ISSUE = _rx(r"\b(?:not an? (?:issue|bug|problem)(?: after all| anymore)?|never ?mind|nvm|false alarm|"
                    r"(?:works|working|fine) now|(?:fixed|resolved|sorted) itself|no longer (?:an issue|happens|"
                    r"happening|reproduc\w+)|can'?t reproduce (?:it )?(?:any ?more|now)|my (?:bad|mistake)|"
                    r"ignore (?:this|that|me|it)|please close (?:it|this))\b")
_CHATTER = _rx(r"^\W*(?:(?:ok(?:ay)?|k|thanks?(?: you)?|thx|ty|cheers|sure|will do|on it|got it|same(?: here)?|"
               r"\+1|me too|lol|haha|great|cool|nice|np|yes|yep|no|nope|sorry|hmm|one (?:sec|moment)|"
               r"let me (?:check|look|see)|checking|looking)\W*)+$|^\W*(?::[a-z0-9_+'-]+:\W*)+$")


@dataclass(frozen=True)
class Understood:
    """What one message says: details found (detail -> text), and how to read the rest."""

    fields: dict[str, str] = field(default_factory=dict)
    not_an_issue: bool = False
    chatter: bool = False
    unclassified: tuple[str, ...] = ()
    labelled: frozenset[str] = frozenset()  # details the message named ("Actual: …"), not just hinted at


def _clean(text: str) -> str:
    text = mask_pii(slack_to_text(text or "")).replace("\r\n", "\n")
    text = re.sub(r"<@[UW][A-Z0-9]+>", " ", text)  # someone addressed in the answer is not a detail
    return re.sub(r"[ \t]+", " ", text).strip()


def clip(text: str, limit: int = MAX_FIELD) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _score(piece: str, category: str) -> dict[str, float]:
    scores = {name: sum(w for rx, w in cues if rx.search(piece)) for name, cues in CUES.items()}
    if category == "performance":
        for name, cues in PERFORMANCE_CUES.items():
            scores[name] += sum(w for rx, w in cues if rx.search(piece))
    return scores


def environment_in(text: str) -> str | None:
    """Browsers, systems, devices, versions and deployments named in the text, joined."""
    found: list[str] = []
    for m in _ENV.finditer(text):
        span = m.group(0).strip()
        if _ENV_STOP.match(span) or any(span.lower() in f.lower() for f in found):
            continue
        found = [f for f in found if f.lower() not in span.lower()] + [span]
    return ", ".join(found) if found else None


def _environment_only(piece: str) -> bool:
    rest = _ENV_FILLER.sub(" ", _ENV.sub(" ", piece))
    return not rest.strip()


def _blocks(text: str) -> list[tuple[str | None, str, bool]]:
    """The message as (label, text, is_list) blocks in order: labelled sections, lists, plain lines."""
    blocks: list[tuple[str | None, str, bool]] = []
    current: str | None = None
    items: list[str] = []
    lines = [ln.strip() for line in text.split("\n") for ln in _INLINE_LABEL.split(line)]
    for line in lines + [""]:
        if line and _LIST_ITEM.match(line) and not _INLINE_ENUM.search(line):
            items.append(_LIST_ITEM.sub("", line))
            continue
        if items:  # a list ended: two or more items are steps, unless they sit under another label
            last, *after = _SENTENCE.split(items[-1], maxsplit=1)
            label = current or ("steps" if len(items) > 1 else None)
            blocks.append((label, " → ".join([*items[:-1], last]), len(items) > 1))
            blocks += [(None, rest, False) for rest in after if rest.strip()]  # "- click X. I'd expect Y"
            items, current = [], None  # a labelled list ends its section
        m = _LINE_LABEL.match(line) if line else None
        if m:
            current = next(k for k, v in m.groupdict().items() if v)
            body = line[m.end():].strip()
            if body:
                blocks.append((current, body, False))
                current = None
        elif line:
            blocks.append((current, line, False))
        else:
            current = None
    return blocks


def _inline_steps(line: str) -> tuple[str | None, str]:
    """'1. open … 2. click … — should show X' -> ('1. open … 2. click …', 'should show X')."""
    m = _INLINE_ENUM.search(line)
    if not m:
        return None, line
    start = m.start()
    tail_from = start
    items = list(re.finditer(r"(?:^|(?<=\s))\(?[1-9][.)]\s+", line[start:]))
    tail_from = start + items[-1].end()
    tail = re.search(r"\s+[—–]\s+|\s+-\s+|;|\.\s+|,?\s+(?=(?:but|instead|expected|expecting|should|it should|"
                     r"i expect|i expected|and (?:then )?it|result)\b)", line[tail_from:], re.I)
    end = tail_from + tail.start() if tail else len(line)
    return line[start:end].strip(), (line[:start] + " " + line[end:]).strip(" .;,-—–")


def _pieces(line: str, category: str) -> list[str]:
    out: list[str] = []
    splitter = _PERF_CLAUSE if category == "performance" else _CLAUSE
    for sentence in _SENTENCE.split(line):
        for clause in splitter.split(sentence):
            clause = _CONNECTIVE.sub("", clause.strip(" ,.;"))
            if not clause:
                continue
            m = _WHEN_SPLIT.match(clause)
            if m and m.end() < len(clause):
                out += [m.group(1).strip(" ,"), clause[m.end():].strip(" ,")]
            else:
                out.append(clause)
    return out


def understand(*, text: str, wanted: Sequence[str], category: str = "bug", context: bool = True) -> Understood:
    """The details one message gives. `wanted`: what the bot is still waiting for (the context);
    `context=False` reads cues only (a report, which answers no question of ours)."""
    clean = _clean(text)
    if not clean:
        return Understood(chatter=True)
    if _NOT_AN_ISSUE.search(clean):
        return Understood(not_an_issue=True)
    if _CHATTER.match(clean):
        return Understood(chatter=True)
    found: dict[str, list[str]] = {}
    labelled: set[str] = set()
    unclassified: list[tuple[str, str | None]] = []  # (piece, the label it sat under)
    for label, block, is_list in _blocks(clean):
        if label:
            labelled.add(label)
        if is_list:
            found.setdefault(label or "steps", []).append(block)
            continue
        steps, block = _inline_steps(block)
        if steps:
            found.setdefault("steps", []).append(steps)
        tail: list[str] = []  # uncued sentences after a label's first: its own, unless they end the block
        for i, piece in enumerate(_pieces(block, category)):
            if _environment_only(piece):
                found.setdefault("environment", []).append(piece)
                continue
            scores = _score(piece, category)
            best = max(scores, key=lambda k: (scores[k], k == "expected"))
            if label and (i == 0 or scores[label] >= max(scores[best], MIN_SCORE)):
                found.setdefault(label, []).extend([*tail, piece])
                tail = []
            elif scores[best] >= MIN_SCORE:  # plainly says something else, label or not
                found.setdefault(best, []).append(piece)
            elif label:
                tail.append(piece)
            else:
                unclassified.append((piece, None))
        unclassified += [(piece, label) for piece in tail]
    env = environment_in(clean)
    if env and "environment" not in found:
        found["environment"] = [env]
    # Context: what nobody could classify answers the one detail still awaited.
    awaited = [d for d in wanted if d not in found]
    leftovers = [p for p, _ in unclassified if len(re.findall(r"\w+", p)) >= MIN_FALLBACK_WORDS]
    if context and len(awaited) == 1 and leftovers:
        found[awaited[0]] = leftovers
        unclassified = []
    for piece, label in unclassified:
        if label:
            found.setdefault(label, []).append(piece)
    fields = {name: clip(" ".join(parts)) for name, parts in found.items() if name in DETAILS and parts}
    return Understood(fields=fields, unclassified=tuple(p for p, label in unclassified if not label),
                      labelled=frozenset(labelled & set(fields)))


def merge(
    *, current: dict[str, str], understood: Understood, pending: Sequence[str], appendable: Sequence[str] = (),
    guessed: Sequence[str] = (),
) -> dict[str, str]:
    """The field values to store after one message: the pending details it gives; for `appendable`
    details that already hold something, its text added after theirs — except that a detail the
    message names with a label ("Actual: …") replaces a value the bot only `guessed` from the report.
    A value a person gave is only ever added to (the caller leaves it out of `guessed`)."""
    out: dict[str, str] = {}
    for name, value in understood.fields.items():
        have = current.get(name)
        if name in pending and not have:
            out[name] = value
        elif have and value.lower() in have.lower():
            continue                                  # said already
        elif have and name in understood.labelled and name in guessed:
            out[name] = value
        elif have and (name in appendable or name in pending):
            out[name] = clip(f"{have} {value}")
    return out
