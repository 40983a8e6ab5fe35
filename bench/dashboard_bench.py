"""How fast the dashboard answers over 100,000 tickets, on SQLite and on PostgreSQL, over HTTP.

Seeds a 30-day hypercare (the digest bench's tickets, a fifth with several affected people and
root causes on the resolved), serves the dashboard with Waitress as `hypercare dashboard` does,
and times real GETs (best and median of several runs):
  page   — GET /dashboard (the HTML; the page then asks for its data)
  data   — GET /dashboard/data.json (every tile, chart fingerprint, the problems and the table)
  data+f — the same with filters (status=open, severity=high, words=checkout)
  chart  — GET /dashboard/chart/backlog.svg once drawn (cached by its fingerprint), and cold
Each twice: with the workspace-wide figures recomputed on every request (cold), and reused for
10 s as `hypercare run` does (HYPERCARE_DASHBOARD_CACHE_SECONDS).
The target is under 200 ms for page and data. Prints the figures; asserts nothing.

    python bench/dashboard_bench.py [--tickets 100000] [--runs 7] [--only sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url
from waitress.server import create_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import digest_bench  # noqa: E402
from bot.dashboard import links  # noqa: E402
from bot.dashboard.serve import application  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from models.dashboard_tables import ROOT_CAUSES, TicketRootCause  # noqa: E402
from models.db import make_engine, session_scope, upgrade  # noqa: E402
from models.tables import Ticket  # noqa: E402
from models.types import utcnow  # noqa: E402

TEAM = digest_bench.TEAM
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def seed(engine: Engine, *, tickets: int) -> None:
    digest_bench.NOW = utcnow()  # the dashboard counts "today" from the real clock
    rng = random.Random(16)
    rows = digest_bench.ticket_rows(tickets, rng)
    for row in rows:
        if rng.random() < 0.2:
            row["affected_users"] = [f"U{n:05d}" for n in range(rng.randrange(2, 40))]
    started = time.perf_counter()
    with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Ticket), rows[start:start + 5000])
        resolved = connection.execute(text("SELECT id FROM ticket WHERE status IN ('resolved', 'closed')")).scalars().all()
        causes = [{"ticket_id": i, "team_id": TEAM, "cause": rng.choice(ROOT_CAUSES), "set_at": digest_bench.NOW} for i in resolved if rng.random() < 0.7]
        for start in range(0, len(causes), 5000):
            connection.execute(insert(TicketRootCause), causes[start:start + 5000])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(f"  seeded {tickets:,} tickets ({len(causes):,} root causes) in {time.perf_counter() - started:.1f} s")


def timed(run: Callable[[], object], runs: int) -> tuple[float, float]:
    run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def get(url: str) -> bytes:
    with OPENER.open(url, timeout=60) as response:
        assert response.status == 200
        return response.read()


def bench(url: str, *, runs: int) -> None:
    for cache in (0.0, 10.0):
        print(f"  -- workspace figures {'recomputed on every request' if not cache else f'reused for {cache:g} s (the default)'}")
        serve_and_time(url, runs=runs, cache=cache, charts=bool(cache))


def serve_and_time(url: str, *, runs: int, cache: float, charts: bool) -> None:
    settings = Settings(database_url=url, dashboard_secret="bench-secret", dashboard_cache_seconds=cache)
    engine = make_engine(url)
    with session_scope(engine) as session:
        _, token = links.create(session, settings=settings, team_id=TEAM, user=None, kind="shared")
    server = create_server(application(engine=engine, settings=settings), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
    try:
        for name, path in (("page", "/dashboard"), ("data", "/dashboard/data.json"),
                           ("data+f", "/dashboard/data.json?status=open&severity=high&words=checkout&"),
                           ("chart", "/dashboard/chart/backlog.svg")):
            sep = "&" if "?" in path else "?"
            best, median = timed(lambda: get(f"{base}{path}{sep}k={token}".replace("&&", "&")), runs)
            size = len(get(f"{base}{path}{sep}k={token}".replace("&&", "&")))
            print(f"  {name:<7} best {best:7.1f} ms   median {median:7.1f} ms   ({size:,} bytes)")
        if not charts:
            return
        from zoneinfo import ZoneInfo

        from bot.charts import render_svg
        from bot.dashboard import data as dashboard_data
        from models import digest_queries as dq

        with dq.read_session(engine) as session:
            drawn = dashboard_data.charts(session, team_id=TEAM, now=utcnow(), tz=ZoneInfo("UTC"))
        best, median = timed(lambda: [render_svg(c) for c in drawn.values()], max(1, runs // 2))
        print(f"  all 5 charts drawn cold (matplotlib SVG): best {best:.0f} ms, median {median:.0f} ms")
    finally:
        server.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            print(f"SQLite ({args.tickets:,} tickets)")
            upgrade(url)
            engine = make_engine(url)
            seed(engine, tickets=args.tickets)
            engine.dispose()
            bench(url, runs=args.runs)
    if args.only != "sqlite":
        admin = create_engine(digest_bench.PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"hc_dash_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(digest_bench.PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        try:
            print(f"PostgreSQL ({args.tickets:,} tickets)")
            upgrade(url)
            engine = make_engine(url)
            seed(engine, tickets=args.tickets)
            engine.dispose()
            bench(url, runs=args.runs)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
