"""The exit report: `hypercare report` (a subprocess, as a user runs it) on seeded data, and
`/hc report` over HTTP, built by its job and uploaded once to the channel."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from models.db import make_engine, upgrade
from models.types import utcnow
from tests.conftest import RunningBot
from tests.dashboard_support import dash_bot, seed  # noqa: F401 - fixture
from tests.test_cli import ROOT, SLACK_VARS

__all__ = ["dash_bot"]


def _report(tmp_path: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARS and not k.startswith("HYPERCARE_")}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'hypercare.db'}")
    out = tmp_path / f"report-{len(list(tmp_path.iterdir()))}"
    result = subprocess.run([sys.executable, "-m", "bot.runtime.cli", "--log-level", "warning", "report", *args, "--out", str(out)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return out.read_text()


def test_report_contents_on_seeded_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hypercare.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed(engine, team_id="T_CONSOLE", now=utcnow())
    engine.dispose()
    md = _report(tmp_path, "--format", "md")
    assert md.startswith("# Hypercare exit report — T_CONSOLE")
    assert "10 tickets since hypercare began; 6 still open." in md
    assert "| critical | 2 |" in md and "| high | 3 |" in md
    assert "| HC-2 | Checkout problem 2 | critical | resolved | 9 | Configuration | fixed |" in md  # top problem, its people, its fix
    assert "| Configuration | 1 |" in md and "| Documentation | 1 |" in md
    assert "75% 👍 (3 of 4 ratings)." in md
    assert "## Still open — to hand over (6)" in md and "| HC-1 | Checkout problem 1 | critical | in progress | U_A |" in md
    assert "HC-7 | Checkout problem 7 | low | resolved" not in md.split("## Still open")[1], "only open tickets are handed over"
    assert md.count("](data:image/png;base64,") == 4
    assert "## Timeline" in md and "## SLA performance" in md and "No exit criteria were set." in md
    html = _report(tmp_path, "--format", "html")
    assert html.startswith("<!doctype html>") and html.count("<svg ") == 4 and "<td>HC-2</td>" in html
    since = _report(tmp_path, "--format", "md", "--since", utcnow().strftime("%Y-%m-%d"))
    assert f"2 tickets since {utcnow():%Y-%m-%d}" in since  # HC-6 and HC-10 were opened today


def test_hc_report_uploads_it_once(dash_bot: RunningBot) -> None:
    seed(dash_bot.engine, team_id=dash_bot.fake.team_id, now=utcnow())
    bad = dash_bot.slack.command(text="report pdf", user="U_T1").json()
    assert "pdf" in bad["text"] and bad["response_type"] == "ephemeral"
    answer = dash_bot.slack.command(text="report md", user="U_T1").json()
    assert answer["response_type"] == "ephemeral" and "Building the exit report" in answer["text"]
    assert dash_bot.fake.calls_to("files.getUploadURLExternal") == [], "nothing is uploaded before the acknowledgement"
    from bot.report.upload import share_pending  # what the report_upload job runs every 5 s

    def tick() -> int:
        shared = share_pending(dash_bot.engine, dash_bot.hypercare.client, settings=dash_bot.hypercare.settings, now=utcnow(), owner="test")
        dash_bot.hypercare.outbox.wake()
        dash_bot.settle()
        return shared

    assert tick() == 1 and tick() == 0  # a later tick uploads nothing again
    [ask] = dash_bot.fake.calls_to("files.getUploadURLExternal")
    [upload] = [c for c in dash_bot.fake.calls if c.method.startswith("upload:")]
    [share] = dash_bot.fake.calls_to("files.completeUploadExternal")
    body = upload.params["content"].decode()
    assert ask.params["filename"].endswith(".md") and body.startswith("# Hypercare exit report") and "HC-2" in body
    assert share.params["channel_id"] == "C100" and share.params["files"][0]["id"] == ask.response["file_id"]  # type: ignore[index]
