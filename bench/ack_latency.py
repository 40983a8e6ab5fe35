"""Acknowledgement latency while Slack is slow (issue 13, item 1).

Runs the bot (HTTP mode, Waitress, SQLite in a temporary file) and the tests' fake Slack on
loopback, makes every Web API answer (and every response_url answer) come 0, 1 and 4 seconds late,
and sends signed requests one after another: `/hc new <text>`, `/hc list`, a card button
("Assign me") and the message shortcut. Prints p50/p99 of the wall time from sending each request
to its HTTP answer, and how long after its request each shortcut's `views.open` reached Slack (the
trigger_id lives 3 s). Target: every acknowledgement p99 under 1 s with Slack at 4 s. Prints
figures; asserts nothing.

    python bench/ack_latency.py [--requests 40] [--delays 0,1,4] [--pause 0.05]
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runtime.app import create_hypercare  # noqa: E402
from bot.runtime.server import HttpServer  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from models.db import upgrade  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_requests import SlackSender, new_ts  # noqa: E402

SECRET = "bench-signing-secret"
KINDS = ("/hc new", "/hc list", "card button", "shortcut")


def pct(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def run_one(*, delay: float, requests: int, pause: float, workdir: Path) -> dict[str, list[float]]:
    fake = FakeSlack().start()
    for channel in ("C100", "C101"):
        fake.add_channel(channel_id=channel, name=f"war-room-{channel.lower()}")
    url = f"sqlite:///{workdir / f'bench-{delay:g}.db'}"
    upgrade(url)
    settings = Settings(bot_token="xoxb-bench", signing_secret=SECRET, api_url=fake.url, database_url=url, workers=4, channel_post_interval=0.0)
    hypercare = create_hypercare(settings=settings, migrate=False)
    hypercare.start()  # learns who it is and who is who while Slack is still quick (start-up)
    server = HttpServer(hypercare=hypercare, host="127.0.0.1", port=0, threads=8).start()
    slack = SlackSender(base_url=server.url, signing_secret=SECRET, team_id=fake.team_id, bot_user_id=fake.bot_user_id, timeout=30.0)
    slack.command(text="new Seed ticket for the card button", channel="C101")  # HC-1, before Slack slows down
    fake.delay_all(seconds=delay)
    took: dict[str, list[float]] = {kind: [] for kind in KINDS}
    opened_after: list[float] = []
    sent_at: dict[str, float] = {}
    for n in range(requests):
        for kind in KINDS:
            started, wall = time.monotonic(), time.time()
            if kind == "/hc new":
                response = slack.command(text=f"new Checkout button {n} does nothing on Safari", channel="C100", user=f"U{n % 7}",
                                         response_url=fake.response_url(key=f"new{n}"))
            elif kind == "/hc list":
                response = slack.command(text="list", channel="C100", user="U1", response_url=fake.response_url(key=f"list{n}"))
            elif kind == "card button":
                response = slack.block_action(action_id="assign_me", value="HC-1", user=f"U_T{n}", channel="C101",
                                              response_url=fake.response_url(key=f"btn{n}"))
            else:
                trigger = f"trig-bench-{delay:g}-{n}"
                sent_at[trigger] = wall
                message = {"type": "message", "ts": new_ts(), "user": "U_AUTHOR", "text": f"Export {n} drops the last row"}
                response = slack.shortcut(callback_id="hc_create_ticket", message=message, channel="C100", trigger_id=trigger,
                                          response_url=fake.response_url(key=f"sc{n}"))
            elapsed = time.monotonic() - started
            if response.status != 200:
                print(f"  {kind}: HTTP {response.status} {response.body[:120]}", file=sys.stderr)
            took[kind].append(elapsed)
            time.sleep(pause)
    deadline = time.monotonic() + delay * 4 + 10
    while time.monotonic() < deadline and len([c for c in fake.calls_to("views.open") if c.params.get("trigger_id") in sent_at]) < requests:
        time.sleep(0.05)
    for call in fake.calls_to("views.open"):
        trigger = call.params.get("trigger_id")
        if trigger in sent_at:
            opened_after.append(call.at - sent_at[trigger])
    took["views.open asked after the shortcut"] = opened_after
    fake.delay_all(seconds=0)
    server.stop()
    hypercare.stop()
    hypercare.engine.dispose()
    fake.stop()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=40, help="requests of each kind per Slack delay (default 40)")
    parser.add_argument("--delays", default="0,1,4", help="seconds Slack takes to answer, comma-separated (default 0,1,4)")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between requests (default 0.05)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    delays = [float(d) for d in args.delays.split(",")]
    print(f"ack latency: {args.requests} requests of each kind per delay, sent one at a time over loopback; seconds")
    print(f"{'Slack answers in':>17} {'request':<38} {'n':>4} {'p50':>7} {'p99':>7} {'max':>7}")
    with tempfile.TemporaryDirectory(prefix="hc-ack-bench-") as tmp:
        for delay in delays:
            results = run_one(delay=delay, requests=args.requests, pause=args.pause, workdir=Path(tmp))
            for kind, values in results.items():
                if not values:
                    print(f"{delay:>16g}s {kind:<38} {0:>4}       -       -       -")
                    continue
                print(f"{delay:>16g}s {kind:<38} {len(values):>4} {pct(values, 50):7.3f} {pct(values, 99):7.3f} {max(values):7.3f}")


if __name__ == "__main__":
    main()
