"""Load: 600 signed report events from 8 concurrent senders over 50 channels.

Starts the fake Slack Web API (its own process), then the bot (`hypercare run`, HTTP mode, its own
process) and measures acknowledgement latency and throughput and the time until every report has
its ticket and thread reply; then does the same sending against a bare Bolt app that only
acknowledges, on the same server and machine. Prints the figures; asserts nothing.

    python bench/load.py [--reports 600] [--senders 8] [--channels 50] [--database-url URL] [--spool] [--tuned-bare] [--rounds N]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, func, make_url, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.db import READ_ONLY, make_engine  # noqa: E402
from models.tables import OutboxMessage, ReportMessage, Ticket  # noqa: E402
from tests.slack_requests import SlackSender  # noqa: E402

SECRET = "bench-signing-secret"
REPORTS = [
    "Checkout fails with error 502 when I press Pay on Safari {n}",
    "The dashboard takes {n} seconds to load for EU customers",
    "Exported CSV is missing rows after the {n}th line",
    "Login page shows a blank screen on Android {n}",
    "Push notifications arrive {n} minutes late on iOS",
    "Search returns no results for invoice {n} although it exists",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers: it is up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def send_all(base_url: str, *, reports: int, senders: int, channels: int, sent: set[tuple[str, str]] | None = None) -> tuple[list[float], float, list[int]]:
    """`sent` collects (channel, ts) of each report: the thread each one must be answered in."""
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def sender(index: int) -> None:
        slack = SlackSender(base_url=base_url, signing_secret=SECRET, timeout=30)
        for n in range(index, reports, senders):
            text = REPORTS[n % len(REPORTS)].format(n=n)
            started = time.perf_counter()
            response = slack.message(channel=f"C{n % channels:03d}", user=f"U{n % 97:03d}", text=f"{text} (report #{n})")
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses.append(response.status)
                if sent is not None and response.ts:
                    sent.add((f"C{n % channels:03d}", response.ts))

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, statuses


def figures(name: str, latencies: list[float], wall: float, statuses: list[int]) -> dict[str, float]:
    ordered = sorted(latencies)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    result = {"p50_ms": round(p(0.50), 2), "p99_ms": round(p(0.99), 2), "max_ms": round(ordered[-1] * 1000, 2),
              "acks_per_s": round(len(latencies) / wall, 1), "non_2xx": sum(1 for s in statuses if s >= 300),
              "5xx": sum(1 for s in statuses if s >= 500)}
    print(f"{name:>10}: ack p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms, "
          f"{result['acks_per_s']} acks/s, non-2xx {result['non_2xx']}, 5xx {sum(1 for s in statuses if s >= 500)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=600)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--tuned-bare", action="store_true", help="give the bare app the receiver's 0.5 ms GIL switch interval too")
    parser.add_argument("--spool", action="store_true", help="PostgreSQL: acknowledge from a local spool file (HYPERCARE_INBOX_SPOOL)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole measurement (fresh bot and SQLite file, or PostgreSQL database, each time)")
    args = parser.parse_args()
    rounds = [run_once(args) for _ in range(args.rounds)]
    if args.rounds > 1:
        def spread(key: str, of: str = "hypercare") -> str:
            values = sorted(float(r[of][key]) for r in rounds)
            return f"median {statistics.median(values):g} (min {values[0]:g}, max {values[-1]:g})"
        print(f"\n{args.rounds} rounds. Hypercare ack p99 ms: {spread('p99_ms')}; acks/s: {spread('acks_per_s')}; "
              f"bare acks/s: {spread('acks_per_s', 'bare_bolt')}; throughput vs bare: {spread('vs_bare', 'ratio')}; "
              f"answered: {[r['hypercare']['reports_answered_in_thread'] for r in rounds]}; 5xx: {[r['hypercare']['5xx'] for r in rounds]}")


def fresh_postgres(url: str) -> tuple[str, str]:
    """A new, empty database beside the one `url` names: each round counts only its own tickets
    and posts (in a shared database the wait for "all answered" ended at once after round one)."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"hc_load_{os.urandom(5).hex()}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres(url: str, name: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_once(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    if args.database_url and args.database_url.startswith("postgresql"):
        url, name = fresh_postgres(args.database_url)
        try:
            return run_round(args, url)
        finally:
            drop_postgres(args.database_url, name)
    return run_round(args, args.database_url)


def run_round(args: argparse.Namespace, database_url: str | None) -> dict[str, dict[str, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="hc-load-"))
    database_url = database_url or f"sqlite:///{workdir / 'load.db'}"
    fake = subprocess.Popen([sys.executable, str(ROOT / "bench" / "fake_slack_server.py"), str(args.channels)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None and fake.stdin is not None
    api_url = fake.stdout.readline().strip()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api_url, "DATABASE_URL": database_url}
    env.pop("SLACK_APP_TOKEN", None)
    if args.spool:
        env["HYPERCARE_INBOX_SPOOL"] = str(workdir / "receiver.inbox-spool")
    print(f"{args.reports} reports, {args.senders} senders, {args.channels} channels, database {database_url.split('@')[-1]}"
          f"{', spool ' + env['HYPERCARE_INBOX_SPOOL'] if args.spool else ''}, "
          f"{os.cpu_count()} CPUs")

    results: dict[str, object] = {}
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_bolt_app.py"), str(bare_port), *(["0.0005"] if args.tuned_bare else [])], env=env)
    try:
        wait_http(f"http://127.0.0.1:{bare_port}/slack/events")
        results["bare_bolt"] = figures("bare Bolt", *send_all(f"http://127.0.0.1:{bare_port}", reports=args.reports, senders=args.senders, channels=args.channels))
    finally:
        bare.terminate()
        bare.wait()

    port = free_port()
    log = open(workdir / "bot.log", "w")
    bot = subprocess.Popen([sys.executable, "-m", "bot.runtime.cli", "--log-level", "warning", "run", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    engine = make_engine(database_url)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        started = time.perf_counter()
        sent: set[tuple[str, str]] = set()
        ours = figures("Hypercare", *send_all(f"http://127.0.0.1:{port}", reports=args.reports, senders=args.senders, channels=args.channels, sent=sent))
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            with engine.connect().execution_options(**{READ_ONLY: True}) as session:  # no write lock taken
                filed = session.execute(select(func.count()).select_from(Ticket)).scalar_one()
                captured = session.execute(select(func.count()).select_from(ReportMessage)).scalar_one()
                answered = session.execute(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.method == "chat.postMessage", OutboxMessage.status == "done")).scalar_one()
                undelivered = session.execute(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.status.in_(("pending", "working")))).scalar_one()  # type: ignore[attr-defined]
            # Every report stored and everything it caused delivered; the fake Slack's record of
            # thread posts then shows whether each report got its own reply.
            if captured >= args.reports and answered >= args.reports and undelivered == 0:
                break
            time.sleep(0.5)
        ours["all_answered_s"] = round(time.perf_counter() - started, 2)
        ours["tickets"], ours["reports_captured"], ours["thread_replies_delivered"] = filed, captured, answered
        results["hypercare"] = ours
    finally:
        bot.terminate()
        bot.wait()
        engine.dispose()
        log.close()
    fake.stdin.close()
    stats = json.loads(fake.stdout.readline())
    fake.wait()
    bare_rate = results["bare_bolt"]["acks_per_s"]  # type: ignore[index]
    answered_threads = len(sent & {(channel, ts) for channel, ts in stats["threads"]})
    ours["reports_answered_in_thread"] = answered_threads
    print(f"Hypercare: {captured}/{args.reports} reports captured ({filed} tickets; the rest linked to them as duplicates), "
          f"{answered_threads}/{args.reports} reports answered in their own thread (Slack saw {stats['thread_replies']} thread posts), "
          f"every report answered after {ours['all_answered_s']} s (posts paced at 1/s per channel)")
    print(f"ack throughput vs bare Bolt: {ours['acks_per_s'] / bare_rate:.0%}")
    print(json.dumps({"results": results, "fake_slack_calls": stats["calls"]}, indent=1))
    results["ratio"] = {"vs_bare": round(ours["acks_per_s"] / bare_rate, 3)}
    return results  # type: ignore[return-value]


if __name__ == "__main__":
    main()
