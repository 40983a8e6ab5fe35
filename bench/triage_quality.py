"""Quality of what `hypercare classify` prints (is_report, category, missing), across sources.

    python bench/triage_quality.py [--data ../shared/data] [--quick]

Every figure runs texts through `bot.triage.classify.classify_stream` (the code behind `hypercare
classify`: JSON lines in, JSON lines out) and scores the printed fields; no internal function is
scored. Where a learned part would have seen the scored rows, it is retrained without them
(bench/train_triage_model.py's own functions) and swapped in with `bot.triage.model.set_model`.

HEADLINE (cross-source: the scored source trained nothing that scores it)
  * chat_threads.csv openings as chat messages: "bug report" (is_report and a bug-family category)
    P/R/F1 against programming/library/documentation_problem, and the share asked for details.
    Chat trains nothing; the threads with an odd id were never looked at while writing rules
    (the even ones were): both halves are printed, the odd half is the headline.
  * bug_reports_ob_eb_s2r.csv (tracker bug reports): share classed in the bug family, and
    missing-EB / missing-S2R P/R/F1 through `missing`, leave-one-system-out: the tracker-style
    gate and the report-level presence models (the parts fitted on this file) are retrained
    without the scored system's reports. Also with no tracker data at all (no gate, presence
    models removed): the sentence model, trained on other reports' sentences, and the rules decide.
    bug_report_sentences.csv shares some sentences with this file, so the section is printed again
    with the sentence model retrained without them (the stricter figure).
  * issue_reports_labelled.csv: bug/feature/question macro-F1 leave-one-repository-out, on the
    full issues and on their titles alone sent as chat messages.
IN-SOURCE (held out from training, same source): 5-fold CV on the issues; 5-fold CV and
leave-one-system-out of the presence models on the tracker reports.
IN-SAMPLE (the shipped model, trained on these rows: optimistic, never the headline).
"""
from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import category_training as C  # noqa: E402
import train_triage_model as T  # noqa: E402

from bot.triage.classify import classify_stream  # noqa: E402
from bot.triage.model import load_model, set_model  # noqa: E402

BUG_FAMILY = {"bug", "performance", "usability", "integration", "data"}
TO_BENCH = {"feature_request": "feature", "question": "question", "documentation": "question"}
LABELS = ("bug", "feature", "question")
CHAT_PROBLEM = {"programming_problem", "library_problem", "documentation_problem"}


def classify(records: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
    """`hypercare classify` in-process: JSON lines in, the printed JSON lines parsed back."""
    lines = "".join(json.dumps(r) + "\n" for r in records)
    out = io.StringIO()
    classify_stream(io.StringIO(lines), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def with_model(model: dict[str, Any], fn: Callable[[], Any]) -> Any:
    set_model(model)
    try:
        return fn()
    finally:
        set_model(None)


def bench_label(category: str) -> str:
    return TO_BENCH.get(category, "bug")


def prf(truth: list[bool], pred: list[bool]) -> str:
    p, r, f, _ = precision_recall_fscore_support(truth, pred, average="binary", zero_division=0)
    return f"P {p:.3f}  R {r:.3f}  F1 {f:.3f}"


def macro(y: list[str], pred: list[str]) -> float:
    return float(f1_score(y, pred, labels=list(LABELS), average="macro"))


def per_class(y: list[str], pred: list[str]) -> str:
    p, r, f, _ = precision_recall_fscore_support(y, pred, labels=list(LABELS), zero_division=0)
    return "  ".join(f"{lab} P{p[i]:.2f}/R{r[i]:.2f}/F{f[i]:.2f}" for i, lab in enumerate(LABELS))


# ------------------------------------------------------------------------------------------ chat

def chat_figures(threads: list[dict[str, str]], model: dict[str, Any]) -> None:
    out = with_model(model, lambda: classify({"text": t["opening"]} for t in threads))
    print("== Chat openings (chat_threads.csv, sent as chat messages; chat trains nothing) ==")
    for name, keep in (("HELD-OUT half (odd thread ids, never read while writing rules)", 1),
                       ("rule-writing half (even thread ids)", 0), ("all threads", None)):
        idx = [i for i, t in enumerate(threads) if keep is None or int(t["thread"]) % 2 == keep]
        truth = [threads[i]["intention"] in CHAT_PROBLEM for i in idx]
        pred = [out[i]["is_report"] and out[i]["category"] in BUG_FAMILY for i in idx]
        asked = [bool(out[i]["missing"]) for i in idx]
        asked_other = [a for a, t in zip(asked, truth) if not t]
        base = prf(truth, [True] * len(truth)).split("F1 ")[1]
        print(f"  {name} (n={len(idx)}, {sum(truth)} problems):")
        print(f"    bug report  {prf(truth, pred)}   (calling every opening a bug: F1 {base})")
        print(f"    asked for details: {np.mean(asked):.1%} of openings; {np.mean(asked_other):.1%} of the "
              f"non-problem ones (how-to, information, discussion)")
        cats: dict[str, int] = {}
        for i in idx:
            cats[out[i]["category"] if out[i]["is_report"] else "not a report"] = cats.get(
                out[i]["category"] if out[i]["is_report"] else "not a report", 0) + 1
        print("    categories: " + ", ".join(f"{k} {v}" for k, v in sorted(cats.items(), key=lambda kv: -kv[1])))


# ---------------------------------------------------------------------------------------- issues

def issue_figures(issues: list[dict[str, str]], reports: list[dict[str, str]], shipped: dict[str, Any],
                  folds: int) -> None:
    y = [r["label"] for r in issues]
    repos = [r["repo"] for r in issues]
    docs = C.category_docs(issues)
    tracker = C.report_docs(reports)          # another source: in every fold's training, as when shipped
    full = lambda rows: [bench_label(o["category"]) for o in classify({"title": r["title"], "body": r["body"]}  # noqa: E731
                                                                        for r in rows)]
    titles = lambda rows: [bench_label(o["category"]) for o in classify({"text": r["title"]} for r in rows)]  # noqa: E731
    print("\n== GitHub issues (issue_reports_labelled.csv): bug / feature / question macro-F1 ==")
    loro_full: list[str] = [""] * len(issues)
    loro_title: list[str] = [""] * len(issues)
    per_repo = []
    for repo in sorted(set(repos)):
        te = [i for i, r in enumerate(repos) if r == repo]
        tr = [i for i, r in enumerate(repos) if r != repo]
        model = {**shipped, **C.category_blocks([docs[i] for i in tr], [y[i] for i in tr], tracker)}
        rows = [issues[i] for i in te]
        a = with_model(model, lambda: full(rows))
        b = with_model(model, lambda: titles(rows))
        for i, p, q in zip(te, a, b):
            loro_full[i], loro_title[i] = p, q
        per_repo.append(f"{repo.split('/')[-1]} {macro([y[i] for i in te], a):.3f}/{macro([y[i] for i in te], b):.3f}")
    print(f"  CROSS-SOURCE leave-one-repository-out, full issue   macro-F1 {macro(y, loro_full):.3f}   "
          f"{per_class(y, loro_full)}")
    print(f"  CROSS-SOURCE leave-one-repository-out, title as chat macro-F1 {macro(y, loro_title):.3f}   "
          f"{per_class(y, loro_title)}")
    print(f"    per repository (full/title): {', '.join(per_repo)}")
    cv_full: list[str] = [""] * len(issues)
    cv_title: list[str] = [""] * len(issues)
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=T.SEED).split(docs, y):
        model = {**shipped, **C.category_blocks([docs[i] for i in tr], [y[i] for i in tr], tracker)}
        rows = [issues[i] for i in te]
        a = with_model(model, lambda: full(rows))
        b = with_model(model, lambda: titles(rows))
        for i, p, q in zip(te, a, b):
            cv_full[i], cv_title[i] = p, q
    print(f"  IN-SOURCE {folds}-fold stratified CV (seed {T.SEED}), full issue    macro-F1 {macro(y, cv_full):.3f}   "
          f"{per_class(y, cv_full)}")
    print(f"  IN-SOURCE {folds}-fold stratified CV, title as chat             macro-F1 {macro(y, cv_title):.3f}")
    ins = with_model(shipped, lambda: full(issues))
    print(f"  IN-SAMPLE (shipped model, trained on these rows): full issue macro-F1 {macro(y, ins):.3f}, "
          f"title as chat {macro(y, with_model(shipped, lambda: titles(issues))):.3f}")


# ------------------------------------------------------------------------------- tracker reports

def missing_figures(name: str, reports: list[dict[str, str]], out: list[dict[str, Any]]) -> None:
    family = [o["category"] in BUG_FAMILY for o in out]
    print(f"  {name}")
    print(f"    classed in the bug family: {np.mean(family):.1%} of {len(out)} (all are bug reports)")
    for key, col, detail in (("missing EB ", "has_eb", "expected"), ("missing S2R", "has_s2r", "steps")):
        truth = [r[col] == "0" for r in reports]
        pred = [detail in o["missing"] for o in out]
        print(f"    {key} through `missing`  {prf(truth, pred)}  (missing in {sum(truth)} of {len(truth)})")


def _norm(line: str) -> str:
    return " ".join(re.findall(r"\w+", line.lower()))


def sentences_disjoint_from(sentences: list[dict[str, str]], reports: list[dict[str, str]]) -> list[dict[str, str]]:
    """The labelled sentences minus those that occur in a tracker report (title or description line):
    bug_report_sentences.csv shares some sentences with bug_reports_ob_eb_s2r.csv."""
    seen = {_norm(r["title"]) for r in reports}
    seen.update(_norm(line) for r in reports for line in r["description"].splitlines())
    return [s for s in sentences if _norm(s["sentence"]) not in seen]


def tracker_figures(reports: list[dict[str, str]], issues: list[dict[str, str]], shipped: dict[str, Any],
                    folds: int, *, curve: bool = False, sentences: list[dict[str, str]] | None = None) -> None:
    run = lambda rows: classify({"title": r["title"], "body": r["description"]} for r in rows)  # noqa: E731
    print("\n== Tracker bug reports (bug_reports_ob_eb_s2r.csv) ==")
    idocs, labels = C.category_docs(issues), [r["label"] for r in issues]
    rdocs = C.report_docs(reports)
    cross = {**{k: v for k, v in shipped.items() if k not in ("details", "chat_category")},
             "category": C.train_category(idocs, labels)}
    missing_figures("CROSS-SOURCE, no tracker data at all (category model from the issues only, so no tracker-style "
                    "gate and the prose rules decide; report-level presence models removed; shipped sentence model)",
                    reports, with_model(cross, lambda: run(reports)))
    if sentences:
        kept = sentences_disjoint_from(sentences, reports)
        strict = {**cross, "sentences": T.train_sentences(kept)}
        missing_figures(f"CROSS-SOURCE, sentence model also retrained without the {len(sentences) - len(kept)} "
                        f"labelled sentences that occur in these reports ({len(kept)} kept)",
                        reports, with_model(strict, lambda: run(reports)))
    feats = with_model(shipped, lambda: T.detail_docs(reports))
    strat = [r["has_eb"] + r["has_s2r"] for r in reports]
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=T.SEED).split(feats, strat))

    def fold_run(tr: list[int], te: list[int], frac: float) -> list[dict[str, Any]]:
        tr = list(tr)[: int(len(tr) * frac)]
        model = {**shipped, **C.category_blocks(idocs, labels, [rdocs[i] for i in tr])}
        if tr:
            model["details"] = T.train_details([reports[i] for i in tr], [feats[i] for i in tr])
        else:
            model.pop("details", None)
        return with_model(model, lambda: run([reports[i] for i in te]))

    for frac in ((0.0, 0.1, 0.25, 0.5, 1.0) if curve else (1.0,)):
        cv_out: list[dict[str, Any]] = [{}] * len(reports)
        for tr, te in splits:
            for i, o in zip(te, fold_run(tr, te, frac)):
                cv_out[i] = o
        missing_figures(f"IN-SOURCE {folds}-fold CV (stratified on EB+S2R, seed {T.SEED}): category model and presence "
                        f"models retrained with {frac:.0%} of the other folds' tracker reports", reports, cv_out)
    systems = [r["system"] for r in reports]
    sys_out: list[dict[str, Any]] = [{}] * len(reports)
    for system in sorted(set(systems)):
        te = [i for i, s in enumerate(systems) if s == system]
        tr = [i for i, s in enumerate(systems) if s != system]
        for i, o in zip(te, fold_run(tr, te, 1.0)):
            sys_out[i] = o
    missing_figures("CROSS-SYSTEM leave-one-system-out, the tracker HEADLINE (category blocks, tracker-style gate "
                    "and presence models never saw the scored system's reports)",
                    reports, sys_out)
    missing_figures("IN-SAMPLE (shipped models, trained on these rows)", reports, with_model(shipped, lambda: run(reports)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="triage quality across sources, through `hypercare classify`")
    ap.add_argument("--data", type=Path, default=T.DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=T.FOLDS)
    ap.add_argument("--only", choices=("chat", "issues", "tracker"), help="one section only")
    ap.add_argument("--curve", action="store_true", help="also the tracker learning curve (share of tracker reports "
                                                        "in training: 0, 10, 25, 50, 100 %% of each fold's rows)")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    shipped = load_model()
    prov = shipped.get("provenance", {})
    print(f"data: {args.data}; shipped model trained {prov.get('trained_on', '?')} by {prov.get('script', '?')} "
          f"(chat_threads.csv trains nothing)\n")
    if args.only in (None, "chat"):
        chat_figures(T.read_csv(args.data / T.CHAT), shipped)
    if args.only in (None, "issues"):
        issue_figures(T.read_csv(args.data / T.ISSUES), T.read_csv(args.data / T.DETAILS), shipped, args.folds)
    if args.only in (None, "tracker"):
        tracker_figures(T.read_csv(args.data / T.DETAILS), T.read_csv(args.data / T.ISSUES), shipped, args.folds,
                        curve=args.curve, sentences=T.read_csv(args.data / T.SENTENCES))
    print(f"\n({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
