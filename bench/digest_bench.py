"""How long building a stand-up digest takes over 100,000 tickets, on SQLite and on PostgreSQL.

Seeds a 30-day hypercare (bulk Core inserts: ~5 % still open, the rest resolved or set aside, with
first responses, assignees, needs_info, SLA breaches) plus a digest posted 24 h earlier, then
times, best and median of several runs:
  build  — everything the digest shows (SQL) and its Block Kit (what the scheduler does per channel)
  post   — claim + build + enqueue, in a transaction (rolled back, so every run claims anew)
  chart  — the per-day counts (SQL) and the PNG
The target is a build under 250 ms with the work done in SQL. Prints the figures; asserts nothing.

    python bench/digest_bench.py [--tickets 100000] [--runs 7] [--sqlite-url URL] [--pg-url URL] [--only sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.digests import build as digest, chart as digest_chart, schedule as digest_schedule  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from models import digest_queries as dq  # noqa: E402
from models.db import make_engine, upgrade  # noqa: E402
from models.digest_tables import DigestRun  # noqa: E402
from models.tables import CATEGORIES, OutboxMessage, Ticket  # noqa: E402

TEAM, CHANNEL = "T_BENCH", "C_STANDUP"
NOW = datetime(2027, 5, 31, 7, 0, tzinfo=timezone.utc)
DAYS = 30
TZ = ZoneInfo("Europe/Berlin")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WORDS = "checkout login search export invoice dashboard upload payment webhook report sync timeout error slow blank page".split()


def ticket_rows(count: int, rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for number in range(1, count + 1):
        created = NOW - timedelta(seconds=rng.uniform(0, DAYS * 86400))
        age = (NOW - created).total_seconds()
        severity = rng.choices(("critical", "high", "medium", "low"), weights=(5, 15, 50, 30))[0]
        still_open = rng.random() < (0.5 if age < 86400 else 0.03)
        status = rng.choice(("new", "triaged", "in_progress", "needs_info")) if still_open else rng.choices(
            ("resolved", "closed", "duplicate", "wont_fix"), weights=(70, 15, 10, 5))[0]
        first = created + timedelta(minutes=rng.expovariate(1 / 45)) if rng.random() < 0.9 else None
        first = first if first is None or first <= NOW else None
        resolved = None if still_open else min(NOW, created + timedelta(hours=rng.expovariate(1 / 20)))
        title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize()
        rows.append({
            "team_id": TEAM, "number": number, "title": title, "description": (title + ". ") * 6,
            "category": rng.choice(CATEGORIES), "severity": severity, "status": status, "reporter": f"U{rng.randrange(500):05d}",
            "assignee": f"U{rng.randrange(40):05d}" if rng.random() < 0.6 else None, "channel": "C_WARROOM",
            "message_ts": f"{created.timestamp():.6f}", "thread_ts": f"{created.timestamp():.6f}",
            "permalink": f"https://example.slack.com/archives/C_WARROOM/p{int(created.timestamp() * 1e6)}",
            "missing": [], "affected_users": [], "files": [], "source": "message",
            "created_at": created, "updated_at": resolved or first or created, "first_response_at": first, "resolved_at": resolved,
            "resolution": ("Fixed in release 1.4.2: " + title) if status in ("resolved", "closed") else None,
        })
    return rows


def seed(engine: Engine, *, tickets: int) -> None:
    rng = random.Random(6)
    rows = ticket_rows(tickets, rng)
    started = time.perf_counter()
    with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Ticket), rows[start:start + 5000])
        posted = NOW - timedelta(days=1)
        outbox_id = connection.execute(insert(OutboxMessage).values(
            method="chat.postMessage", params={}, status="done", attempts=1, next_attempt_at=posted, created_at=posted,
            result={"ok": True, "ts": "1.0"}).returning(OutboxMessage.id)).scalar_one()
        connection.execute(insert(DigestRun).values(
            team_id=TEAM, channel=CHANNEL, period="2027-05-30T09:00", kind="scheduled", status="posted", as_of=posted,
            scheduled_for=posted, timezone=TZ.key, outbox_id=outbox_id, created_at=posted,
            stats={"open": 4800, "new": 3300, "resolved": 3250}))
    # The steady state of a live database: statistics current, and on PostgreSQL the visibility map
    # set (autovacuum does both), which is what lets it answer counts from the indexes alone.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(f"  seeded {tickets:,} tickets in {time.perf_counter() - started:.1f} s")


def timed(run: Callable[[], object], runs: int) -> tuple[float, float]:
    run()  # warm: the first run pays for statement compilation and a cold page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def bench(engine: Engine, *, runs: int) -> None:
    settings = Settings()

    def build() -> digest.Digest:
        with Session(engine) as session:
            last = dq.last_posted(session, team_id=TEAM, channel=CHANNEL, before=NOW)
            made = digest.build(session, team_id=TEAM, settings=settings, now=NOW, tz=TZ, last=last)
            assert len(made.blocks) <= digest.MAX_BLOCKS
            return made

    def post() -> None:
        session = Session(engine)
        try:
            digest_schedule.post_digest(session, team_id=TEAM, channel=CHANNEL, settings=settings, now=NOW, tz=TZ,
                                        period=f"bench:{uuid.uuid4().hex}", kind="manual", owner="bench")
        finally:
            session.rollback()
            session.close()

    def chart() -> bytes:
        with Session(engine) as session:
            data = digest_chart.load(session, team_id=TEAM, now=NOW, tz=TZ)
        assert data is not None
        return digest_chart.render_png(data)

    made = build()
    print(f"  digest: {len(made.blocks)} blocks, longest text {max(len(t) for t in _texts(made.blocks))} chars; {made.text}")
    for name, run in (("build", build), ("post", post), ("chart", chart)):
        best, median = timed(run, runs)
        flag = "  (target < 250 ms)" if name == "build" else ""
        print(f"  {name:<6} best {best:7.1f} ms   median {median:7.1f} ms{flag}")


def _texts(blocks: list[dict[str, object]]) -> list[str]:
    out = []
    for block in blocks:
        for holder in [block.get("text"), *block.get("elements", [])]:  # type: ignore[list-item]
            if isinstance(holder, dict) and isinstance(holder.get("text"), str):
                out.append(holder["text"])
    return out or [""]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sqlite-url", default=None, help="default: a new file in a temporary folder")
    parser.add_argument("--pg-url", default=None, help="default: a new database on the local PostgreSQL, dropped afterwards")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            url = args.sqlite_url or f"sqlite:///{Path(folder) / 'bench.db'}"
            print(f"SQLite ({url})")
            _run(url, tickets=args.tickets, runs=args.runs)
    if args.only != "sqlite":
        _postgresql(args.pg_url, tickets=args.tickets, runs=args.runs)


def _run(url: str, *, tickets: int, runs: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        seed(engine, tickets=tickets)
        bench(engine, runs=runs)
    finally:
        engine.dispose()


def _postgresql(url: str | None, *, tickets: int, runs: int) -> None:
    if url:
        print(f"PostgreSQL ({make_url(url).render_as_string(hide_password=True)})")
        _run(url, tickets=tickets, runs=runs)
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"hc_digest_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - a bench without PostgreSQL still reports SQLite
        print(f"PostgreSQL: not reachable at {PG_ADMIN} ({exc.__class__.__name__}); skipped")
        return
    try:
        url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        print(f"PostgreSQL (database {name})")
        _run(url, tickets=tickets, runs=runs)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
