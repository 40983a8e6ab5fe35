"""Reproduction details: steps, expected, actual, environment.

Labelled sections ("### Steps To Reproduce", "Expected: …"), numbered lists and cue sentences
(Chaparro et al. 2017 style) give candidate spans. Whether a report *has* steps / expected
behaviour is decided by a small logistic model over the cue features (weights trained by
bench/train_triage_model.py, shipped in category_model.json.gz), so it is the same decision the
quality bench measures. Stdlib only.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import bot.triage.patterns as P
from bot.triage.chatter import PROBLEM
from bot.triage.cues import CUE_CHARS, UNIT_CHARS, cues_per_unit
from bot.triage.model import logit, score_sentences
from bot.triage.environment import ENV_CHARS, environment
from bot.triage.text import clip as _clip

__all__ = ["DETAILS", "Analysis", "analyse", "detail_features", "extract_fields"]

DETAILS = ("steps", "expected", "actual", "environment")
CHAT_UNITS = 3
MAX_UNITS = 80             # long logs/stack traces: cues are looked for in the first 80 units
SENTENCE_P = 0.5           # a unit "says" OB / EB / S2R when the sentence model gives p >= this
SCORED_UNITS = 16         # the sentence model reads at most this many units (title included)
# Below this a one-line message reads as no statement of behaviour at all ("cursor control",
# "3D SSIM"), where "the sidebar flickers on scroll" (p 0.19) still hints at one.
OB_HINT_P = 0.12
_LOGIT = {p: logit(p) for p in (OB_HINT_P, 0.3, 0.5, 0.7)}

_OB = re.compile(
    r"\b(?:instead|but (?:i|it|we|the|now|nothing|this|that|get|shows?|returns?|only)|actual(?:ly)?|"
    r"error|exception|traceback|crash(?:es|ed|ing)?|fail(?:s|ed|ing|ure)?|doesn'?t|does not|don'?t|"
    r"didn'?t|isn'?t|is not|won'?t|can'?t|cannot|unable|broken|nothing happens|not working|stuck|"
    r"hangs?|freez\w+|blank|wrong|incorrect|missing|shows?|displays?|returns?|throws?|does nothing|"
    r"(?:is|are|so|too|very|really) slow|takes? \d+ ?(?:s|ms|sec|secs|seconds|minutes?)\b|get(?:s|ting)? "
    r"(?:an?|the)?\s*(?:error|\d{3}))\b|\b[45]\d\d\b|\berr_[a-z_]+|\b(?:type|value|key|index|attribute|"
    r"runtime|syntax|reference|name|import|assertion|os|io)error\b", re.I)
_OB_CLAUSE = re.compile(r"\b(?:instead|but)\b[^.;\n—–]*", re.I)
_CLAUSE_SPLIT = re.compile(r"\s+[—–]\s+|\s+-\s+|;\s*|,\s*(?=(?:but|instead|and|expected|expecting|"
                           r"should|it|i|we)\b)|\s+(?=(?:but|instead|whereas)\b)", re.I)
_MD_HEADING = re.compile(r"#{1,6}\s")
_BOLD_LINE = re.compile(r"\*\*[^*]{1,80}\*\*:?")
# "…, expected: 200" starts a new line. The mark before the space is matched and put back (a
# pattern that starts with a lookbehind for it makes `re` try every position: 2x slower).
_INLINE_LABEL = re.compile(r"[.;,!)|]\s+(?=(?:expected|actual|steps|environment|env|observed|result)"
                           r"(?: \w+)?\s*:)", re.I)


@dataclass
class Analysis:
    """Units of a report and the cue features it fires."""
    units: list[str] = field(default_factory=list)
    cues: list[list[str]] = field(default_factory=list)       # cue names per unit
    sections: dict[str, str] = field(default_factory=dict)    # labelled/heading sections
    list_items: list[str] = field(default_factory=list)
    enum_span: str | None = None
    features: dict[str, float] = field(default_factory=dict)
    titled: bool = False                                      # units[0] is the title
    sentences: list[dict[str, float]] | None = None           # per scored unit: log-odds of ob, eb, s2r

    def said(self, label: str, threshold: float = SENTENCE_P) -> list[int]:
        """Units the sentence model reads as `label` (ob / eb / s2r) with p >= threshold."""
        z = _LOGIT[threshold]
        return [i for i, p in enumerate(self.sentences or ()) if p[label] >= z]


_ENUM_ONE = re.compile(r"1[.)]\s+\S")


def _enum_start(text: str) -> int | None:
    """Where the first "1. …" / "(1) …" item starts: at the text's start or after a space or colon.
    (A search for the "1" with the context checked here: a pattern starting with a lookbehind
    makes `re` try every position.)"""
    m = _ENUM_ONE.search(text)
    while m is not None:
        at = m.start()
        if at and text[at - 1] == "(":
            at -= 1
        if at == 0 or text[at - 1].isspace() or text[at - 1] == ":":
            return at
        m = _ENUM_ONE.search(text, m.start() + 1)    # matches may overlap ("a1) 1. b")
    return None


def _enum_span(text: str) -> str | None:
    start = _enum_start(text)
    if start is None or not P.has_inline_enum(text[start:]):
        return None
    rest = text[start:]
    items = list(re.finditer(r"(?:^|(?<=\s))\(?[1-9][.)]\s+", rest))
    last = items[-1].end()
    tail = re.search(r"\s+[—–]\s+|\s+-\s+|;|\.\s|\n\n|,?\s+(?:but|instead|expected|expecting|should|"
                     r"it should|and then it|result:)\b", rest[last:], re.I)
    return rest[: last + tail.start()] if tail else rest


def _label_break(m: re.Match[str]) -> str:
    return m.group(0)[0] + "\n"


def analyse(text: str, *, title: str | None = None) -> Analysis:
    body = _INLINE_LABEL.sub(_label_break, P.clean_body(text))
    an = Analysis()
    an.titled = bool(title and title.strip())
    current: str | None = None
    units: list[str] = [title.strip()] if title and title.strip() else []
    run: list[str] = []
    for line in P.split_lines(body):
        head = P.heading_field(line)
        if head:
            current = head
            continue
        if line[:1] in "#*" and (_MD_HEADING.match(line) or _BOLD_LINE.fullmatch(line)):
            current = None                        # some other heading ends the section
            continue
        lab = P.label_field(line)
        if lab:
            name, rest = lab
            an.sections.setdefault(name, rest)
            current = "steps" if name == "steps" else None    # a steps label may go on over lines
        elif current:
            sec = an.sections.get(current, "")
            if len(sec) < 2000 and line.lower() not in ("_no response_", "n/a", "none", "-"):
                an.sections[current] = (sec + "\n" + line).strip()
        if P.is_list_item(line):
            run.append(line)
        elif run:
            if len(run) >= 2 and not an.list_items:
                an.list_items = run
            run = []
        units.extend(P.split_sentences(line))
    if len(run) >= 2 and not an.list_items:
        an.list_items = run
    an.enum_span = _enum_span(body) if len(body) < 4000 else None
    an.units = units[:MAX_UNITS]
    units = an.units
    an.cues = cues_per_unit(units) if units else []
    an.sentences = score_sentences(_scored_units(units)) if units else None
    if an.titled and P.TITLE_IMPERATIVE.match(units[0]):
        an.cues[0].append("eb_imperative")
    an.features = _features(an)
    return an


# cue patterns (and the title imperative, the word cues as patterns) by name: which words of a
# unit made a cue fire, for picking the clause to show
_EB_ALL = {**P.EB_CUES, **P.EB_IMPLICIT, **P.EB_COUNTER, "eb_imperative": P.TITLE_IMPERATIVE,
           **{k: re.compile(r"\b(?:" + "|".join(sorted(v)) + r")\b") for k, v in P.EB_IMPLICIT_WORDS.items()}}


def _scored_units(units: list[str]) -> list[str]:
    """The units the sentence model reads: those that start within the cue window (the cost of
    scoring grows with the units; the evidence sits at a report's start)."""
    out: list[str] = []
    used = 0
    for unit in units:
        if used >= CUE_CHARS or len(out) >= SCORED_UNITS:
            break
        out.append(unit[:UNIT_CHARS])
        used += min(len(unit), UNIT_CHARS) + 1
    return out


def _features(an: Analysis) -> dict[str, float]:
    feats: dict[str, float] = {}
    for cues in an.cues:
        for c in cues:
            feats[c] = feats.get(c, 0.0) + 1.0
    out = {k: 1.0 for k in feats}
    out.update({k + "#2": 1.0 for k, v in feats.items() if v >= 2})
    out.update({k + "#4": 1.0 for k, v in feats.items() if v >= 4})
    if an.titled and an.cues:                 # a title "X does not work" often stands for the EB
        for c in an.cues[0]:
            if c.startswith("eb_"):
                out["t_" + c] = 1.0
    for name in an.sections:
        out["sec_" + name] = 1.0
    n_items = len(an.list_items)
    if n_items >= 2:
        out["list2"] = 1.0
        imper = sum(1 for it in an.list_items if P.S2R_CUES["s2r_imperative"].search(it))
        if imper:
            out["list_imperative"] = 1.0
    if n_items >= 3:
        out["list3"] = 1.0
    if an.enum_span:
        out["inline_enum"] = 1.0
    n = len(an.units)
    out["len_%d" % min(4, int(math.log2(n + 1)))] = 1.0
    if an.sentences:
        start = 1 if an.titled else 0
        for label in ("ob", "eb", "s2r"):
            top = max((p[label] for p in an.sentences[start:]), default=-99.0)
            for cut in (0.3, 0.5, 0.7):
                if top >= _LOGIT[cut]:
                    out[f"sent_{label}>{cut}"] = 1.0
            if len([i for i in an.said(label) if i >= start]) >= 2:
                out[f"sent_{label}#2"] = 1.0
    return out


def detail_features(text: str, *, title: str | None = None) -> dict[str, float]:
    """The feature dict the learned presence models score (used by training and runtime alike)."""
    return analyse(text, title=title).features


def _prob(weights: dict[str, float] | None, feats: dict[str, float]) -> float | None:
    if not weights:
        return None
    z = weights.get("__bias__", 0.0) + sum(weights.get(k, 0.0) * v for k, v in feats.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _best_unit(an: Analysis, prefix: str, weights: dict[str, float] | None,
               skip: set[int] | None = None) -> tuple[int, str] | None:
    best: tuple[float, int] | None = None
    for i, cues in enumerate(an.cues):
        if skip and i in skip:
            continue
        own = [c for c in cues if c.startswith(prefix)]
        if not own:
            continue
        score = sum((weights or {}).get(c, 1.0) for c in own) - 0.001 * i
        if score > 0 and (best is None or score > best[0]):
            best = (score, i)
    return (best[1], an.units[best[1]]) if best else None


def _present(an: Analysis, prefix: str, weights: dict[str, float] | None, strong: frozenset[str],
             *, chat: bool, skip: int) -> tuple[int, str] | None:
    """The unit that shows a detail is there, or None. With a presence model: the model decides
    and the best-scoring cue unit is the span; in a chat message an explicit cue (`strong`) also
    counts. Without a model: explicit cues only."""
    p = _prob(weights, an.features)
    if p is None and an.sentences:
        # no report-level presence model: the sentence model (trained on sentence labels from
        # other reports) decides, and the unit it is surest of is the span
        label = prefix.rstrip("_")
        said = [i for i in an.said(label) if i >= skip]
        if said:
            best_i = max(said, key=lambda i: an.sentences[i][label])   # type: ignore[index]
            return best_i, an.units[best_i]
        if not chat:
            return None        # the sentence model alone decides for a full report
    if p is not None and p >= (weights or {}).get("__threshold__", 0.5):
        best = _best_unit(an, prefix, weights, skip=set(range(skip)))
        if best:
            return best
        if prefix == "eb_":
            # the model says the report states expected behaviour, but only implicitly (no cue
            # unit scores > 0): the first unit with any EB cue, else the title, is the span
            for i, cues in enumerate(an.cues):
                if any(c.startswith(prefix) and c not in P.EB_COUNTER for c in cues):
                    return i, an.units[i]
            if an.units:
                return 0, an.units[0]
    if p is None or chat:
        for i, cues in enumerate(an.cues):
            if i >= skip and not strong.isdisjoint(cues):
                return i, an.units[i]
    return None


# Each EB cue compiled case-insensitively on its own: "does any of the unit's cues match this
# clause" is a search per cue. (It used to be one alternation per combination of cues, compiled on
# first use: ~1.5 ms per compile, paid again for every new combination a process meets; a search
# for an alternation succeeds exactly when one of its alternatives matches, so the clause is the same.)
_EB_ALL_I = {name: re.compile(rx.pattern, re.I) for name, rx in _EB_ALL.items()}


def _clause(unit: str, rxs: tuple[re.Pattern[str], ...]) -> str:
    parts = [p for p in _CLAUSE_SPLIT.split(unit) if p and p.strip()]
    for part in parts:
        if len(part.strip()) > 3 and any(rx.search(part) for rx in rxs):
            return part.strip(" ,;-—–")
    return unit


def extract_fields(text: str, *, title: str | None = None,
                   weights: dict[str, dict[str, float]] | None = None,
                   analysis: Analysis | None = None) -> dict[str, str | None]:
    """Best text span per detail, or None. `weights` holds the learned `eb`/`s2r` presence models."""
    an = analysis or analyse(text, title=title)
    weights = weights or {}
    fields: dict[str, str | None] = dict.fromkeys(DETAILS)
    sec = an.sections
    start = 1 if title and title.strip() else 0
    # The presence models were fitted on full bug reports; in a chat message of a sentence or three
    # explicit cues ("expected …", "should …", a "steps" label) count as well.
    chat = len(an.units) - start <= CHAT_UNITS

    # steps ----------------------------------------------------------------------
    if sec.get("steps"):
        fields["steps"] = _clip(sec["steps"])
    elif an.enum_span:
        fields["steps"] = _clip(an.enum_span)
    elif an.list_items and "list_imperative" in an.features:
        fields["steps"] = _clip(" ".join(an.list_items))
    elif best := _present(an, "s2r_", weights.get("s2r"), _CHAT_S2R if weights.get("s2r") else _RULE_S2R,
                          chat=chat, skip=start):
        fields["steps"] = _clip(best[1])

    # expected ---------------------------------------------------------------------
    if sec.get("expected"):
        fields["expected"] = _clip(sec["expected"])
    elif best := _present(an, "eb_", weights.get("eb"), _STRONG_EB, chat=chat, skip=0):
        rxs = tuple(_EB_ALL_I[c] for c in an.cues[best[0]] if c in _EB_ALL_I) if an.cues else ()
        fields["expected"] = _clip(_clause(best[1], rxs) if rxs else best[1])

    # actual -----------------------------------------------------------------------
    if sec.get("actual"):
        fields["actual"] = _clip(sec["actual"])
    else:
        for unit in an.units:
            low = unit.lower()
            m = _OB_CLAUSE.search(unit) if "but" in low or "instead" in low else None
            if m and len(m.group(0)) > 12:
                fields["actual"] = _clip(m.group(0).strip(" ,;"))
                break
        else:
            for unit, cues in zip(an.units, an.cues):
                if "ob" in cues and not (fields["steps"] and unit in fields["steps"]):
                    fields["actual"] = _clip(_clause(unit, (_OB,)))
                    break
            else:
                said = [i for i in an.said("ob") if i >= start]
                if said:                            # the sentence model reads observed behaviour here
                    fields["actual"] = _clip(an.units[said[0]])
                elif len(an.units) <= 3:            # a chat message: the problem it states is what happens
                    for unit in an.units:
                        if PROBLEM.search(unit):
                            fields["actual"] = _clip(unit)
                            break

    head = P.clean_body(text[:ENV_CHARS])
    fields["environment"] = environment(title + "\n" + head if title else head, section=sec.get("environment"))
    return fields


# Explicit cues. With a learned model they only decide for chat messages (CHAT_UNITS sentences or
# fewer, where the model, fitted on full bug reports, is not at home); for steps only a "steps"
# label counts there, since "when I …" alone in a short report is usually not a reproduction.
_STRONG_EB = frozenset({"eb_expect", "eb_should", "eb_supposed", "eb_label", "eb_correct", "eb_as"})
_CHAT_S2R = frozenset({"s2r_label"})
_RULE_S2R = frozenset({"s2r_label", "s2r_when_i", "s2r_i_did"})
