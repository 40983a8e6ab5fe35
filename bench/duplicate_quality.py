"""Duplicate detection as the bot does it, on duplicate_pairs.csv, cross-validated.

    python bench/duplicate_quality.py [--data ../shared/data] [--folds 5] [--fit-rows 800] [--quick]

Every duplicate report is replayed as a chat message among open tickets (its master and 499
other rows' masters, other duplicate groups only; bench/duplicate_replay.py) through the
product's matching function `bot.duplicates.judge`, in two forms (one-line title, title and
description), and again with its master left out (an unrelated report: any link is wrong).

Cross-validation: rows are split into folds by duplicate group (reports sharing a master stay
together). For each fold, the word vectors are trained without the fold's rows (their texts are
left out of the corpus), and the score weights, floor, confidence model and link/suggest thresholds are fitted on
replays of the other folds' rows only; then the fold's rows are scored. Two settings:
  in-source     vectors from all data files, the training folds' duplicate pairs included
  cross-source  vectors from the other four files only (no OpenOffice text at all); weights and
                thresholds still from the training folds (the only labelled duplicates we have)
`figures()` returns them (for bench/triage_quality.py); `main()` prints them.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from duplicate_corpus import DEFAULT_DATA, TEXT_FILES, documents, pair_rows, train  # noqa: E402
from duplicate_replay import FORMS, POOL, Counts, fit, groups, score, trials  # noqa: E402

from bot.duplicates.model import DuplicateModel  # noqa: E402

SEED = 0
SMALL_POOL = 50  # a smaller war room: the same trials with 49 other open tickets


def folds(rows: list[dict[str, str]], k: int) -> list[list[int]]:
    group = groups(rows)
    ids = sorted(set(group))
    random.Random(SEED).shuffle(ids)
    fold_of = {g: n % k for n, g in enumerate(ids)}
    return [[i for i in range(len(rows)) if fold_of[group[i]] == f] for f in range(k)]


def brief(params: dict[str, Any]) -> dict[str, Any]:
    """The fitted parameters without the confidence model's vectors (for the log)."""
    return {k: {n: v for n, v in p.items() if n not in ("confidence", "floor_features")} if isinstance(p, dict) else p for k, p in params.items()}


def run(setting: str, *, data: Path, k: int, fit_rows: int, score_rows: int | None, log: Any = None) -> dict[str, Any]:
    rows = pair_rows(data)
    parts = folds(rows, k)
    totals = {pool: {form: Counts() for form in FORMS} for pool in (POOL, SMALL_POOL)}
    fitted: list[dict[str, Any]] = []
    everything = list(range(len(rows)))
    for f, scored in enumerate(parts):
        start = time.time()
        train_rows = [i for g, part in enumerate(parts) if g != f for i in part]
        pairs = [rows[i] for i in train_rows] if setting == "in-source" else None
        vectors = train(documents(data, pairs=pairs, sources=TEXT_FILES))
        model = DuplicateModel(vocab=vectors.vocab, idf=vectors.idf, vectors=vectors.vectors, params={"pair_weight": 1.0})
        sample = random.Random(SEED + f).sample(train_rows, min(fit_rows, len(train_rows)))
        model.params = fit(model, trials(rows, sample, negatives_from=train_rows, seed=SEED + f))
        fitted.append(model.params)
        chosen = scored if score_rows is None else scored[:score_rows]
        scored_trials = trials(rows, chosen, negatives_from=everything, seed=100 + f)
        for pool in (POOL, SMALL_POOL):
            for form, counts in score(model, scored_trials, pool=pool).items():
                totals[pool][form].add(counts)
        if log:
            print(f"  [{setting}] fold {f + 1}/{k}: {len(chosen)} rows scored, params {brief(model.params)} ({time.time() - start:.0f}s)", file=log, flush=True)
    out: dict[str, Any] = {"params_per_fold": fitted}
    for pool, by_form in totals.items():
        both = Counts()
        for counts in by_form.values():
            both.add(counts)
        out[f"pool{pool}"] = {**{form: c.figures() for form, c in by_form.items()}, "both": both.figures()}
    return out


def figures(*, data: Path = DEFAULT_DATA, k: int = 5, fit_rows: int = 800, score_rows: int | None = None,
            settings: tuple[str, ...] = ("cross-source", "in-source"), log: Any = None) -> dict[str, Any]:
    """{setting: {pool<N>: {form|both: link/suggestion precision and recall, ...}}}."""
    return {s: run(s, data=data, k=k, fit_rows=fit_rows, score_rows=score_rows, log=log) for s in settings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fit-rows", type=int, default=800, help="training rows replayed to fit weights/thresholds, per fold")
    parser.add_argument("--quick", action="store_true", help="score only 100 rows per fold (a smoke run, not the figures)")
    args = parser.parse_args(argv)
    result = figures(data=args.data, k=args.folds, fit_rows=args.fit_rows, score_rows=100 if args.quick else None, log=sys.stderr)
    print(f"duplicate_pairs.csv replayed through bot.duplicates.judge, {args.folds}-fold CV by duplicate group")
    for setting, by_pool in result.items():
        for pool in (POOL, SMALL_POOL):
            for form in (*FORMS, "both"):
                f = by_pool[f"pool{pool}"][form]
                print(f"{setting:12s} pool {pool:3d} {form:6s}  link P {f['link_precision']:.3f} R {f['link_recall']:.3f}"
                      f" | suggest P {f['suggestion_precision']:.3f} R {f['suggestion_recall']:.3f}"
                      f" | linked+suggested R {f['linked_or_suggested_recall']:.3f}"
                      f" | unrelated: linked {f['unrelated_linked_share']:.3f} suggested {f['unrelated_suggested_share']:.3f}"
                      f" | link P incl. unrelated {f['link_precision_with_unrelated']:.3f}  (n={f['trials']})")
    print("headline: cross-source, pool 500, both forms: link precision/recall "
          f"{result['cross-source'][f'pool{POOL}']['both']['link_precision']:.3f}/{result['cross-source'][f'pool{POOL}']['both']['link_recall']:.3f}"
          if "cross-source" in result else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
