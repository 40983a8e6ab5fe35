"""Settings from the environment (and a `.env` file), read once at start-up."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

from bot.errors import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///hypercare.db"

# Where to find each credential, so a missing one can be explained precisely.
CREDENTIAL_HELP = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) on your app's 'OAuth & Permissions' page at https://api.slack.com/apps",
    "SLACK_SIGNING_SECRET": "the Signing Secret on your app's 'Basic Information' page at https://api.slack.com/apps",
    "SLACK_APP_TOKEN": "an App-Level Token (xapp-…) with the connections:write scope, from 'Basic Information' → 'App-Level Tokens'",
}


def _env_list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name, "")
    return tuple(part.strip() for part in raw.replace(";", ",").split(",") if part.strip())


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _env_int(name: str, default: int) -> int:
    return int(_env_float(name, float(default)))


# SLA targets per severity: "<first response>/<resolution>", each a number and m, h, d or w.
SLA_DEFAULTS = {"critical": "15m/4h", "high": "1h/1d", "medium": "4h/3d", "low": "1d/7d"}
_SLA_PATTERN = re.compile(r"^\s*\d+(?:\.\d+)?\s*[mhdw]\s*/\s*\d+(?:\.\d+)?\s*[mhdw]\s*$", re.IGNORECASE)


def _env_sla(severity: str) -> str:
    name = f"HYPERCARE_SLA_{severity.upper()}"
    raw = os.environ.get(name, "").strip() or SLA_DEFAULTS[severity]
    if not _SLA_PATTERN.match(raw):
        raise ConfigError(f"{name} must look like 15m/4h (first response / resolution; m, h, d or w), got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str = DEFAULT_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 3000
    workers: int = 4
    # `hypercare run` works the queues in separate processes, so the acknowledging process never
    # waits for the GIL behind ticket work; 0 works them on threads of the same process.
    worker_processes: int = 1
    poll_interval: float = 0.5
    http_threads: int = 16
    scheduler_enabled: bool = True
    timezone: str = "UTC"
    triage_users: tuple[str, ...] = ()
    triage_usergroup: str | None = None
    triage_channel: str | None = None
    # "<first response>/<resolution>" per severity (HYPERCARE_SLA_<SEVERITY>); parsed by bot.sla.
    sla_critical: str = SLA_DEFAULTS["critical"]
    sla_high: str = SLA_DEFAULTS["high"]
    sla_medium: str = SLA_DEFAULTS["medium"]
    sla_low: str = SLA_DEFAULTS["low"]
    followup_nudge_hours: float = 4.0
    followup_max_nudges: int = 1
    # Stand-up digests: one missed while the bot was down is posted late if at most this many minutes
    # late (else skipped); the opened-vs-resolved chart needs files:write and files allowed.
    digest_grace_minutes: float = 120.0
    digest_chart: bool = True
    channel_post_interval: float = 1.0
    # How long a worker may hold a queued row before another process may take it over: the
    # longest a crash can delay a stored event or an outbox message.
    lease_seconds: float = 60.0
    # The receiver's local spool file (bot.inbox_spool): on SQLite `<database>.inbox-spool` unless
    # set; on PostgreSQL none unless set (see README, "How nothing is lost").
    inbox_spool: str | None = None
    # -- Trackers (issue 15; bot.trackers): GitHub Issues, Jira, Linear. A tracker is configured
    # when its credential is set; its default target is what `/hc push` uses without one.
    github_token: str | None = None
    github_api_url: str = "https://api.github.com"
    github_repo: str | None = None  # owner/name
    github_webhook_secret: str | None = None
    jira_url: str | None = None
    jira_email: str | None = None  # Cloud: the account's e-mail (basic auth); unset: a bearer PAT (Server/DC)
    jira_api_token: str | None = None
    jira_project: str | None = None
    jira_webhook_secret: str | None = None
    jira_issue_type: str = "Bug"  # HYPERCARE_JIRA_ISSUE_TYPE: the issue type created
    linear_api_key: str | None = None
    linear_api_url: str = "https://api.linear.app/graphql"
    linear_team: str | None = None  # the team key, e.g. ENG
    linear_webhook_secret: str | None = None
    # The severity/category mapping, overridable (docs/trackers.md): labels as a comma-separated
    # template, priorities as severity=name pairs; empty: the documented defaults.
    github_labels: str = "severity:{severity},category:{category},hypercare"
    jira_priorities: str = ""
    linear_priorities: str = ""
    tracker_sync_seconds: float = 5.0  # how often changes made in Slack are carried to the tracker
    extra: dict[str, str] = field(default_factory=dict)

    def require(self, *names: str) -> None:
        """Raise ConfigError naming the first missing credential and where to get it."""
        values = {
            "SLACK_BOT_TOKEN": self.bot_token,
            "SLACK_SIGNING_SECRET": self.signing_secret,
            "SLACK_APP_TOKEN": self.app_token,
        }
        missing = [name for name in names if not values.get(name)]
        if missing:
            lines = [f"{name} is not set: it is {CREDENTIAL_HELP[name]}." for name in missing]
            lines.append("Set it in the environment or in a .env file in this folder (see README.md).")
            raise ConfigError("\n".join(lines))


def _tracker_env() -> dict[str, object]:
    """The trackers' settings (issue 15): these names are part of the public contract."""
    def env(name: str) -> str | None:
        return os.environ.get(name, "").strip() or None

    return dict(
        github_token=env("HYPERCARE_GITHUB_TOKEN"), github_api_url=env("HYPERCARE_GITHUB_API_URL") or "https://api.github.com",
        github_repo=env("HYPERCARE_GITHUB_REPO"), github_webhook_secret=env("HYPERCARE_GITHUB_WEBHOOK_SECRET"),
        jira_url=env("HYPERCARE_JIRA_URL"), jira_email=env("HYPERCARE_JIRA_EMAIL"), jira_api_token=env("HYPERCARE_JIRA_API_TOKEN"),
        jira_project=env("HYPERCARE_JIRA_PROJECT"), jira_webhook_secret=env("HYPERCARE_JIRA_WEBHOOK_SECRET"),
        jira_issue_type=env("HYPERCARE_JIRA_ISSUE_TYPE") or "Bug",
        linear_api_key=env("HYPERCARE_LINEAR_API_KEY"), linear_api_url=env("HYPERCARE_LINEAR_API_URL") or "https://api.linear.app/graphql",
        linear_team=env("HYPERCARE_LINEAR_TEAM"), linear_webhook_secret=env("HYPERCARE_LINEAR_WEBHOOK_SECRET"),
        github_labels=env("HYPERCARE_GITHUB_LABELS") or "severity:{severity},category:{category},hypercare",
        jira_priorities=env("HYPERCARE_JIRA_PRIORITIES") or "", linear_priorities=env("HYPERCARE_LINEAR_PRIORITIES") or "",
        tracker_sync_seconds=_env_float("HYPERCARE_TRACKER_SYNC_SECONDS", 5.0),
    )


def load_settings(*, env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read settings from the environment; a `.env` file fills in what the environment lacks."""
    if env_file and Path(env_file).is_file():
        load_dotenv(env_file, override=False)
    api_url = os.environ.get("SLACK_API_URL") or DEFAULT_API_URL
    if not api_url.endswith("/"):
        api_url += "/"
    values: dict[str, object] = dict(
        bot_token=os.environ.get("SLACK_BOT_TOKEN") or None,
        signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or None,
        app_token=os.environ.get("SLACK_APP_TOKEN") or None,
        api_url=api_url,
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        port=_env_int("PORT", 3000),
        workers=_env_int("HYPERCARE_WORKERS", 4),
        worker_processes=_env_int("HYPERCARE_WORKER_PROCESSES", 1),
        poll_interval=_env_float("HYPERCARE_POLL_INTERVAL", 0.5),
        http_threads=_env_int("HYPERCARE_HTTP_THREADS", 16),
        scheduler_enabled=os.environ.get("HYPERCARE_SCHEDULER", "on").lower() not in ("off", "0", "false", "no"),
        timezone=os.environ.get("HYPERCARE_TIMEZONE", "UTC"),
        triage_users=_env_list("HYPERCARE_TRIAGE_USERS"),
        triage_usergroup=os.environ.get("HYPERCARE_TRIAGE_USERGROUP") or None,
        triage_channel=os.environ.get("HYPERCARE_TRIAGE_CHANNEL") or None,
        sla_critical=_env_sla("critical"), sla_high=_env_sla("high"), sla_medium=_env_sla("medium"), sla_low=_env_sla("low"),
        followup_nudge_hours=_env_float("HYPERCARE_FOLLOWUP_NUDGE_HOURS", 4.0),
        followup_max_nudges=_env_int("HYPERCARE_FOLLOWUP_MAX_NUDGES", 1),
        digest_grace_minutes=_env_float("HYPERCARE_DIGEST_GRACE_MINUTES", 120.0),
        digest_chart=os.environ.get("HYPERCARE_DIGEST_CHART", "on").lower() not in ("off", "0", "false", "no"),
        channel_post_interval=_env_float("HYPERCARE_CHANNEL_POST_INTERVAL", 1.0),
        lease_seconds=_env_float("HYPERCARE_LEASE_SECONDS", 60.0),
        inbox_spool=os.environ.get("HYPERCARE_INBOX_SPOOL") or None,
        **_tracker_env(),
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
