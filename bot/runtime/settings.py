"""Settings from the environment (and a `.env` file), typed and validated once at start-up.

pydantic-settings reads and checks every variable; each field's description is the one place a
variable is documented (docs/configuration.md is generated from it: `configuration_reference()`).
`Settings(**fields)` builds settings from values alone (tests, the console); `load_settings()`
reads the environment.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///hypercare.db"

# Where to find each credential, so a missing one can be explained precisely.
CREDENTIAL_HELP = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) on your app's 'OAuth & Permissions' page at https://api.slack.com/apps",
    "SLACK_SIGNING_SECRET": "the Signing Secret on your app's 'Basic Information' page at https://api.slack.com/apps",
    "SLACK_APP_TOKEN": "an App-Level Token (xapp-…) with the connections:write scope, from 'Basic Information' → 'App-Level Tokens'",
}

# SLA targets per severity: "<first response>/<resolution>", each a number and m, h, d or w.
SLA_DEFAULTS = {"critical": "15m/4h", "high": "1h/1d", "medium": "4h/3d", "low": "1d/7d"}
_SLA_PATTERN = re.compile(r"^\s*\d+(?:\.\d+)?\s*[mhdw]\s*/\s*\d+(?:\.\d+)?\s*[mhdw]\s*$", re.IGNORECASE)


def _env(name: str, description: str, default: Any, **constraints: Any) -> Any:
    """A field read from the environment variable `name` (also settable by its field name)."""
    return Field(default, validation_alias=name, description=description, **constraints)


def _sla(severity: str) -> Any:
    return _env(
        f"HYPERCARE_SLA_{severity.upper()}",
        f"SLA targets for {severity} tickets: `<first response>/<resolution>`, each a number and m, h, d or w.",
        SLA_DEFAULTS[severity],
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, populate_by_name=True, env_ignore_empty=True, extra="ignore", case_sensitive=True,
    )

    # --- Slack --------------------------------------------------------------------------------
    bot_token: str | None = _env("SLACK_BOT_TOKEN", "Bot User OAuth Token (xoxb-…), from the app's 'OAuth & Permissions' page.", None)
    signing_secret: str | None = _env("SLACK_SIGNING_SECRET", "Signing Secret, from the app's 'Basic Information' page; checks every request.", None)
    app_token: str | None = _env("SLACK_APP_TOKEN", "App-Level Token (xapp-…, connections:write): set it to use Socket Mode instead of HTTP.", None)
    api_url: str = _env("SLACK_API_URL", "Base URL of the Slack Web API (a fake Slack in tests and the console).", DEFAULT_API_URL)
    # --- storage and serving ------------------------------------------------------------------
    database_url: str = _env("DATABASE_URL", "SQLAlchemy URL of the database: a SQLite file (default) or `postgresql+psycopg://…`.", DEFAULT_DATABASE_URL)
    port: int = _env("PORT", "TCP port of the HTTP server (`POST /slack/events`, `GET /healthz`); 0 picks a free one.", 3000, ge=0, le=65535)
    http_threads: int = _env("HYPERCARE_HTTP_THREADS", "Threads of the HTTP server answering Slack's requests.", 16, ge=1)
    workers: int = _env("HYPERCARE_WORKERS", "Worker threads per queue (inbox and outbox) in each worker process.", 4, ge=0)
    # `hypercare run` works the queues in separate processes, so the acknowledging process never
    # waits for the GIL behind ticket work; 0 works them on threads of the same process.
    worker_processes: int = _env("HYPERCARE_WORKER_PROCESSES", "Processes working the queues beside the receiver; 0 works them on threads of the receiving process.", 1, ge=0)
    poll_interval: float = _env("HYPERCARE_POLL_INTERVAL", "Seconds between looks at the queues when nothing woke a worker.", 0.5, gt=0)
    # How long a worker may hold a queued row before another process may take it over: the
    # longest a crash can delay a stored event or an outbox message.
    lease_seconds: float = _env("HYPERCARE_LEASE_SECONDS", "Seconds a worker holds a queued row before another process may take it over (the longest a crash delays an event).", 60.0, gt=0)
    inbox_spool: str | None = _env("HYPERCARE_INBOX_SPOOL", "The receiver's local spool file: on SQLite `<database>.inbox-spool` unless set; on PostgreSQL none unless set (docs/delivery.md).", None)
    channel_post_interval: float = _env("HYPERCARE_CHANNEL_POST_INTERVAL", "Least seconds between two bot posts in one channel (Slack's rate limit is about one a second).", 1.0, ge=0)
    scheduler_enabled: bool = _env("HYPERCARE_SCHEDULER", "Run the periodic jobs (SLA checks, nudges, digests) in this process: on or off.", True)
    timezone: str = _env("HYPERCARE_TIMEZONE", "IANA time zone of digest schedules and `/hc` dates, e.g. Europe/Paris.", "UTC")
    # --- triage team --------------------------------------------------------------------------
    triage_users: Annotated[tuple[str, ...], NoDecode] = _env("HYPERCARE_TRIAGE_USERS", "User ids on the triage team, separated by commas.", ())
    triage_usergroup: str | None = _env("HYPERCARE_TRIAGE_USERGROUP", "A user group (S…) whose members are on the triage team.", None)
    triage_channel: str | None = _env("HYPERCARE_TRIAGE_CHANNEL", "Channel (C…) where SLA alerts and triage notices go.", None)
    # --- SLA, follow-ups, digests -------------------------------------------------------------
    # "<first response>/<resolution>" per severity (HYPERCARE_SLA_<SEVERITY>); parsed by bot.tickets.sla.
    sla_critical: str = _sla("critical")
    sla_high: str = _sla("high")
    sla_medium: str = _sla("medium")
    sla_low: str = _sla("low")
    followup_nudge_hours: float = _env("HYPERCARE_FOLLOWUP_NUDGE_HOURS", "Hours before an unanswered follow-up question is asked again.", 4.0, gt=0)
    followup_max_nudges: int = _env("HYPERCARE_FOLLOWUP_MAX_NUDGES", "How many times an unanswered question is asked again.", 1, ge=0)
    # Stand-up digests: one missed while the bot was down is posted late if at most this many minutes
    # late (else skipped); the opened-vs-resolved chart needs files:write and files allowed.
    digest_grace_minutes: float = _env("HYPERCARE_DIGEST_GRACE_MINUTES", "A digest missed while the bot was down is posted late if at most this many minutes late.", 120.0, ge=0)
    digest_chart: bool = _env("HYPERCARE_DIGEST_CHART", "Attach the opened-vs-resolved chart to digests (needs files:write): on or off.", True)
    # --- delivery and operations (docs/delivery.md) -------------------------------------------
    retention_days: float = _env("HYPERCARE_RETENTION_DAYS", "Days after which done and parked inbox events and outbox messages are deleted; 0 keeps them.", 30.0, ge=0)
    retry_base_seconds: float = _env("HYPERCARE_RETRY_BASE_SECONDS", "First retry delay of a failed event or post; it doubles each attempt, up to a cap.", 2.0, gt=0)
    health_stuck_seconds: float = _env("HYPERCARE_HEALTH_STUCK_SECONDS", "`/healthz` answers 503 when the longest-waiting workable item has waited longer than this.", 300.0, gt=0)
    # --- dashboard, /metrics, exit report (bot/dashboard) ---------------------------------------
    public_url: str | None = _env("HYPERCARE_PUBLIC_URL", "The server's public base URL (https://hypercare.example.com); `/hc dashboard` links point under it.", None)
    dashboard_secret: str | None = _env("HYPERCARE_DASHBOARD_SECRET", "Key that signs dashboard links (default: derived from the signing secret).", None)
    dashboard_link_hours: float = _env("HYPERCARE_DASHBOARD_LINK_HOURS", "Hours a personal `/hc dashboard` link stays valid.", 12.0, gt=0)
    dashboard_cache_seconds: float = _env("HYPERCARE_DASHBOARD_CACHE_SECONDS", "Seconds the dashboard reuses its workspace-wide figures (0: recompute every request).", 10.0, ge=0)

    # --- trackers: GitHub Issues, Jira, Linear (docs/trackers.md) ------------------------------
    # A tracker is connected when its credential is set; its default target is what `/hc push` uses.
    github_token: str | None = _env("HYPERCARE_GITHUB_TOKEN", "GitHub token (fine-grained: Issues read and write) that connects GitHub Issues.", None)
    github_api_url: str = _env("HYPERCARE_GITHUB_API_URL", "GitHub REST API base URL (GitHub Enterprise: https://host/api/v3).", "https://api.github.com")
    github_repo: str | None = _env("HYPERCARE_GITHUB_REPO", "Default GitHub repository for `/hc push` (owner/name).", None)
    github_webhook_secret: str | None = _env("HYPERCARE_GITHUB_WEBHOOK_SECRET", "Secret that verifies `POST /trackers/github` (X-Hub-Signature-256).", None)
    github_labels: str = _env("HYPERCARE_GITHUB_LABELS", "Labels given to a GitHub issue, comma-separated templates of {severity} and {category}.", "severity:{severity},category:{category},hypercare")
    jira_url: str | None = _env("HYPERCARE_JIRA_URL", "Jira base URL (https://acme.atlassian.net) that connects Jira.", None)
    jira_email: str | None = _env("HYPERCARE_JIRA_EMAIL", "Jira Cloud account e-mail (basic auth with the API token); unset: the token is a bearer PAT (Server/DC).", None)
    jira_api_token: str | None = _env("HYPERCARE_JIRA_API_TOKEN", "Jira API token (Cloud) or personal access token (Server/DC).", None)
    jira_project: str | None = _env("HYPERCARE_JIRA_PROJECT", "Default Jira project key for `/hc push`.", None)
    jira_webhook_secret: str | None = _env("HYPERCARE_JIRA_WEBHOOK_SECRET", "Secret that verifies `POST /trackers/jira` (X-Hub-Signature).", None)
    jira_issue_type: str = _env("HYPERCARE_JIRA_ISSUE_TYPE", "Jira issue type created.", "Bug")
    jira_priorities: str = _env("HYPERCARE_JIRA_PRIORITIES", "Jira priority per severity, as severity=name pairs (empty: the documented defaults).", "")
    linear_api_key: str | None = _env("HYPERCARE_LINEAR_API_KEY", "Linear API key that connects Linear.", None)
    linear_api_url: str = _env("HYPERCARE_LINEAR_API_URL", "Linear GraphQL endpoint.", "https://api.linear.app/graphql")
    linear_team: str | None = _env("HYPERCARE_LINEAR_TEAM", "Default Linear team key for `/hc push` (e.g. ENG).", None)
    linear_webhook_secret: str | None = _env("HYPERCARE_LINEAR_WEBHOOK_SECRET", "Secret that verifies `POST /trackers/linear` (Linear-Signature).", None)
    linear_priorities: str = _env("HYPERCARE_LINEAR_PRIORITIES", "Linear priority per severity, as severity=number pairs (empty: the documented defaults).", "")
    tracker_sync_seconds: float = _env("HYPERCARE_TRACKER_SYNC_SECONDS", "Seconds between two carries of Slack-side changes (and auto-push) to the trackers.", 5.0, gt=0)

    # Settings(**values) uses the values alone (tests, the console); load_settings() reads the
    # environment through _EnvironmentSettings.
    reads_environment: ClassVar[bool] = False

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings) if cls.reads_environment else (init_settings,)

    @field_validator("api_url")
    @classmethod
    def _api_url_ends_in_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("triage_users", mode="before")
    @classmethod
    def _split_users(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"is not a time zone this machine knows (e.g. UTC, Europe/Paris): {value!r}") from exc
        return value

    @field_validator("sla_critical", "sla_high", "sla_medium", "sla_low")
    @classmethod
    def _sla_shape(cls, value: str) -> str:
        if not _SLA_PATTERN.match(value):
            raise ValueError(f"must look like 15m/4h (first response / resolution; m, h, d or w), got {value!r}")
        return value

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed, validated again."""
        return type(self)(**{**self.model_dump(), **changes})

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
            lines.append("Set it in the environment or in a .env file in this folder (see docs/configuration.md).")
            raise ConfigError("\n".join(lines))


class _EnvironmentSettings(Settings):
    """Settings read from the environment, then the `.env` file, then the defaults."""

    reads_environment: ClassVar[bool] = True


def _explain(exc: ValidationError) -> ConfigError:
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = _env_name(field)
        message = str(error["msg"])
        if message.startswith("Value error, "):  # our validators' own sentences
            lines.append(f"{name} {message.removeprefix('Value error, ')}")
        else:
            lines.append(f"{name} is invalid: {message[:1].lower()}{message[1:]}, got {error.get('input')!r}")
    return ConfigError("\n".join(lines))


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    return str(info.validation_alias) if info is not None and info.validation_alias else field


def load_settings(*, env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read settings from the environment; a `.env` file fills in what the environment lacks."""
    source = env_file if env_file and Path(env_file).is_file() else None
    try:
        loaded = _EnvironmentSettings(_env_file=source, **overrides)  # type: ignore[call-arg]
        return Settings(**loaded.model_dump())
    except ValidationError as exc:
        raise _explain(exc) from None


def configuration_reference() -> str:
    """The configuration reference in docs/configuration.md, generated from the fields above."""
    lines = ["| Variable | Default | What it does |", "|---|---|---|"]
    for info in Settings.model_fields.values():
        default = info.default
        shown = "—" if default in (None, ()) else f"`{'on' if default is True else default}`"
        lines.append(f"| `{info.validation_alias}` | {shown} | {info.description} |")
    return "\n".join(lines) + "\n"


_BEGIN, _END = "<!-- BEGIN generated: bot.runtime.settings.configuration_reference() -->", "<!-- END generated -->"


def write_reference(path: Path) -> None:
    """Replace the generated block of `path` (docs/configuration.md) with the current reference."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(_BEGIN, 1)
    _, tail = rest.split(_END, 1)
    path.write_text(f"{head}{_BEGIN}\n{configuration_reference()}{_END}{tail}", encoding="utf-8")


if __name__ == "__main__":  # python -m bot.runtime.settings --write-docs [docs/configuration.md]
    import sys

    if sys.argv[1:2] == ["--write-docs"]:
        write_reference(Path(sys.argv[2] if len(sys.argv) > 2 else "docs/configuration.md"))
