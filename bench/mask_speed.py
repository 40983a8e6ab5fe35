"""CPU cost of `bot.triage.mask_pii` alone (it runs on every text triage() sees; classify_speed.py
measures the whole path).

    python bench/mask_speed.py [--data ../shared/data] [--repeat 7]

Times mask_pii over the issue bodies of the development data (title + body) and over the chat
messages of its threads; prints the best CPU time of --repeat runs per text. To compare two
versions, run this script from each checkout one after the other (or interleaved) on the same
machine: on a shared machine only figures taken side by side mean anything.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.triage import mask_pii  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"


def _rows(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _best(texts: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for text in texts:
            mask_pii(text)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    issues = [f"{r.get('title') or ''}\n{r.get('body') or ''}" for r in _rows(args.data / "issue_reports_labelled.csv")]
    sets = {"issue bodies": issues}
    chat_file = args.data / "chat_threads.csv"
    if chat_file.exists():
        rows = _rows(chat_file)
        column = next((c for c in ("text", "message", "opening", "body") if rows and c in rows[0]), None)
        if column:
            sets["chat messages"] = [r[column] or "" for r in rows]
    for name, texts in sets.items():
        seconds = _best(texts, args.repeat)
        average = sum(map(len, texts)) // max(1, len(texts))
        print(f"mask_pii, {name}: {len(texts)} texts ({average} chars avg), best of {args.repeat}: "
              f"{seconds * 1000:.0f} ms CPU = {seconds * 1e6 / max(1, len(texts)):.1f} µs/text")


if __name__ == "__main__":
    main()
