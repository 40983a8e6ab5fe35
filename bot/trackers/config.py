"""Which trackers are configured, and where a channel's tickets go (`/hc tracker`)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from bot.errors import UserInputError
from bot.runtime.settings import Settings
from models.tables import SEVERITIES
from models.tracker_tables import TRACKERS, TrackerChannel

NAMES = {"github": "GitHub", "jira": "Jira", "linear": "Linear"}
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,19}$")


@dataclass(frozen=True)
class Target:
    tracker: str
    target: str

    @property
    def label(self) -> str:
        return f"{NAMES[self.tracker]} {self.target}"


def configured(settings: Settings) -> list[str]:
    """Trackers with credentials, in the order a default is picked."""
    found = []
    if settings.github_token:
        found.append("github")
    if settings.jira_url and settings.jira_api_token:
        found.append("jira")
    if settings.linear_api_key:
        found.append("linear")
    return found


def default_target(settings: Settings, tracker: str | None = None) -> Target | None:
    defaults = {"github": settings.github_repo, "jira": settings.jira_project, "linear": settings.linear_team}
    for name in [tracker] if tracker else configured(settings):
        if name in configured(settings) and defaults.get(name):
            return Target(tracker=name, target=str(defaults[name]))
    return None


def channel_config(session: Session, *, team_id: str, channel: str | None) -> TrackerChannel | None:
    return session.get(TrackerChannel, (team_id, channel)) if channel else None


def target_for(session: Session, settings: Settings, *, team_id: str, channel: str | None) -> Target | None:
    """The channel's own target, else the configured default; None when nothing is set up."""
    own = channel_config(session, team_id=team_id, channel=channel)
    if own is not None and own.tracker and own.target and own.tracker in configured(settings):
        return Target(tracker=own.tracker, target=own.target)
    return default_target(settings)


def parse_target(settings: Settings, words: list[str], *, usage: str) -> Target:
    """`github acme/shop`, `jira SHOP`, `linear ENG`, or just `github` (its configured default)."""
    tracker = words[0].lower() if words else ""
    if tracker not in TRACKERS:
        raise UserInputError(f"“{words[0] if words else ''}” is not a tracker I know. Use github, jira or linear.", usage=usage)
    if tracker not in configured(settings):
        raise UserInputError(not_configured_text(tracker), usage=usage)
    if len(words) < 2:
        found = default_target(settings, tracker)
        if found is None:
            raise UserInputError(f"Say which {NAMES[tracker]} {'repository' if tracker == 'github' else 'project' if tracker == 'jira' else 'team'} (no default is configured).", usage=usage)
        return found
    target = words[1]
    if tracker == "github" and not _REPO.match(target):
        raise UserInputError(f"“{target}” is not a repository: name it owner/name, e.g. acme/shop.", usage=usage)
    if tracker != "github" and not _KEY.match(target):
        raise UserInputError(f"“{target}” is not a {NAMES[tracker]} key: use the short key, e.g. {'SHOP' if tracker == 'jira' else 'ENG'}.", usage=usage)
    return Target(tracker=tracker, target=target.upper() if tracker != "github" else target)


def not_configured_text(tracker: str) -> str:
    need = {"github": "HYPERCARE_GITHUB_TOKEN (and HYPERCARE_GITHUB_REPO for a default)",
            "jira": "HYPERCARE_JIRA_URL, HYPERCARE_JIRA_API_TOKEN (HYPERCARE_JIRA_EMAIL on Cloud) and HYPERCARE_JIRA_PROJECT",
            "linear": "HYPERCARE_LINEAR_API_KEY (and HYPERCARE_LINEAR_TEAM for a default)"}[tracker]
    return f"{NAMES[tracker]} is not connected. An admin sets {need} and restarts Hypercare (see docs/trackers.md)."


def parse_auto(word: str, *, usage: str) -> str:
    """`critical,high` | `all` | `off` → what TrackerChannel.auto stores."""
    word = word.lower().strip()
    if word in ("off", "none", "no"):
        return ""
    if word == "all":
        return "all"
    wanted = [w.strip() for w in word.split(",") if w.strip()]
    bad = [w for w in wanted if w not in SEVERITIES]
    if not wanted or bad:
        raise UserInputError(f"“{', '.join(bad) or word}” is not a severity. Use severities (critical,high), all or off.", usage=usage)
    return ",".join(s for s in SEVERITIES if s in wanted)


def auto_includes(auto: str, severity: str) -> bool:
    return auto == "all" or (bool(auto) and severity in auto.split(","))
