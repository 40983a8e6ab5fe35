"""The category blocks of the triage model: bug / feature / question from the labelled GitHub
issues, the tracker-style gate, and the chat block. Used by bench/train_triage_model.py (which
writes the model file) and by the benches that retrain per fold (triage_quality.py,
category_tradeoff.py).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.triage import ANALYSE_CHARS, prepare_input  # noqa: E402
from bot.triage.model import category_features  # noqa: E402

SEED = 0
FOLDS = 5
# Hyperparameters: picked by 5-fold CV on issue_reports_labelled.csv only (a small grid over C,
# smoothing, n-gram range, min_df); nothing was tuned on any other data.
CAT_PARAMS = {"model": "NB-weighted logistic regression (NBSVM-style), one-vs-rest, trained on the labelled issues "
                       "only; plus a `tracker` gate column: the same model kind, labelled issues vs the tracker "
                       "bug reports (train_category_gated); for chat messages a second block, the labelled issues plus "
                       "the tracker reports as `bug` at weight TRACKER_WEIGHT = 0.3 (train_category_mixed)",
              "features": "binary word unigrams + suffix-stemmed word bigrams of title+body (first 1500 "
                          "chars of the prepared text, code and HTML comments kept) + title-only "
                          "unigrams+bigrams",
              "C": 0.1, "nb_alpha": 1.0, "min_df": 2, "solver": "lbfgs", "max_iter": 3000,
              "weight_round": 4}


def identity(doc: list[str]) -> list[str]:
    return doc


def train_category(docs: list[list[str]], labels: list[str], weights: list[float] | None = None) -> dict[str, Any]:
    """NB-weighted one-vs-rest logistic regression; returns the exported `category` block.
    `weights`: per-document sample weight (tracker reports weigh less than the labelled issues)."""
    y = np.asarray(labels)
    sw = np.asarray(weights if weights is not None else [1.0] * len(labels), dtype=float)
    classes = sorted(set(labels))
    cv = CountVectorizer(analyzer=identity, binary=True, min_df=CAT_PARAMS["min_df"])
    X = cv.fit_transform(docs).tocsr()
    vocab = cv.get_feature_names_out()
    W = np.zeros((len(vocab), len(classes)))
    bias = []
    a = CAT_PARAMS["nb_alpha"]
    for k, c in enumerate(classes):
        pos = y == c
        p = a + np.asarray(X[pos].T @ sw[pos]).ravel()
        q = a + np.asarray(X[~pos].T @ sw[~pos]).ravel()
        r = np.log((p / p.sum()) / (q / q.sum()))
        clf = LogisticRegression(C=CAT_PARAMS["C"], max_iter=CAT_PARAMS["max_iter"])
        clf.fit(X.multiply(r).tocsr(), pos, sample_weight=sw)
        W[:, k] = clf.coef_.ravel() * r             # fold the NB ratio into the weight
        bias.append(round(float(clf.intercept_[0]), 6))
    nd = CAT_PARAMS["weight_round"]
    W = np.round(W, nd)
    keep = np.abs(W).max(1) >= 10 ** -nd
    weights = {str(f): [float(v) for v in W[i]] for i, f in enumerate(vocab) if keep[i]}
    return {"classes": classes, "bias": bias, "weights": weights}


def predict_category(block: dict[str, Any], docs: list[list[str]]) -> list[str]:
    out = []
    for doc in docs:
        s = list(block["bias"])
        for f in set(doc):
            w = block["weights"].get(f)
            if w:
                s = [a + b for a, b in zip(s, w)]
        out.append(block["classes"][int(np.argmax(s))])
    return out


TRACKER_WEIGHT = 0.3       # a tracker report (all bug reports) weighs this much beside a labelled issue


def report_docs(rows: list[dict[str, str]]) -> list[list[str]]:
    """Category features of tracker reports (title + description), used as extra `bug` examples."""
    out = []
    for r in rows:
        body, head = prepared(r["description"], r["title"])
        out.append(sorted(category_features(head, body)))
    return out


def train_category_mixed(issue_docs: list[list[str]], issue_labels: list[str],
                         tracker_docs: list[list[str]]) -> dict[str, Any]:
    """The category model over labelled issues plus tracker bug reports as `bug` (TRACKER_WEIGHT each):
    without the latter the model knows bug reports only in GitHub's template style."""
    return train_category(issue_docs + tracker_docs, issue_labels + ["bug"] * len(tracker_docs),
                          [1.0] * len(issue_docs) + [TRACKER_WEIGHT] * len(tracker_docs))


GATE_CLASS = "tracker"


def train_category_gated(issue_docs: list[list[str]], issue_labels: list[str],
                         tracker_docs: list[list[str]]) -> dict[str, Any]:
    """The shipped category block: bug/feature/question learned from the labelled GitHub issues only,
    plus a fourth column, a logistic "written as a tracker bug report" score (GitHub issues vs the
    tracker reports, same features), with its bias in `tracker_bias`. One model cannot serve both
    styles (bench/category_tradeoff.py: every weight given to tracker reports as `bug` costs GitHub
    macro-F1); the gate lets the rules in category.py call a tracker-style report a bug report and
    leaves the GitHub classifier as it learned. Without tracker rows the block has no gate."""
    block = train_category(issue_docs, issue_labels)
    if not tracker_docs:
        return block
    gate = train_category(issue_docs + tracker_docs, ["github"] * len(issue_docs) + [GATE_CLASS] * len(tracker_docs))
    k = gate["classes"].index(GATE_CLASS)
    width = len(block["classes"])
    weights = {f: w + [0.0] for f, w in block["weights"].items()}
    for f, w in gate["weights"].items():
        if w[k]:
            weights.setdefault(f, [0.0] * width + [0.0])[width] = w[k]
    return {**block, "weights": weights, "tracker_bias": gate["bias"][k]}


def category_blocks(issue_docs: list[list[str]], issue_labels: list[str],
                    tracker_docs: list[list[str]]) -> dict[str, Any]:
    """Both shipped category blocks: `category` for titled reports (GitHub-only classes + the
    tracker-style gate) and `chat_category` for chat messages, the one model over the labelled
    issues plus the tracker reports as `bug` (train_category_mixed): a war-room message such as
    "CSV import drops the last row" is a plain statement of behaviour, as tracker reports are,
    and a classifier that learned bug reports only from GitHub templates reads it as a question."""
    return {"category": train_category_gated(issue_docs, issue_labels, tracker_docs),
            "chat_category": train_category_mixed(issue_docs, issue_labels, tracker_docs)}


def prepared(text: str, title: str) -> tuple[str, str | None]:
    """The text triage() analyses (markup stripped, PII masked, cut to ANALYSE_CHARS)."""
    body, head = prepare_input(text=text, title=title)
    return body[:ANALYSE_CHARS], head


def category_docs(rows: list[dict[str, str]]) -> list[list[str]]:
    out = []
    for r in rows:
        body, head = prepared(r["body"], r["title"])
        out.append(sorted(category_features(head, body)))
    return out


def cv_category(rows: list[dict[str, str]], docs: list[list[str]] | None = None,
                tracker: list[list[str]] | None = None) -> dict[str, Any]:
    """Held-out macro-F1 of the model alone: 5-fold stratified (seed 0) and leave-one-repository-out
    (the tracker reports, another source, are in every fold's training, as in the shipped model)."""
    docs = docs or category_docs(rows)
    tracker = tracker or []
    y = np.asarray([r["label"] for r in rows])
    pred = np.empty(len(y), dtype=object)
    for tr, te in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(docs, y):
        block = train_category_gated([docs[i] for i in tr], list(y[tr]), tracker)
        pred[te] = predict_category(block, [docs[i] for i in te])
    repos = np.asarray([r["repo"] for r in rows])
    pred_repo = np.empty(len(y), dtype=object)
    for repo in sorted(set(repos)):
        te = np.where(repos == repo)[0]
        tr = np.where(repos != repo)[0]
        block = train_category_gated([docs[i] for i in tr], list(y[tr]), tracker)
        pred_repo[te] = predict_category(block, [docs[i] for i in te])
    per_repo = {repo: float(f1_score(y[repos == repo], pred[repos == repo], average="macro"))
                for repo in sorted(set(repos))}
    return {"stratified_5fold_macro_f1": float(f1_score(y, pred, average="macro")),
            "stratified_5fold_mean_per_repo_macro_f1": float(np.mean(list(per_repo.values()))),
            "leave_one_repo_out_macro_f1": float(f1_score(y, pred_repo, average="macro"))}
