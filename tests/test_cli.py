"""The `hypercare` command, run as a user runs it (a subprocess)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SLACK_VARS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "DATABASE_URL", "PORT")


def hypercare(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SLACK_VARS and not k.startswith("HYPERCARE_")}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.runtime.cli", *args], cwd=cwd, env=clean, input=stdin, capture_output=True, text=True, timeout=timeout,
    )


def test_run_without_tokens_names_the_missing_variable(tmp_path: Path) -> None:
    result = hypercare("run", cwd=tmp_path)
    assert result.returncode != 0
    assert "SLACK_BOT_TOKEN is not set" in result.stderr and "OAuth & Permissions" in result.stderr
    result = hypercare("run", cwd=tmp_path, env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert result.returncode != 0 and "SLACK_SIGNING_SECRET is not set" in result.stderr
    result = hypercare("run", cwd=tmp_path, env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert "SLACK_SIGNING_SECRET" not in result.stderr, "Socket Mode needs no signing secret"


def test_run_reads_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\n")
    result = hypercare("run", cwd=tmp_path)
    assert result.returncode != 0
    assert "SLACK_BOT_TOKEN" not in result.stderr and "SLACK_SIGNING_SECRET is not set" in result.stderr


def test_manifest_with_url_fills_request_urls(tmp_path: Path) -> None:
    result = hypercare("manifest", "--url", "https://example.com/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(result.stdout)
    endpoint = "https://example.com/slack/events"
    assert data["settings"]["event_subscriptions"]["request_url"] == endpoint
    assert data["settings"]["interactivity"]["request_url"] == endpoint
    assert data["features"]["slash_commands"][0]["url"] == endpoint
    assert data["settings"]["socket_mode_enabled"] is False


def test_db_upgrade_then_export(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'hc.db'}"}
    result = hypercare("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 0 and "up to date" in result.stdout, result.stderr
    result = hypercare("export", "--format", "json", cwd=tmp_path, env=env)
    assert result.returncode == 0 and json.loads(result.stdout) == {"tickets": []}
    result = hypercare("export", "--format", "json", "--status", "bogus", cwd=tmp_path, env=env)
    assert result.returncode == 1 and "unknown status 'bogus'" in result.stderr


def test_console_files_a_ticket_through_the_real_handlers(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'hc.db'}"}
    session = "\n".join([
        "thanks!",
        "The checkout page shows error 502 after I click Pay on Safari 18",
        "/hc new Exported CSV is missing the last row",
        "/hc bogus",
        "!quit",
    ]) + "\n"
    result = hypercare("console", cwd=tmp_path, env=env, stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[#C_WARROOM › thread of #2] Hypercare" in out and "HC-1" in out, out
    assert "reacted :ticket: to #2" in out
    assert "only visible to you" in out and "HC-2" in out
    assert "I don't know the subcommand" in out
    assert "thread of #1" not in out, "chatter is not answered"
    # the terminal is the chat: no library INFO lines (migrations, scheduler) and no Bolt warning
    assert " INFO " not in result.stderr and "WARNING" not in result.stderr, result.stderr
    exported = hypercare("export", "--format", "json", cwd=tmp_path, env=env)
    keys = [t["key"] for t in json.loads(exported.stdout)["tickets"]]
    assert keys == ["HC-1", "HC-2"]
