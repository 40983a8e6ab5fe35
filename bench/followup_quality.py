"""How well a reply in the thread fills the detail the bot asked for (issue: follow-up questions).

    python bench/followup_quality.py [--data ../shared/data] [--verbose]

For every development report in bug_reports_ob_eb_s2r.csv that lacks steps to reproduce (S2R) or
expected behaviour (EB) by its labels, the bot asks for what is missing; the reporter's answer is
simulated from bench/followup_answers.json (hand-written replies, see its "_about"): one reply per
missing detail, sent in one of several shapes chosen deterministically per report — a separate
message per detail, both in one message (same line or on two lines), labelled ("Steps: …"), and
with extra sentences nobody asked for (actual behaviour, environment) mixed in. The replies go
through the very code the bot runs (bot.followups.answers.understand + merge, via the same loop as
bot.followups.questions), and each asked detail is scored:
  * right  — the detail was filled and holds the reply written for it (>= 60 % of its words) and
             no more than a third of what was stored came from other sentences;
  * wrong  — filled, but mostly with text meant for something else;
  * missed — left empty (the bot would ask again for it).
Two answer sets: "tuning" (followup_answers.json, which the parser was developed against) and
"held-out" (followup_answers_heldout.json, written afterwards and never used to change the parser):
the held-out figure is the honest one. Also printed: how many conversations ended with everything asked for filled right, and how often
a distractor sentence leaked into steps or expected.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.followups.answers import merge, understand  # noqa: E402

HERE = Path(__file__).resolve().parent
ANSWER_SETS = {"tuning": HERE / "followup_answers.json", "held-out": HERE / "followup_answers_heldout.json"}
SHAPES = ("separate", "one_line", "two_lines", "labelled", "with_actual", "with_environment", "actual_first")


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower())) - {"the", "a", "an", "and", "to", "it", "i", "in", "of", "on"}


def pick(pool: list[str], key: str) -> str:
    return pool[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(pool)]


def conversation(row: dict[str, str], asked: list[str], pool: dict[str, list[str]]) -> tuple[list[str], dict[str, str], list[str]]:
    """The reporter's messages, the gold reply per asked detail, and the distractor sentences used."""
    key = f"{row['system']}:{row['bug_id']}"
    gold = {d: pick(pool[d], f"{key}:{d}") for d in asked}
    shape = pick(list(SHAPES), f"{key}:shape")
    extra: list[str] = []
    if shape == "with_actual" or shape == "actual_first":
        extra = [pick(pool["actual"], f"{key}:actual")]
    elif shape == "with_environment":
        extra = [pick(pool["environment"], f"{key}:env")]
    parts = [gold[d] for d in asked]
    if shape == "labelled":
        label = {"steps": "Steps", "expected": "Expected"}
        parts = [f"{label[d]}: {gold[d]}" for d in asked]
    if shape == "separate":
        return parts, gold, extra
    if shape == "actual_first":
        return ["\n".join(extra + parts)], gold, extra
    joined = "\n".join(parts) if shape in ("two_lines", "labelled") else ". ".join(p.rstrip(".") for p in parts)
    if extra:
        joined = f"{joined.rstrip('.')}, {extra[0]}" if extra[0].startswith("but") else f"{joined.rstrip('.')}. {extra[0]}"
    return [joined], gold, extra


def simulate(messages: list[str], asked: list[str]) -> dict[str, str]:
    """The same loop bot.followups.questions runs for each reply in the thread."""
    filled: dict[str, str] = {}
    for text in messages:
        pending = [d for d in asked if d not in filled]
        understood = understand(text=text, wanted=pending, category="bug")
        filled.update(merge(current=filled, understood=understood, pending=pending, appendable=list(filled)))
    return filled


def judge(value: str | None, gold: str) -> str:
    if not value:
        return "missed"
    got, want = words(value), words(gold)
    covered = len(got & want) / max(1, len(want))
    foreign = len(got - want) / max(1, len(got))
    return "right" if covered >= 0.6 and foreign <= 1 / 3 else "wrong"


def evaluate(rows: list[dict[str, str]], pool: dict[str, list[str]], *, verbose: bool = False) -> dict[str, Any]:
    outcome: dict[str, Counter[str]] = {"steps": Counter(), "expected": Counter()}
    shapes: dict[str, Counter[str]] = {}
    complete = conversations = leaks = 0
    for row in rows:
        asked = [d for d, col in (("steps", "has_s2r"), ("expected", "has_eb")) if row[col] == "0"]
        if not asked:
            continue
        conversations += 1
        messages, gold, extra = conversation(row, asked, pool)
        filled = simulate(messages, asked)
        shape = pick(list(SHAPES), f"{row['system']}:{row['bug_id']}:shape")
        verdicts = {d: judge(filled.get(d), gold[d]) for d in asked}
        for d, verdict in verdicts.items():
            outcome[d][verdict] += 1
            shapes.setdefault(shape, Counter())[verdict] += 1
            if extra and filled.get(d) and words(extra[0]) & (words(filled[d]) - words(gold[d])):
                leaks += 1
            if verbose and verdict != "right":
                print(f"  {verdict:6s} {d:8s} [{shape}] {messages!r} -> {filled.get(d)!r}")
        complete += all(v == "right" for v in verdicts.values())
    total: Counter[str] = Counter()
    for counts in outcome.values():
        total.update(counts)
    n = sum(total.values())
    return {
        "conversations": conversations, "details": n, "right": total["right"] / n, "wrong": total["wrong"] / n,
        "missed": total["missed"] / n, "complete": complete / conversations, "leaks": leaks,
        "per_field": {d: {k: c[k] / sum(c.values()) for k in ("right", "wrong", "missed")} | {"n": sum(c.values())} for d, c in outcome.items()},
        "shapes": {s: c["right"] / sum(c.values()) for s, c in sorted(shapes.items())},
    }


def report(name: str, result: dict[str, Any]) -> None:
    print(f"  {name} answers: every asked detail filled right in {result['complete']:.1%} of conversations")
    for d, r in [*result["per_field"].items(), ("all", {"right": result["right"], "wrong": result["wrong"], "missed": result["missed"], "n": result["details"]})]:
        print(f"    {d:9s} filled right {r['right']:6.1%}   wrong {r['wrong']:5.1%}   missed {r['missed']:5.1%}   (n={r['n']})")
    print(f"    distractor text (actual/environment) leaking into steps or expected: {result['leaks']} of {result['details']} details")
    print("    by reply shape: " + ", ".join(f"{s} {v:.0%}" for s, v in result["shapes"].items()))


def load_rows(data: str | Path) -> list[dict[str, str]]:
    csv.field_size_limit(10**9)
    with open(Path(data) / "bug_reports_ob_eb_s2r.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Print the figures; return them (bench/triage_quality.py calls this)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--verbose", action="store_true", help="print every detail that was not filled right")
    args = parser.parse_args(argv)
    rows = load_rows(args.data)
    results = {}
    for name, path in ANSWER_SETS.items():
        results[name] = evaluate(rows, json.loads(path.read_text()), verbose=args.verbose)
    first = next(iter(results.values()))
    print(f"FOLLOW-UP ANSWERS on {first['conversations']} development reports lacking steps or expected behaviour "
          f"({first['details']} details asked for), replies simulated per report:")
    for name, result in results.items():
        report(name, result)
    return results


if __name__ == "__main__":
    main()
