"""What an issue in a tracker says about a ticket: plain data, rendered per tracker by the clients.

The report is already masked (bot.triage.mask_pii at intake); it is masked again here, cheaply, in
case a detail came in some other way. Text people typed never mentions anyone in the tracker:
an `@` is broken with a zero-width space (a GitHub `@name` would notify that person).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.triage import mask_pii
from models.tables import Ticket

SECTIONS = (("steps", "Steps to reproduce"), ("expected", "Expected"), ("actual", "Actual"), ("environment", "Environment"))
CATEGORY_LABEL = {
    "bug": "Bug", "performance": "Performance", "usability": "Usability", "integration": "Integration",
    "data": "Data", "documentation": "Documentation", "feature_request": "Feature request", "question": "Question",
}
# Severity → each tracker's priority (documented in docs/trackers.md).
JIRA_PRIORITY = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low"}
LINEAR_PRIORITY = {"critical": 1, "high": 2, "medium": 3, "low": 4}  # Linear: 1 urgent … 4 low
def priorities(raw: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """`critical=P1,high=P2` over the defaults (numbers stay numbers, for Linear)."""
    found = dict(defaults)
    for pair in (p for p in raw.split(",") if "=" in p):
        severity, name = (part.strip() for part in pair.split("=", 1))
        if severity in found and name:
            found[severity] = int(name) if name.isdigit() else name
    return found


def labels(template: str, *, severity: str, category: str) -> list[str]:
    """The labels template (HYPERCARE_GITHUB_LABELS) filled in for one ticket."""
    return [part.strip().format(severity=severity, category=category) for part in template.split(",") if part.strip()]


_SLACK_MARKUP = re.compile(r"<[@#!][^>|]*(?:\|([^>]*))?>")


def marker(ticket: Ticket) -> str:
    """Written into every issue; how a retry after a crash finds the issue it already created."""
    return f"hypercare:{ticket.team_id}:{ticket.key}"


def label_marker(ticket: Ticket) -> str:
    """The marker as a Jira label (labels are exact-match searchable; no spaces or colons)."""
    return f"hypercare-{ticket.team_id}-{ticket.key}"


def plain(text: str | None, *, limit: int = 5000) -> str:
    """User text made fit for a tracker: masked, Slack mentions named, nobody pinged there."""
    cleaned = _SLACK_MARKUP.sub(lambda m: m.group(1) or "someone", mask_pii(text or ""))
    cleaned = cleaned.replace("@", "@\u200b")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


@dataclass(frozen=True)
class Issue:
    key: str
    title: str
    summary: str  # the report itself
    sections: list[tuple[str, str]]  # (heading, text) for steps / expected / actual / environment
    facts: list[tuple[str, str]]  # (name, value): severity, category, affected, Slack link, ticket
    severity: str
    category: str
    marker: str
    label_marker: str
    labels: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """GitHub and Linear: Markdown; the marker as an HTML comment plus the visible key."""
        parts = [self.summary or "_(no description)_"]
        for heading, text in self.sections:
            parts.append(f"### {heading}\n{text}")
        parts.append("\n".join(f"**{name}:** {value}" for name, value in self.facts))
        parts.append(f"<!-- {self.marker} -->")
        return "\n\n".join(parts)


def issue_for(ticket: Ticket) -> Issue:
    sections = [(heading, plain(getattr(ticket, name))) for name, heading in SECTIONS if getattr(ticket, name)]
    affected = max(1, len(ticket.affected_users))
    facts = [
        ("Severity", ticket.severity),
        ("Category", CATEGORY_LABEL.get(ticket.category, ticket.category)),
        ("Affected", f"{affected} {'person' if affected == 1 else 'people'}"),
    ]
    if ticket.permalink:
        facts.append(("Slack", ticket.permalink))
    facts.append(("Hypercare ticket", ticket.key))
    return Issue(
        key=ticket.key, title=plain(f"{ticket.title} ({ticket.key})", limit=250), summary=plain(ticket.description),
        sections=sections, facts=facts, severity=ticket.severity, category=ticket.category,
        marker=marker(ticket), label_marker=label_marker(ticket),
        labels=[f"severity:{ticket.severity}", f"category:{ticket.category}", "hypercare"],
    )
