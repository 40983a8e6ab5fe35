"""Cue patterns for reproduction details (Chaparro et al. 2017 style) and sentence splitting.

Shared by extract.py (runtime) and bench/train_triage_model.py (which learns how much each cue
counts). Stdlib only.
"""
from __future__ import annotations

import re

from bot.triage.text import strip_html_comments


# ----------------------------------------------------------------------------- section labels
# A heading ("### Steps To Reproduce", "**Expected behavior**") or a line label ("Steps:", "STR -").
_LABEL_WORDS: dict[str, str] = {
    "steps": r"steps?(?: to reproduce| to repro| for reproduction)?|str|repro(?:duction)?(?: steps?)?|"
             r"how to reproduce|to reproduce|reproduc\w+ steps|reproducible (?:example|code)|"
             r"minimal (?:code|example|reproduction)|code (?:example|sample)|test ?case",
    "expected": r"expected(?: behaviou?r| result| results| outcome| output)?|desired behaviou?r|"
                r"what (?:did you|do you|you) expect(?:ed)?(?: to happen)?|what should happen|eb",
    "actual": r"actual(?: behaviou?r| result| results| outcome| output)?|current behaviou?r|observed"
              r"(?: behaviou?r)?|what (?:actually )?happened(?: instead)?|what happens|"
              r"error(?: message)?s?|ob",
    "environment": r"environment|env|system info(?:rmation)?|platform|versions?|os|browser|device|"
                   r"(?:app |react |node |python |tensorflow |vs ?code |opencv |bitcoin core )version|"
                   r"os(?:/| and )browser|operating system|configuration",
}
_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s*|\*\*|__)\s*(.{1,80}?)\s*(?:\*\*|__)?\s*:?\s*$")
_LABEL_LINE = {
    k: re.compile(r"^\W{0,4}(?:" + v + r")\s*(?::|-\s|–|—|\?)\s*", re.I) for k, v in _LABEL_WORDS.items()
}
_HEADING_WORD = {k: re.compile(r"^(?:" + v + r")\b", re.I) for k, v in _LABEL_WORDS.items()}

# ----------------------------------------------------------------------------- sentence cues
# All cue patterns are written in lower case: extract.py scans lower-cased text with them
# compiled without re.I (about 3x faster than case-insensitive matching).
EB_CUES: dict[str, re.Pattern[str]] = {
    "eb_expect": re.compile(r"\bexpect(?:ed|s|ing|ation|ations)?\b", re.I),
    "eb_should": re.compile(r"\bshould(?:n'?t| not)?\b", re.I),
    "eb_would_like": re.compile(
        r"\b(?:would|i'?d|we'?d) (?:like|love|prefer|want|expect|rather)\b|\bwish\b", re.I),
    "eb_would_be": re.compile(
        r"\b(?:it|that|this) (?:would|will|'d|could) be\b|\bwould be (?:nice|great|good|better|"
        r"useful|helpful|ideal|preferable|correct)\b|\bideally\b", re.I),
    "eb_supposed": re.compile(r"\b(?:supposed|meant|intended|designed) to\b|\bought to\b", re.I),
    "eb_instead": re.compile(r"\binstead of\b|\brather than\b", re.I),
    "eb_need": re.compile(r"\b(?:needs?|has|have) to\b|\bmust\b|\bshall\b|\brequire[sd]?\b", re.I),
    "eb_want": re.compile(r"\b(?:i|we|users?) (?:want|need)s?\b|\bwant(?:s|ed)? (?:to|it|the|a)\b", re.I),
    "eb_correct": re.compile(
        r"\b(?:correct|proper|desired|right|normal|intended|same|consistent) (?:behaviou?r|result|"
        r"output|value|way|response|order)\b|\bcorrectly\b|\bproperly\b", re.I),
    "eb_able": re.compile(r"\bbe able to\b|\ballow(?:s|ed|ing)? (?:me|us|the user|users|you|to)\b|"
                          r"\bthere (?:is|should be) (?:no|a) way\b", re.I),
    "eb_worked": re.compile(r"\bused to\b|\bworked (?:fine|well|correctly|before|in|on)\b|\bpreviously\b|"
                            r"\bworks (?:fine|well|correctly|as expected) (?:in|on|with)\b", re.I),
    "eb_please": re.compile(r"\bplease\b|\b(?:could|can) (?:you|we|it|this)\b|\bsuggest", re.I),
    "eb_as": re.compile(r"\bas (?:expected|intended|documented|described|specified)\b|"
                        r"\bper (?:the )?spec", re.I),
    "eb_label": re.compile(r"^\W{0,4}(?:" + _LABEL_WORDS["expected"] + r")\s*(?::|-\s|–|—)", re.I),
}
# Implicit expected behaviour (Chaparro et al. 2017 found that coders often read EB into an
# observed-behaviour sentence that states a negated function, "X does not work / is not
# displayed", a regression, a wrong or missing result, a suggested fix or a comparison). These are
# evidence for the learned `eb` model, which weighs them; on their own they decide nothing.
EB_IMPLICIT: dict[str, re.Pattern[str]] = {
    "eb_neg_func": re.compile(
        r"(?:n't|\bnot|\bcannot|\b(?:doesnt|dont|isnt|arent|wont|cant|didnt)) (?:being )?(?:work|display|show|"
        r"appear|render|load|save|update|reflect|respect|honou?r|include|contain|support|recogni[sz]e|return|"
        r"get|allow|produce|open|close|start|fire|trigger|find|accept|handle|apply|pass|match|visible|"
        r"available|called|sent|set|found)\w*\b", re.I),
    "eb_regress": re.compile(r"\b(?:any ?more|no longer|worked|works (?:fine|well|ok|correctly)|regression|"
                             r"used to)\b", re.I),
    "eb_suggest": re.compile(r"\b(?:suggest\w*|recommend\w*|propos\w+|solution|fix (?:is|would)|patch|better|"
                             r"it'd be|itd be|would be|could be|change (?:it |this |that )?to|replace\w* "
                             r"(?:with|by)|remove|add(?:ed)? (?:back|support)|consider)\b", re.I),
    "eb_question": re.compile(r"\?\s*$", re.I),
    "eb_and_not": re.compile(r"\band not\b|\bnot\b[^.\n]{1,40}\bbut\b", re.I),
    # "why doesn't it …" states what the reporter expected (Chaparro et al.'s "why" + negation)
    "eb_why_neg": re.compile(r"\bwhy\b[^.?\n]{0,60}(?:n't|\bnot\b)", re.I),
    # a part or another setting that works: the comparison implies how the broken one should behave
    "eb_fine": re.compile(r"\b(?:works?|worked|working|runs?|ran) (?:just )?(?:fine|great|perfectly|ok|okay|well|"
                          r"correctly)\b", re.I),
}
# Cues that an explicit-looking EB word is really describing observed behaviour; the model learns
# how much they take away: "is not displayed correctly" (a negated manner adverb), "X works as
# expected" (about some other, working part), test logs ("got 3, expected 4", "TEST-UNEXPECTED-FAIL").
EB_COUNTER: dict[str, re.Pattern[str]] = {
    "eb_neg_correct": re.compile(r"(?:n't|\bnot|\bnever)\b[^.\n]{0,40}\b(?:correctly|properly|right)\b", re.I),
    "eb_as_expected": re.compile(r"(?<!not )\b(?:works?|worked|working|behaves?|is|are|was|were) (?:fine |correctly |"
                                 r"properly )?as expected\b", re.I),
    "eb_test_log": re.compile(r"\bgot\b[^.\n]{0,80}\bexpected\b|\btest-|\bunexpected\b", re.I),
}
# A title that starts with an imperative ("Add …", "Allow …", "Remove …") states the desired
# behaviour itself (Chaparro et al. 2017 apply their imperative pattern to titles only).
TITLE_IMPERATIVE = re.compile(
    r"^\W*(?:\[[^\]]*\]\s*)*(?:add|allow|make|update|remove|support|use|change|provide|show|display|enable|"
    r"disable|implement|improve|create|move|rename|fix|avoid|prevent|do not|don't|need|please|let|ensure|"
    r"expose|deprecate|document|clarify|include|return|handle|respect|honou?r|ignore|set|open|keep)\b", re.I)
EB_GATES: dict[str, frozenset[str]] = {
    "eb_neg_func": frozenset("""not cannot doesn't don't isn't aren't won't can't didn't doesnt dont isnt arent wont
        cant didnt""".split()),
    "eb_regress": frozenset("any anymore longer worked works regression used".split()),
    "eb_suggest": frozenset("""suggest suggests suggested suggesting suggestion suggestions recommend recommends
        recommended recommending recommendation recommendations propose proposes proposed proposing proposal
        proposals solution fix patch better it'd itd would could change replace replaces replaced replacing
        remove add added consider""".split()),
    "eb_and_not": frozenset(["not"]),
    "eb_why_neg": frozenset(["why"]),
    "eb_fine": frozenset("work works worked working run runs ran".split()),
    # counter cues: a word that every match contains
    "eb_neg_correct": frozenset("correctly properly right".split()),
    "eb_as_expected": frozenset(["expected"]),
    "eb_test_log": frozenset("got test unexpected".split()),
}
# single-word implicit cues: tested as word sets on each unit's words (faster than a regex scan)
EB_IMPLICIT_WORDS: dict[str, frozenset[str]] = {
    "eb_missing": frozenset("missing absent lost gone disappear disappears disappeared disappearing".split()),
    "eb_wrong": frozenset("""wrong wrongly incorrect incorrectly mistaken mistakenly improper improperly invalid bad
        inaccurate inconsistent opposite backwards unexpected unexpectedly erroneous erroneously bogus""".split()),
    "eb_than": frozenset("than unlike whereas differ differs different differently difference compared".split()),
    "eb_fail": frozenset("""fail fails failed failing failure unable broken crash crashes crashed crashing
        error""".split()),
}

_IMPERATIVE = (
    "open|click|go|navigate|type|enter|select|press|create|run|launch|install|start|load|visit|tap|add|"
    "delete|remove|set|choose|right-click|double-click|drag|close|restart|save|use|make|put|try|call|"
    "build|compile|execute|invoke|import|configure|change|edit|insert|write|define|upload|download|"
    "log ?in(?! (?:fails?|failed|is|page|button|screen|broken|does|doesn|not))|sign (?:in|up|out)|"
    "switch|scroll|hover|move|copy|paste|check|uncheck|enable|disable|toggle|fill|"
    "submit|refresh|reload|browse|point|send|apply|drop|attach|put|resize|rename|import|export|"
    "hit|wait|observe|notice|see|note|follow|do|place|search|pick|update|upgrade|expand|collapse"
)
S2R_CUES: dict[str, re.Pattern[str]] = {
    "s2r_label": re.compile(r"\b(?:steps?|to reproduce|repro(?:duce|duction|ducible|ducing)?|"
                            r"str(?=\s*[:-]))\b",
                            re.I),
    "s2r_imperative": re.compile(r"^\W{0,6}(?:\d+[.)]?\s+|[-*•]\s+)?(?:then |and |now |next |first |"
                                 r"finally |just )?(?:" + _IMPERATIVE + r")\b(?! (?:to|that|you)\b)", re.I),
    "s2r_when_i": re.compile(r"\b(?:when|whenever|if|after|once|while|before) (?:i|you|we|the user|a user|"
                             r"users?|one|someone)\b", re.I),
    "s2r_when_ing": re.compile(r"\b(?:when|after|while|by|upon|before) (?:\w+ing)\b", re.I),
    "s2r_i_did": re.compile(
        r"\bi(?:'ve| have)? (?:just )?(?:clicked|opened|went|tried|navigated|typed|selected|pressed|"
        r"created|ran|run|installed|started|loaded|visited|added|deleted|set|chose|changed|entered|"
        r"used|launched|restarted|saved|closed|dragged|upgraded|updated|downloaded|configured|"
        r"compiled|executed|called|put|wrote|made|removed|moved|copied|pasted|imported|exported|"
        r"enabled|disabled|switched|logged|signed|uploaded|followed|attempted|defined|do|did)\b", re.I),
    "s2r_then": re.compile(r"\b(?:then|afterwards|subsequently|finally)\b|\bnext,", re.I),
    "s2r_menu": re.compile(r"->|=>|→| > (?=\w)|\b(?:menu|dialog|tab|button)\b", re.I),
    "s2r_code": re.compile(r"[;{}]\s*$|^\s*(?:import|public|private|class|def|function|var|let|const|"
                           r"#include|<\w+[ >]|\$ |> |c:\\|\w+\([^()\n]{0,80}\)\s*;?$)", re.I),
    "s2r_example": re.compile(r"\b(?:test ?case|testcase|example|sample|snippet|attached|attachment|"
                              r"the following|following (?:code|config|html|page|url|steps)|simple (?:app|"
                              r"project|page|program))\b|\bhere is\b|\bbelow\b", re.I),
    "s2r_url": re.compile(r"https?://|www\.\w", re.I),
    "s2r_config": re.compile(r"\.(?:conf|xml|html?|js|java|py|cpp|htaccess|ini|json|ya?ml)\b", re.I),
}
_NUMBERED = re.compile(r"^\s*(?:\d{1,2}\s*[.):-]|\d{1,2}\s+(?=[A-Za-z])|[-*•]\s+|\(\d{1,2}\)\s*|"
                       r"step \d+)", re.I)
_INLINE_ENUM = re.compile(r"(?:^|\s|:)\(?([1-9])[.)]\s+\S.*?\s\(?([2-9])[.)]\s+\S", re.S)


def clean_body(text: str) -> str:
    """Drop HTML comments (issue-template hints) and normalise line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<!--" in text:
        text = strip_html_comments(text)
    return text


# Sentences end at a run of spaces after . ! ? and before a capital, quote or bracket, or before an
# enumerated item "2. …". Candidate gaps are found by a pattern that starts with the space (one
# that starts with a lookbehind makes `re` try every position); the rest is checked in Python.
_SENT_GAP = re.compile(r"\s+(?=[A-Z\"'(\[2-9])")
_SENT_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ\"'([")
_ENUM_NEXT = re.compile(r"\(?[2-9][.)]\s+[A-Za-z]")


def split_lines(text: str) -> list[str]:
    """Non-empty lines with code fences collapsed into one line each (long code stays one unit)."""
    lines: list[str] = []
    fence: list[str] | None = None
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped.startswith("```"):
            if fence is None:
                fence = [stripped]
            else:
                fence.append(stripped)
                lines.append(" ".join(fence)[:600])
                fence = None
            continue
        if fence is not None:
            if len(fence) < 60:
                fence.append(stripped)
            continue
        if stripped:
            lines.append(stripped)
    if fence:
        lines.append(" ".join(fence)[:600])
    return lines


def split_sentences(line: str) -> list[str]:
    if len(line) < 40 or line.startswith("```"):
        return [line]
    out: list[str] = []
    pos = 0
    for gap in _SENT_GAP.finditer(line):
        start, end = gap.span()
        if (start and line[start - 1] in ".!?" and line[end] in _SENT_START) or _ENUM_NEXT.match(line, end):
            if start > pos:
                out.append(line[pos:start])
            pos = end
    if pos < len(line):
        out.append(line[pos:])
    return out


def heading_field(line: str) -> str | None:
    """Which detail a heading or label line introduces, if any."""
    # _HEADING needs "#", "**" or "__" after the leading spaces: most lines are not tried at all
    m = _HEADING.match(line) if line.lstrip().startswith(("#", "**", "__")) else None
    if m:
        head = m.group(1).strip(" *_:#").strip()
    elif line.rstrip().endswith(":") and len(line) <= 50:
        head = line.rstrip(": ").strip(" *_-#")
    else:
        return None
    for name, rx in _HEADING_WORD.items():
        if rx.match(head):
            return name
    return None


def label_field(line: str) -> tuple[str, str] | None:
    """An inline label such as "Expected: a receipt" -> ("expected", "a receipt")."""
    if ":" not in line[:60] and "-" not in line[:60] and "—" not in line[:60] and "–" not in line[:60]:
        return None
    for name, rx in _LABEL_LINE.items():
        m = rx.match(line)
        if m and m.end() < len(line):
            return name, line[m.end():].strip()
    return None


def is_list_item(line: str) -> bool:
    return bool(_NUMBERED.match(line))


def has_inline_enum(text: str) -> bool:
    return bool(_INLINE_ENUM.search(text))
