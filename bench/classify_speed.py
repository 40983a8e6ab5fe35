"""Throughput of `bot.triage.triage()` on one core.

    python bench/classify_speed.py [--data ../shared/data] [--n 5000] [--repeat 3]

Times triage() over N texts: half short chat messages (built from fixed templates), half real
issue bodies from the development data (title + body, the `hypercare classify` JSON input), then
each half alone. Pins the process to one CPU where the OS allows it. Prints reports per CPU-second
(best of --repeat runs; CPU time is what "one core" buys, and it is steadier than wall-clock time
on a shared machine), the wall-clock rate beside it, and the one-off model load time; then the
same mixed texts through `hypercare classify` as a user runs it (a process reading JSON lines on
stdin), start-up included.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.triage import triage  # noqa: E402
from bot.triage.model import load_model  # noqa: E402

DEFAULT_DATA = next((d for d in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data") if d.exists()),
                    ROOT.parent / "shared" / "data")
CHAT = [
    "checkout button does nothing on Safari",
    "Login fails with 502 since the deploy",
    "thanks!", "ok", "+1", "lunch?", ":tada:", "good morning team", "lgtm", "brb",
    "how do I export my invoices?",
    "can we add dark mode?",
    "payments failing for everyone <!here>",
    "1. open the app 2. tap pay — expected receipt, instead I get error 502 on iOS 18",
    "the dashboard is really slow, takes 10s to load on Chrome 131",
    "Salesforce sync webhook returns 401 since yesterday, customer jane@example.com",
    "export CSV has duplicated rows and wrong totals <@U123ABC> can you look?",
    "is it possible to change my billing email?",
    "*Steps:* open settings, click save. *Expected:* saved. *Actual:* spinner forever (v2.4.1, Android 14)",
    "typo in the docs for the API, see <https://docs.example.com/api|API docs>",
    "the save button is hidden and hard to find on mobile",
    "users in EU can't sign in with SSO, workaround: use password login",
    "order confirmation email never arrives for some customers, call me at +49 170 1234567",
]


def load_texts(data: Path, n: int, seed: int = 0) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
    rng = random.Random(seed)
    csv.field_size_limit(sys.maxsize)
    long: list[tuple[str, str | None]] = []
    with (data / "issue_reports_labelled.csv").open(newline="", encoding="utf-8") as fh:
        long += [(r["body"], r["title"]) for r in csv.DictReader(fh)]
    with (data / "bug_reports_ob_eb_s2r.csv").open(newline="", encoding="utf-8") as fh:
        long += [(r["description"], r["title"]) for r in csv.DictReader(fh)]
    chat = [(rng.choice(CHAT) + ("" if rng.random() < 0.7 else f" (seen {rng.randint(2, 9)}x)"), None)
            for _ in range(n // 2)]
    longs = [rng.choice(long) for _ in range(n - n // 2)]
    return chat, longs


def rate(items: list[tuple[str, str | None]], repeat: int) -> tuple[float, float]:
    """(reports per CPU-second, reports per wall-clock second), best of `repeat` runs each."""
    cpu = wall = float("inf")
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        for text, title in items:
            triage(text=text, title=title)
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return len(items) / cpu, len(items) / wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="triage() throughput on one core")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        except OSError:
            pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    t0 = time.perf_counter()
    load_model()
    load_s = time.perf_counter() - t0
    chat, longs = load_texts(args.data, args.n)
    mixed = chat + longs
    random.Random(1).shuffle(mixed)
    avg_long = sum(len(t) + len(h or "") for t, h in longs) / max(1, len(longs))
    print(f"python {sys.version.split()[0]}, pinned to {cores} core(s); model load {load_s * 1000:.0f} ms (once)")
    print("reports/s per CPU-second of this process (wall-clock in brackets: lower when the machine is busy)")
    for name, items, note in (("mixed", mixed, " (half chat, half long)"), ("chat", chat, ""),
                              ("long", longs, f" (avg {avg_long:.0f} chars)")):
        cpu, wall = rate(items, args.repeat)
        print(f"{name:6s} {len(items):5d} reports: {cpu:8.0f} reports/s  [{wall:6.0f} wall]{note}")
    cpu, wall, started = cli_rate(mixed, args.repeat)
    print(f"`hypercare classify`, the mixed texts as JSON lines on stdin, whole process (pinned to the same core): "
          f"{cpu:.0f} reports/s  [{wall:.0f} wall]; start-up alone {started * 1000:.0f} ms")
    return 0


def cli_rate(items: list[tuple[str, str | None]], repeat: int) -> tuple[float, float, float]:
    """The command as users run it: (reports per CPU-second, per wall-clock second, start-up seconds
    with empty input), best of `repeat` runs; the child inherits this process's CPU pinning."""
    lines = "".join(json.dumps({"text": text} if title is None else {"title": title, "body": text}) + "\n"
                    for text, title in items).encode()
    command = [sys.executable, "-m", "bot.runtime.cli", "classify"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(data: bytes) -> tuple[float, float]:
        before, w0 = os.times(), time.perf_counter()
        done = subprocess.run(command, input=data, stdout=subprocess.PIPE, env=env, check=True)
        after = os.times()
        if data and done.stdout.count(b"\n") != len(items):
            raise RuntimeError("classify printed the wrong number of lines")
        return (after.children_user + after.children_system) - (before.children_user + before.children_system), time.perf_counter() - w0

    started = min(run(b"")[1] for _ in range(repeat))
    runs = [run(lines) for _ in range(repeat)]
    return len(items) / min(c for c, _ in runs), len(items) / min(w for _, w in runs), started


if __name__ == "__main__":
    raise SystemExit(main())
