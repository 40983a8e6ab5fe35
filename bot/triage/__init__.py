"""Triage for Hypercare: turn a war-room message (or an issue body) into a ticket draft.

Pure functions, standard library only at runtime: no Slack, Bolt or database imports.

    >>> t = triage(text="Login fails with 502 since the deploy")
    >>> t.is_report, t.category, t.severity
    (True, 'bug', 'high')
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.triage.category import CATEGORIES, choose_category
from bot.triage.chatter import is_chatter
from bot.triage.extract import DETAILS, OB_HINT_P, analyse, extract_fields
from bot.triage.model import detail_weights
from bot.triage.severity import BUG_LIKE, SEVERITIES, severity_for
from bot.triage.text import collapse_ws, escape_mrkdwn, mask_pii, neutralize_mentions, neutralize_pings, slack_to_text, strip_html_comments

__all__ = [
    "CATEGORIES", "SEVERITIES", "DETAILS", "Triage", "triage", "slack_to_text", "mask_pii",
    "neutralize_mentions", "neutralize_pings", "escape_mrkdwn", "severity_for", "make_title", "prepare_input", "details_needed", "BUG_LIKE",
]

TITLE_MAX = 120
ANALYSE_CHARS = 8000         # long issue bodies: details are looked for in the first 8k chars


@dataclass(frozen=True)
class Triage:
    is_report: bool
    category: str
    severity: str
    title: str
    description: str
    fields: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(DETAILS))
    missing: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


_USER_ID = re.compile(r"<@[UW][A-Z0-9]+>")
_MD_LINE = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*•]\s+|\d{1,2}[.)]\s+)")
_MD_INLINE = re.compile(r"(\*\*|__|`+)")
_SKIP_LINE = re.compile(r"^\W*$|^```|^<!--|^(?:hi|hey|hello|hi all|hi team|hey team|hello team|"
                        r"good (?:morning|afternoon|evening)(?: \w+)?)\W*$", re.I)


def _cut(text: str, limit: int = TITLE_MAX) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    if cut < limit // 2:
        cut = limit - 1
    return text[:cut].rstrip(" ,;:-—–(") + "…"


def make_title(text: str, *, title: str | None = None) -> str:
    """One clean line: the given title, else the first meaningful sentence; no markup, no ids, no PII."""
    return _title_from(mask_pii(slack_to_text(_title_source(text, title))), title)


def _title_source(text: str, title: str | None) -> str:
    """The line a title is made from: the given title, else the first meaningful line of the text."""
    if title and title.strip():
        return title
    for line in (strip_html_comments(text) if "<!--" in text else text).splitlines():
        if _SKIP_LINE.match(line.strip()) or not _USER_ID.sub("", line).strip(" :,"):
            continue
        return line
    return text


def _title_from(plain: str, title: str | None) -> str:
    """make_title's clean-up of the chosen line, already as plain masked text."""
    plain = _USER_ID.sub(" ", plain)
    plain = _MD_INLINE.sub("", _MD_LINE.sub("", plain))
    plain = collapse_ws(plain).strip(" :,-—–")
    if not title:
        m = re.search(r"(?<=[.!?])\s+(?=[A-Z])", plain)     # first sentence of a chat message
        if m and m.start() >= 15:
            plain = plain[: m.start()].removesuffix(".")   # a title, not a sentence ("?" and "!" stay)
    return _cut(plain) or "Untitled report"


def prepare_input(*, text: str, title: str | None = None) -> tuple[str, str | None]:
    """(description, title) as triage analyses them: Slack markup to text, PII masked.
    bench/train_triage_model.py trains on exactly this, so training and runtime see the same text."""
    masked, masked_title = _prepare(text, title)
    return masked.strip(), masked_title


def _prepare(text: str, title: str | None) -> tuple[str, str | None]:
    """prepare_input before the description is stripped (make_title may use the whole text)."""
    return mask_pii(slack_to_text(text or "")), (mask_pii(slack_to_text(title)) if title else None)


def triage(*, text: str, title: str | None = None, affected_count: int = 1) -> Triage:
    """Triage one report. `title` is for GitHub-style input (title + body); chat passes text only."""
    text = text or ""
    masked, masked_title = _prepare(text, title)
    description = masked.strip()                  # = prepare_input(text=text, title=title)
    # make_title's line is often the given title or the whole (one-line) text, masked just above
    source = _title_source(text, title)
    plain_title = _title_from(masked_title if source is title else masked if source == text
                              else mask_pii(slack_to_text(source)), title)
    chatter = title is None and is_chatter(description)
    if chatter:
        return Triage(is_report=False, category="question", severity="low", title=plain_title,
                      description=description, fields=dict.fromkeys(DETAILS), missing=[],
                      reasons=["not a report: chatter (acknowledgement, greeting, emoji or social talk)"])

    body = description[:ANALYSE_CHARS]
    an = analyse(body, title=masked_title)
    observed = len([i for i in an.said("ob") if i > 0 or not an.titled])
    title_observed = an.titled and bool(an.said("ob")[:1] == [0])
    category, reasons = choose_category(text=body, title=masked_title, observed=observed,
                                        title_observed=title_observed, hints_observed=bool(an.said("ob", OB_HINT_P)))
    fields = extract_fields(body, title=masked_title, weights=detail_weights(), analysis=an)
    severity, sev_reasons = severity_for(category=category, text=(masked_title or "") + "\n" + body,
                                         affected_count=max(1, affected_count))
    missing = [d for d in details_needed(category) if fields[d] is None]
    if missing:
        reasons = reasons + sev_reasons + [f"missing for this {category} report: {', '.join(missing)}"]
    else:
        reasons = reasons + sev_reasons
    return Triage(is_report=True, category=category, severity=severity, title=plain_title,
                  description=description, fields=fields, missing=missing, reasons=reasons)


def details_needed(category: str) -> tuple[str, ...]:
    """Which reproduction details a report of this category needs (requests and questions: none)."""
    return DETAILS if category in BUG_LIKE else ()
