"""`hypercare report --format html|md [--since DATE] [--out FILE]`: the exit report from the database."""
from __future__ import annotations

import sys
from pathlib import Path

from bot.dashboard.serve import pick_team
from bot.tickets.export import parse_since
from bot.report.gather import gather
from bot.report.render import render
from bot.runtime.settings import Settings
from models import digest_queries as dq
from models.db import make_engine, upgrade
from models.types import utcnow


def build(*, settings: Settings, fmt: str, since: str | None, team_id: str | None) -> str:
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        team = pick_team(engine, team_id)
        with dq.read_session(engine) as session:
            report = gather(session, team_id=team, settings=settings, now=utcnow(), since=parse_since(since) if since else None)
            return render(report, fmt=fmt)
    finally:
        engine.dispose()


def run(*, settings: Settings, fmt: str, since: str | None, out: str | None, team_id: str | None) -> int:
    document = build(settings=settings, fmt=fmt, since=since, team_id=team_id)
    if out:
        Path(out).write_text(document, encoding="utf-8")
        print(f"wrote {out} ({len(document):,} characters)", file=sys.stderr)
    else:
        sys.stdout.write(document)
    return 0
