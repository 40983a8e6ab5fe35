"""The tests' fake Slack Web API as its own process, for benchmarks (so it does not share a GIL
with the load generator). Prints its URL, serves until stdin closes, then prints call counts."""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_slack import FakeSlack  # noqa: E402


def main() -> None:
    fake = FakeSlack().start()
    for n in range(int(sys.argv[1]) if len(sys.argv) > 1 else 50):
        fake.add_channel(channel_id=f"C{n:03d}", name=f"war-room-{n}")
    print(fake.url, flush=True)
    sys.stdin.read()  # the bench closes our stdin when it is done
    counts = Counter(call.method for call in fake.calls)
    threads = [[c.params.get("channel"), c.params["thread_ts"]] for c in fake.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    print(json.dumps({"calls": dict(counts), "thread_replies": len(threads), "threads": threads}), flush=True)
    fake.stop()


if __name__ == "__main__":
    main()
