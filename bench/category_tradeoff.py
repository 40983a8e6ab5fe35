"""Why one linear category model cannot serve GitHub issues and tracker reports at once, and what a
learned "written as a tracker bug report" gate would buy. Analysis of the classifier alone (the raw
argmax of the learned model, no rules): it explains the figures of bench/triage_quality.py, it is
not a product figure.

    python bench/category_tradeoff.py [--data ../shared/data]

1. Tracker weight: the category model trained on the GitHub issues plus the tracker reports as
   `bug` at a given weight. GitHub: 5-fold stratified CV macro-F1 (seed 0). Tracker: share classed
   `bug`, leave-one-system-out (the system's reports are absent from training).
2. Gate: the GitHub-only model, and a second NB-weighted logistic model telling tracker reports
   from GitHub issues (same features). A report it calls tracker-written at p > t is `bug`.
   GitHub rows are scored by gates trained without their fold; tracker rows by gates trained
   without their system.
3. Learning curve of the GitHub-only model: 5-fold macro-F1 with 25 / 50 / 75 / 100 % of each
   fold's training rows (the first rows of a seeded shuffle), and leave-one-repository-out.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import category_training as C  # noqa: E402
import train_triage_model as T  # noqa: E402

LABELS = ["bug", "feature", "question"]


def margins(block: dict, docs: list[list[str]], cls: str) -> np.ndarray:
    k = block["classes"].index(cls)
    out = np.empty(len(docs))
    for n, doc in enumerate(docs):
        s = block["bias"][k]
        for f in set(doc):
            w = block["weights"].get(f)
            if w:
                s += w[k]
        out[n] = s
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=T.DEFAULT_DATA)
    ap.add_argument("--curve-only", action="store_true", help="section 3 only")
    args = ap.parse_args(argv)
    issues, reports = T.read_csv(args.data / T.ISSUES), T.read_csv(args.data / T.DETAILS)
    y = [r["label"] for r in issues]
    docs, tracker = C.category_docs(issues), C.report_docs(reports)
    systems = [r["system"] for r in reports]
    folds = list(StratifiedKFold(T.FOLDS, shuffle=True, random_state=T.SEED).split(docs, y))
    held = [([i for i, s in enumerate(systems) if s != name], [i for i, s in enumerate(systems) if s == name])
            for name in sorted(set(systems))]
    macro = lambda pred: f1_score(y, pred, labels=LABELS, average="macro")  # noqa: E731

    if args.curve_only:
        return learning_curve(docs, y, [r["repo"] for r in issues], folds, macro)
    print("1. one model, tracker reports as `bug` at weight w (raw classifier)")
    for w in (0.0, 0.1, 0.3, 0.6, 1.0):
        C.TRACKER_WEIGHT = w
        pred = [""] * len(y)
        for tr, te in folds:
            block = C.train_category_mixed([docs[i] for i in tr], [y[i] for i in tr], tracker)
            for i, p in zip(te, C.predict_category(block, [docs[i] for i in te])):
                pred[i] = p
        bug = 0
        for tr, te in held:
            block = C.train_category_mixed(docs, y, [tracker[i] for i in tr])
            bug += sum(p == "bug" for p in C.predict_category(block, [tracker[i] for i in te]))
        print(f"   w={w:.1f}: GitHub 5-fold macro-F1 {macro(pred):.3f}; tracker reports `bug`, "
              f"leave-one-system-out {bug / len(reports):.1%}", flush=True)

    print("2. GitHub-only model + a learned tracker-style gate (raw classifier)")
    gh_pred, gh_gate = [""] * len(y), np.zeros(len(y))
    for tr, te in folds:
        block = C.train_category([docs[i] for i in tr], [y[i] for i in tr])
        for i, p in zip(te, C.predict_category(block, [docs[i] for i in te])):
            gh_pred[i] = p
        gate = C.train_category([docs[i] for i in tr] + tracker, ["github"] * len(tr) + ["tracker"] * len(tracker))
        gh_gate[te] = margins(gate, [docs[i] for i in te], "tracker")
    full = C.train_category(docs, y)
    tr_pred, tr_gate = [""] * len(reports), np.zeros(len(reports))
    for tr, te in held:
        gate = C.train_category(docs + [tracker[i] for i in tr], ["github"] * len(docs) + ["tracker"] * len(tr))
        tr_gate[te] = margins(gate, [tracker[i] for i in te], "tracker")
        for i, p in zip(te, C.predict_category(full, [tracker[i] for i in te])):
            tr_pred[i] = p
    print(f"   no gate: GitHub {macro(gh_pred):.3f}; tracker `bug` {np.mean([p == 'bug' for p in tr_pred]):.1%}")
    for t in (0.2, 0.3, 0.5, 0.7):
        cut = np.log(t / (1 - t))
        g = ["bug" if gh_gate[i] > cut else p for i, p in enumerate(gh_pred)]
        b = np.mean([tr_gate[i] > cut or p == "bug" for i, p in enumerate(tr_pred)])
        print(f"   gate p>{t}: GitHub {macro(g):.3f} (gated {np.mean(gh_gate > cut):.1%}); tracker `bug` {b:.1%} "
              f"(gated {np.mean(tr_gate > cut):.1%})", flush=True)
    return learning_curve(docs, y, [r["repo"] for r in issues], folds, macro)


def learning_curve(docs: list[list[str]], y: list[str], repos: list[str],
                   folds: list[tuple[np.ndarray, np.ndarray]], macro: Callable[[list[str]], float]) -> int:
    """Section 3: the GitHub-only classifier on 25-100 % of each fold's training rows."""
    print("3. GitHub-only model, learning curve (raw classifier)")
    order = np.random.default_rng(T.SEED).permutation(len(y))
    rank = {int(i): n for n, i in enumerate(order)}
    by_repo = [([i for i, r in enumerate(repos) if r != repo], [i for i, r in enumerate(repos) if r == repo])
               for repo in sorted(set(repos))]

    def held_out(splits: list, frac: float) -> list[str]:
        pred = [""] * len(y)
        for tr, te in splits:
            keep = sorted(tr, key=rank.__getitem__)[: int(len(tr) * frac)]
            block = C.train_category([docs[i] for i in keep], [y[i] for i in keep])
            for i, p in zip(te, C.predict_category(block, [docs[i] for i in te])):
                pred[i] = p
        return pred

    for frac in (0.25, 0.5, 0.75, 1.0):
        print(f"   {frac:.0%} of the training rows (~{int(len(y) * 0.8 * frac)}): 5-fold macro-F1 "
              f"{macro(held_out(folds, frac)):.3f}; leave-one-repository-out {macro(held_out(by_repo, frac)):.3f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
