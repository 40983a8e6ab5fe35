"""`hypercare dashboard --port`: the dashboard alone on the same database, its link printed."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from models.db import make_engine, upgrade
from models.types import utcnow
from tests.dashboard_support import get, seed
from tests.test_cli import ROOT, SLACK_VARS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dashboard_command_serves_the_database_and_prints_its_link(tmp_path: Path) -> None:
    import os

    url = f"sqlite:///{tmp_path / 'hypercare.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed(engine, team_id="T_CONSOLE", now=utcnow())
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARS and not k.startswith("HYPERCARE_")}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=url)
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "bot.runtime.cli", "--log-level", "warning", "dashboard", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        found = re.search(r"http://127\.0\.0\.1:\d+/dashboard\?k=\S+", line)
        assert found, line + process.stderr.read()  # type: ignore[union-attr]
        link = found.group(0)
        for _ in range(100):
            try:
                status, body, _ = get(link.replace("/dashboard?", "/dashboard/data.json?"))
                break
            except OSError:  # not listening yet
                time.sleep(0.1)
        assert status == 200, body
        assert json.loads(body)["tickets"]["total"] == 10
        assert get(f"http://127.0.0.1:{port}/dashboard/data.json?k=forged")[0] == 403
    finally:
        process.terminate()
        process.wait(timeout=10)
