"""Settings: typed and validated at start-up; docs/configuration.md is generated from the fields."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.runtime.settings import Settings, configuration_reference, load_settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
BEGIN, END = "<!-- BEGIN generated: bot.runtime.settings.configuration_reference() -->", "<!-- END generated -->"


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("HYPERCARE_WORKERS", "2.9", "HYPERCARE_WORKERS is invalid"),
    ("HYPERCARE_WORKERS", "many", "HYPERCARE_WORKERS is invalid"),
    ("PORT", "-1", "PORT is invalid: input should be greater than or equal to 0"),
    ("PORT", "70000", "PORT is invalid"),
    ("HYPERCARE_TIMEZONE", "Mars/Olympus", "HYPERCARE_TIMEZONE is not a time zone"),
    ("HYPERCARE_SCHEDULER", "perhaps", "HYPERCARE_SCHEDULER is invalid"),
    ("HYPERCARE_POLL_INTERVAL", "0", "HYPERCARE_POLL_INTERVAL is invalid"),
])
def test_a_bad_value_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        load_settings(env_file=None)


def test_values_are_read_typed_from_the_environment_and_the_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {"HYPERCARE_WORKERS": "3", "PORT": "8080", "HYPERCARE_TIMEZONE": "Europe/Paris", "SLACK_API_URL": "http://localhost:9/api",
                        "HYPERCARE_TRIAGE_USERS": "U1, U2;U3", "HYPERCARE_SCHEDULER": "off", "HYPERCARE_INBOX_SPOOL": ""}.items():
        monkeypatch.setenv(name, value)
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=sqlite:///from-env-file.db\nHYPERCARE_WORKERS=9\n")
    settings = load_settings(env_file=env_file)
    assert (settings.workers, settings.port, settings.timezone) == (3, 8080, "Europe/Paris")  # the environment wins
    assert settings.database_url == "sqlite:///from-env-file.db"  # the file fills in what it lacks
    assert settings.api_url == "http://localhost:9/api/" and settings.triage_users == ("U1", "U2", "U3")
    assert settings.scheduler_enabled is False and settings.inbox_spool is None  # empty means unset


def test_settings_from_values_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERCARE_WORKERS", "7")
    settings = Settings(database_url="sqlite://", workers=2)
    assert (settings.workers, settings.database_url, settings.port) == (2, "sqlite://", 3000)
    assert settings.replace(port=0).port == 0 and settings.port == 3000
    with pytest.raises(ValueError):
        settings.replace(workers=-1)


def test_every_variable_is_documented_and_the_reference_is_current() -> None:
    for name, info in Settings.model_fields.items():
        assert info.validation_alias and info.description, f"Settings.{name} needs an env name and a description (use _env)"
    text = DOCS.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert generated == configuration_reference(), "docs/configuration.md is stale: run `python -m bot.runtime.settings --write-docs`"


def test_the_reference_can_be_regenerated_in_place(tmp_path: Path) -> None:
    copy = tmp_path / "configuration.md"
    copy.write_text(f"# title\n\n{BEGIN}\nold\n{END}\n\nafter\n")
    subprocess.run([sys.executable, "-m", "bot.runtime.settings", "--write-docs", str(copy)], check=True)
    text = copy.read_text()
    assert text.startswith("# title") and text.endswith("after\n") and configuration_reference() in text and "\nold\n" not in text
