"""Quality of `bot.triage.triage()` (the code path of `hypercare classify`) on the development data.

    python bench/triage_quality.py [--data ../shared/data] [--folds 5] [--no-cv]

Figures printed:
  * category macro-F1 over bug / feature / question (feature_request -> feature; question and
    documentation -> question; everything else -> bug), with per-class P/R/F1;
  * detection of *missing* expected behaviour (EB) and *missing* steps to reproduce (S2R):
    predicted missing = triage(...).fields["expected" | "steps"] is None.
IN-SAMPLE figures use the shipped model file, which was trained on all of these rows: they are
optimistic. HELD-OUT figures retrain the learned parts per fold (same code as
bench/train_triage_model.py), swap them in with bot.triage.model.set_model, and run the very same
triage() on the held-out fold only. The held-out figures are the honest ones. Leave-one-repository-out
(category) and leave-one-system-out (missing details) score each project with models that never saw
it: the figures to expect on a product unlike these.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_triage_model as T  # noqa: E402

from bot.triage import triage  # noqa: E402
from bot.triage.model import load_model, set_model  # noqa: E402

TO_BENCH = {"feature_request": "feature", "question": "question", "documentation": "question"}
LABELS = ("bug", "feature", "question")


def bench_label(category: str) -> str:
    return TO_BENCH.get(category, "bug")


def classify_rows(rows: list[dict[str, str]]) -> list[str]:
    return [bench_label(triage(text=r["body"], title=r["title"]).category) for r in rows]


def missing_rows(rows: list[dict[str, str]]) -> tuple[list[bool], list[bool]]:
    eb, s2r = [], []
    for r in rows:
        t = triage(text=r["description"], title=r["title"])
        eb.append(t.fields["expected"] is None)
        s2r.append(t.fields["steps"] is None)
    return eb, s2r


def with_model(model: dict[str, Any], fn: Callable[[], Any]) -> Any:
    set_model(model)
    try:
        return fn()
    finally:
        set_model(None)


def print_category(name: str, y: list[str], pred: list[str], repos: list[str]) -> float:
    macro = float(f1_score(y, pred, labels=list(LABELS), average="macro"))
    ya, pa, ra = np.asarray(y), np.asarray(pred), np.asarray(repos)
    per_repo = [f1_score(ya[ra == r], pa[ra == r], labels=list(LABELS), average="macro") for r in sorted(set(repos))]
    print(f"{name}: macro-F1 {macro:.3f}   (mean of per-repository macro-F1 {np.mean(per_repo):.3f})")
    p, r, f, n = precision_recall_fscore_support(y, pred, labels=list(LABELS), zero_division=0)
    for i, lab in enumerate(LABELS):
        print(f"    {lab:9s} P {p[i]:.3f}  R {r[i]:.3f}  F1 {f[i]:.3f}  (n={n[i]})")
    return macro


def print_missing(name: str, rows: list[dict[str, str]], eb: list[bool], s2r: list[bool]) -> None:
    print(name)
    for key, col, pred in (("missing EB ", "has_eb", eb), ("missing S2R", "has_s2r", s2r)):
        truth = [r[col] == "0" for r in rows]
        p, r, f, _ = precision_recall_fscore_support(truth, pred, average="binary", zero_division=0)
        print(f"    {key}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (missing in {sum(truth)} of {len(truth)})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="triage quality on the development data")
    ap.add_argument("--data", type=Path, default=T.DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=T.FOLDS)
    ap.add_argument("--no-cv", action="store_true", help="only the in-sample figures")
    ap.add_argument("--details-seeds", type=int, default=1, metavar="N",
                    help="repeat the missing-details k-fold CV with fold seeds 0..N-1 and print the mean "
                         "(one 5-fold split of 817 rows moves F1 by about ±0.01)")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    issues = T.read_csv(args.data / T.ISSUES)
    reports = T.read_csv(args.data / T.DETAILS)
    shipped = load_model()
    prov = shipped.get("provenance", {})
    print(f"data: {args.data}  ({len(issues)} labelled issues, {len(reports)} OB/EB/S2R reports)")
    print(f"shipped model trained {prov.get('trained_on', '?')} by {prov.get('script', '?')}\n")
    y = [r["label"] for r in issues]
    repos = [r["repo"] for r in issues]

    print("== Category (bug / feature / question) ==")
    print_category("IN-SAMPLE (shipped model, trained on these rows)", y, classify_rows(issues), repos)
    if not args.no_cv:
        docs = T.category_docs(issues)
        pred: list[str] = [""] * len(issues)
        folds = StratifiedKFold(args.folds, shuffle=True, random_state=T.SEED)
        for tr, te in folds.split(docs, y):
            block = T.train_category([docs[i] for i in tr], [y[i] for i in tr])
            fold_pred = with_model({**shipped, "category": block}, lambda: classify_rows([issues[i] for i in te]))
            for i, p in zip(te, fold_pred):
                pred[i] = p
        print_category(f"HELD-OUT ({args.folds}-fold stratified CV, seed {T.SEED}, model retrained per fold)",
                       y, pred, repos)
        pred_repo: list[str] = [""] * len(issues)
        for repo in sorted(set(repos)):
            te = [i for i, r in enumerate(repos) if r == repo]
            tr = [i for i, r in enumerate(repos) if r != repo]
            block = T.train_category([docs[i] for i in tr], [y[i] for i in tr])
            fold_pred = with_model({**shipped, "category": block}, lambda: classify_rows([issues[i] for i in te]))
            for i, p in zip(te, fold_pred):
                pred_repo[i] = p
        print_category("HELD-OUT (leave-one-repository-out: each repo scored by a model that never saw it)",
                       y, pred_repo, repos)

    print("\n== Missing details (predicted missing = fields[...] is None) ==")
    eb, s2r = missing_rows(reports)
    print_missing("IN-SAMPLE (shipped presence models, trained on these rows)", reports, eb, s2r)
    eb, s2r = with_model({**shipped, "details": {}}, lambda: missing_rows(reports))
    print_missing("RULES ONLY (no learned weights: nothing fitted on this file)", reports, eb, s2r)
    if not args.no_cv:
        feats = T.detail_docs(reports)
        eb_cv: list[bool] = [False] * len(reports)
        s2r_cv: list[bool] = [False] * len(reports)
        strat = [r["has_eb"] + r["has_s2r"] for r in reports]
        for tr, te in StratifiedKFold(args.folds, shuffle=True, random_state=T.SEED).split(feats, strat):
            block = T.train_details([reports[i] for i in tr], [feats[i] for i in tr])
            e, s = with_model({**shipped, "details": block}, lambda: missing_rows([reports[i] for i in te]))
            for i, a, b in zip(te, e, s):
                eb_cv[i], s2r_cv[i] = a, b
        print_missing(f"HELD-OUT ({args.folds}-fold CV stratified on EB+S2R, seed {T.SEED}, retrained per fold)",
                      reports, eb_cv, s2r_cv)
        if args.details_seeds > 1:
            f1s = {"EB": [], "S2R": []}
            for seed in range(args.details_seeds):
                for tr, te in StratifiedKFold(args.folds, shuffle=True, random_state=seed).split(feats, strat):
                    block = T.train_details([reports[i] for i in tr], [feats[i] for i in tr])
                    e, s = with_model({**shipped, "details": block}, lambda: missing_rows([reports[i] for i in te]))
                    for i, a, b in zip(te, e, s):
                        eb_cv[i], s2r_cv[i] = a, b
                for key, col, pred_missing in (("EB", "has_eb", eb_cv), ("S2R", "has_s2r", s2r_cv)):
                    f1s[key].append(f1_score([r[col] == "0" for r in reports], pred_missing, zero_division=0))
            print(f"HELD-OUT, mean over fold seeds 0..{args.details_seeds - 1}")
            for key, vals in f1s.items():
                print(f"    missing {key:4s} F1 {np.mean(vals):.3f}  (per seed: {' '.join(f'{v:.3f}' for v in vals)})")
        # a system never seen in training (its own vocabulary, templates and coding habits)
        systems = [r["system"] for r in reports]
        for system in sorted(set(systems)):
            te = [i for i, s in enumerate(systems) if s == system]
            tr = [i for i, s in enumerate(systems) if s != system]
            block = T.train_details([reports[i] for i in tr], [feats[i] for i in tr])
            e_sys, s_sys = with_model({**shipped, "details": block}, lambda: missing_rows([reports[i] for i in te]))
            for i, a, b in zip(te, e_sys, s_sys):
                eb_cv[i], s2r_cv[i] = a, b
        print_missing("HELD-OUT (leave-one-system-out: each system scored by models that never saw it)",
                      reports, eb_cv, s2r_cv)
    print(f"\n({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
