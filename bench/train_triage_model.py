"""Train the triage model file bot/triage/category_model.json.gz and print cross-validated figures.

    python bench/train_triage_model.py [--data ../shared/data] [--out bot/triage/category_model.json.gz]

Needs scikit-learn + numpy (the `bench` extra); the package itself scores the exported weights
with the standard library only. Deterministic: fixed fold seeds, lbfgs solver, sorted JSON, gzip
mtime 0.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot.triage.extract import detail_features  # noqa: E402
from bot.triage.model import sentence_features  # noqa: E402
from category_training import (CAT_PARAMS, FOLDS, SEED, category_blocks, category_docs, cv_category,  # noqa: E402
                               identity, prepared, report_docs)


def _default_data() -> Path:
    """../shared/data beside the checkout, else /work/shared/data (a git worktree sits one level deeper)."""
    for candidate in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"):
        if candidate.exists():
            return candidate
    return ROOT.parent / "shared" / "data"


DEFAULT_DATA = _default_data()
DEFAULT_OUT = ROOT / "bot" / "triage" / "category_model.json.gz"
ISSUES = "issue_reports_labelled.csv"
DETAILS = "bug_reports_ob_eb_s2r.csv"
SENTENCES = "bug_report_sentences.csv"
CHAT = "chat_threads.csv"
# Hyperparameters of the detail and sentence models (the category model's: category_training.py).
DETAIL_PARAMS = {"model": "logistic regression over extract.py cue features (binary), incl. implicit-EB "
                          "cues (patterns.EB_IMPLICIT), counter cues (patterns.EB_COUNTER), the title "
                          "imperative (patterns.TITLE_IMPERATIVE) and title cue features (t_eb_*)",
                 "C_grid": [0.03, 0.1, 0.3, 1.0], "threshold_grid": [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7],
                 "selection": "C and decision threshold chosen per model by an inner 5-fold CV (seed 1) on the "
                              "training rows only, maximising F1 of detecting the missing detail; held-out "
                              "figures retrain (incl. this selection) inside every outer fold",
                 "solver": "lbfgs", "max_iter": 3000}
INNER_SEED = 1
SENT_PARAMS = {"model": "one-vs-rest logistic regression (ob / eb / s2r vs the rest) over binary word unigrams + "
                        "bigrams of the lower-cased sentence (model.sentence_features)",
               "C_grid": [0.3, 1.0, 3.0], "selection": "C by 5-fold CV (seed 1) on the sentence rows, maximising "
               "the mean F1 of the three classes at p >= 0.5", "min_df": 2, "weight_round": 3,
               "solver": "lbfgs", "max_iter": 2000}
SENT_CLASSES = ("ob", "eb", "s2r")


def read_csv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------------------- sentence model

def _fit_sentences(docs: list[list[str]], labels: list[str], C: float) -> tuple[Any, Any]:
    cv = CountVectorizer(analyzer=identity, binary=True, min_df=SENT_PARAMS["min_df"])
    X = cv.fit_transform(docs).tocsr()
    y = np.asarray(labels)
    W = np.zeros((X.shape[1], len(SENT_CLASSES)))
    bias = np.zeros(len(SENT_CLASSES))
    for k, c in enumerate(SENT_CLASSES):
        clf = LogisticRegression(C=C, max_iter=SENT_PARAMS["max_iter"]).fit(X, y == c)
        W[:, k] = clf.coef_.ravel()
        bias[k] = clf.intercept_[0]
    return cv, (W, bias)


def train_sentences(rows: list[dict[str, str]]) -> dict[str, Any]:
    """The exported `sentences` block: C picked by inner CV on these sentence rows only."""
    docs = [sorted(sentence_features(r["sentence"])) for r in rows]
    labels = [r["label"] for r in rows]
    y = np.asarray(labels)
    best: tuple[float, float] | None = None
    for C in SENT_PARAMS["C_grid"]:
        f1s = []
        for tr, te in StratifiedKFold(FOLDS, shuffle=True, random_state=INNER_SEED).split(docs, labels):
            cv, (W, b) = _fit_sentences([docs[i] for i in tr], [labels[i] for i in tr], C)
            Z = cv.transform([docs[i] for i in te]) @ W + b
            f1s.append(np.mean([f1_score(y[te] == c, Z[:, k] > 0) for k, c in enumerate(SENT_CLASSES)]))
        if best is None or np.mean(f1s) > best[0]:
            best = (float(np.mean(f1s)), C)
    assert best is not None
    cv, (W, b) = _fit_sentences(docs, labels, best[1])
    nd = SENT_PARAMS["weight_round"]
    W = np.round(W, nd)
    keep = np.abs(W).max(1) >= 10 ** -nd
    vocab = cv.get_feature_names_out()
    return {"classes": list(SENT_CLASSES), "bias": [round(float(v), 5) for v in b], "C": best[1],
            "inner_cv_mean_f1": round(best[0], 4),
            "weights": {str(f): [float(v) for v in W[i]] for i, f in enumerate(vocab) if keep[i]}}


# ------------------------------------------------------------------------------- detail models

def detail_docs(rows: list[dict[str, str]]) -> list[dict[str, float]]:
    out = []
    for r in rows:
        body, head = prepared(r["description"], r["title"])
        out.append(detail_features(body, title=head))
    return out


def _fit_detail(feats: list[dict[str, float]], y: np.ndarray, C: float) -> dict[str, float]:
    dv = DictVectorizer()
    X = dv.fit_transform(feats)
    clf = LogisticRegression(C=C, max_iter=DETAIL_PARAMS["max_iter"]).fit(X, y)
    out = {str(f): round(float(w), 5) for f, w in zip(dv.get_feature_names_out(), clf.coef_.ravel())}
    out["__bias__"] = round(float(clf.intercept_[0]), 5)
    return out


def train_detail(feats: list[dict[str, float]], y: np.ndarray) -> dict[str, float]:
    """Pick C and the threshold by inner CV on these rows only, then fit on all of them."""
    best: tuple[float, float, float] | None = None
    inner = list(StratifiedKFold(FOLDS, shuffle=True, random_state=INNER_SEED).split(feats, y))
    for C in DETAIL_PARAMS["C_grid"]:
        p = np.zeros(len(y))
        for tr, te in inner:
            w = _fit_detail([feats[i] for i in tr], y[tr], C)
            p[te] = [_prob(w, feats[i]) for i in te]
        for t in DETAIL_PARAMS["threshold_grid"]:
            f1 = f1_score(y == 0, p < t, zero_division=0)
            if best is None or f1 > best[0] + 1e-9:
                best = (f1, C, t)
    assert best is not None
    out = _fit_detail(feats, y, best[1])
    out["__threshold__"] = best[2]
    out["__C__"] = best[1]
    return out


def train_details(rows: list[dict[str, str]], feats: list[dict[str, float]] | None = None) -> dict[str, Any]:
    feats = feats or detail_docs(rows)
    return {"eb": train_detail(feats, np.asarray([int(r["has_eb"]) for r in rows])),
            "s2r": train_detail(feats, np.asarray([int(r["has_s2r"]) for r in rows]))}


def _prob(w: dict[str, float], f: dict[str, float]) -> float:
    z = w.get("__bias__", 0.0) + sum(w.get(k, 0.0) * v for k, v in f.items() if not k.startswith("__"))
    return 1.0 / (1.0 + np.exp(-z))


def cv_details(rows: list[dict[str, str]], feats: list[dict[str, float]] | None = None) -> dict[str, Any]:
    """Held-out P/R/F1 for detecting *missing* EB / S2R from the presence models alone."""
    feats = feats or detail_docs(rows)
    out: dict[str, Any] = {}
    for key, col in (("eb", "has_eb"), ("s2r", "has_s2r")):
        y = np.asarray([int(r[col]) for r in rows])
        p = np.zeros(len(y))
        pred_missing = np.zeros(len(y), dtype=bool)
        for tr, te in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(feats, y):
            w = train_detail([feats[i] for i in tr], y[tr])
            p[te] = [_prob(w, feats[i]) for i in te]
            pred_missing[te] = p[te] < w.get("__threshold__", 0.5)
        pr, rc, f1, _ = precision_recall_fscore_support(y == 0, pred_missing, average="binary")
        out[f"missing_{key}"] = {"precision": float(pr), "recall": float(rc), "f1": float(f1)}
    return out


# ------------------------------------------------------------------------------- main

def data_commits(data_dir: Path) -> dict[str, str]:
    """The source commit of each file, in the order data/README.md describes them."""
    import re
    readme = (data_dir / "README.md").read_text(encoding="utf-8") if (data_dir / "README.md").exists() else ""
    commits = re.findall(r"commit ([0-9a-f]{7,40})", readme)
    names = (ISSUES, DETAILS, SENTENCES, CHAT)
    return {n: commits[i] if i < len(commits) else "unknown" for i, n in enumerate(names)}


def build(data_dir: Path, *, with_cv: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """All learned parts from /work/shared/data only. The sentence model comes first: the detail
    presence models see its per-report evidence as features. chat_threads.csv trains nothing."""
    from bot.triage.model import set_model
    issues = read_csv(data_dir / ISSUES)
    reports = read_csv(data_dir / DETAILS)
    sentences = read_csv(data_dir / SENTENCES)
    sent_block = train_sentences(sentences)
    set_model({"sentences": sent_block})
    try:
        docs = category_docs(issues)
        feats = detail_docs(reports)
        figures: dict[str, Any] = {}
        if with_cv:
            figures["category_heldout"] = cv_category(issues, docs, report_docs(reports))
            figures["details_heldout"] = cv_details(reports, feats)
        details = train_details(reports, feats)
    finally:
        set_model(None)
    commits = data_commits(data_dir)
    model = {
        "format": 2,
        **category_blocks(docs, [r["label"] for r in issues], report_docs(reports)),
        "details": details,
        "sentences": sent_block,
        "provenance": provenance(data_dir, commits, issues=len(issues), reports=len(reports),
                                 sentences=len(sentences), figures=figures),
    }
    return model, figures


def provenance(data_dir: Path, commits: dict[str, str], *, issues: int, reports: int, sentences: int,
               figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "category_data": f"{ISSUES}: NLBSE'24 issue report classification, nlbse2024/issue-report-"
                         f"classification data/issues_train.csv @ {commits[ISSUES]} ({issues} rows)",
        "details_data": f"{DETAILS}: Chaparro et al. ESEC/FSE 2017, ojcchar/bug_report_completion "
                        f"code/bug_report_patterns @ {commits[DETAILS]} ({reports} rows)",
        "sentence_data": f"{SENTENCES}: BEE (Song & Chaparro, ESEC/FSE 2020 demo) sentences as redistributed in "
                         f"BugListener/BugListener2022 bert_classifier/pybert/dataset/bee.valid.csv @ "
                         f"{commits[SENTENCES]} ({sentences} rows; no licence stated there: development and "
                         f"measurement use)",
        "not_trained_on": f"{CHAT} (F2Chat, @ {commits[CHAT]}): used only to measure the chat path",
        "data_dir": str(data_dir),
        "script": "bench/train_triage_model.py",
        "label_mapping": {"bug": "bug (then split by keyword rules)", "feature": "feature_request",
                          "question": "question"},
        "libraries": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, python "
                     f"{sys.version.split()[0]}",
        "trained_on": dt.date.today().isoformat(),
        "category_params": CAT_PARAMS, "detail_params": DETAIL_PARAMS, "sentence_params": SENT_PARAMS,
        "cv_seed": SEED, "cv_folds": FOLDS,
        "heldout_figures": figures,
    }


def write_model(model: dict[str, Any], out: Path) -> int:
    raw = json.dumps(model, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    with open(out, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    return out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--no-cv", action="store_true", help="skip the cross-validation figures")
    args = ap.parse_args(argv)
    model, figures = build(args.data, with_cv=not args.no_cv)
    size = write_model(model, args.out)
    prov_path = args.out.with_name(args.out.name.split(".")[0] + ".provenance.json")
    prov_path.write_text(json.dumps(model["provenance"], indent=2, sort_keys=True) + "\n", encoding="utf-8")
    cat = figures.get("category_heldout")
    if cat:
        print("category (bug/feature/question), model alone, HELD-OUT:")
        print(f"  5-fold stratified macro-F1           {cat['stratified_5fold_macro_f1']:.3f}")
        print(f"  5-fold, mean of per-repo macro-F1    {cat['stratified_5fold_mean_per_repo_macro_f1']:.3f}")
        print(f"  leave-one-repository-out macro-F1    {cat['leave_one_repo_out_macro_f1']:.3f}")
    det = figures.get("details_heldout")
    if det:
        print("missing-detail presence models, 5-fold stratified, HELD-OUT:")
        for key, m in det.items():
            print(f"  {key:12s} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}")
    print(f"wrote {args.out} ({size:,} bytes, {len(model['category']['weights']):,} category features)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
