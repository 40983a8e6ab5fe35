"""duplicate_pairs.csv replayed as the bot meets it: a chat report among the open tickets.

A trial is one duplicate report sent as a chat message while its master is an open ticket among
`pool - 1` other rows' masters (other duplicate groups only), all filed the way intake files a
chat message (title from the first line, description the whole text). Two forms of the message:
`title` (a one-line chat report) and `report` (title and description). The same trial with the
master left out is an unrelated report: any link it gets is wrong.

`fit()` chooses the model's parameters from training trials only; `score()` runs the product's
`bot.duplicates.judge` on scored trials and counts its answers.
"""
from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.duplicates import Candidate, judge  # noqa: E402
from bot.duplicates.match import LINK, SUGGEST, confidence, evidence  # noqa: E402
from bot.duplicates.model import DuplicateModel  # noqa: E402
from bot.triage import make_title, prepare_input  # noqa: E402

FORMS = ("title", "report")
POOL = 500  # bot/intake/linking.py compares with at most this many tickets
LINK_PRECISION = 0.88  # on training trials (master present); the target on unseen data is 0.85
SUGGEST_PRECISION = 0.50  # a suggestion is a question to the reporter: right at least half the time
MIN_LINKS = 20


def groups(rows: Sequence[dict[str, str]]) -> list[int]:
    """A group number per row: rows joined by a shared report id (A dup of M, B dup of M) share one."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for row in rows:
        parent[find(row["dup_id"])] = find(row["master_id"])
    roots: dict[str, int] = {}
    return [roots.setdefault(find(r["master_id"]), len(roots)) for r in rows]


def message(row: dict[str, str], *, side: str, form: str) -> str:
    title, description = row[f"{side}_title"], row[f"{side}_description"]
    return title if form == "title" or not description.strip() else f"{title}\n{description}"


def as_ticket(text: str) -> str:
    """The candidate text of a ticket filed from this chat message (what bot/intake/linking.py compares)."""
    description, _ = prepare_input(text=text)
    return f"{make_title(text)}\n{description}"


def as_query(text: str) -> str:
    return prepare_input(text=text)[0]  # intake compares the triaged description


@dataclass(frozen=True)
class Trial:
    row: int
    form: str
    query: str
    candidates: tuple[Candidate, ...]  # the master first (ticket_id 0), then the others
    gold: int = 0


def trials(rows: Sequence[dict[str, str]], scored: Sequence[int], *, negatives_from: Sequence[int], pool: int = POOL, seed: int = 0) -> list[Trial]:
    group = groups(rows)
    masters: dict[int, str] = {}
    rng = random.Random(seed)
    out: list[Trial] = []
    by_master: dict[str, int] = {}
    for i in negatives_from:
        by_master.setdefault(rows[i]["master_id"], i)
    negative_rows = list(by_master.values())
    for i in scored:
        others = [j for j in rng.sample(negative_rows, min(len(negative_rows), pool + 40)) if group[j] != group[i]][: pool - 1]
        cands = [Candidate(0, masters.setdefault(i, as_ticket(message(rows[i], side="master", form="report"))))]
        cands += [Candidate(j + 1, masters.setdefault(j, as_ticket(message(rows[j], side="master", form="report")))) for j in others]
        for form in FORMS:
            out.append(Trial(row=i, form=form, query=as_query(message(rows[i], side="dup", form=form)), candidates=tuple(cands)))
    return out


def _features(model: DuplicateModel, trial: Trial) -> np.ndarray:
    return model.features(model.encode(trial.query), [model.encode(c.text) for c in trial.candidates])


def _kind(model: DuplicateModel, trial: Trial) -> str:
    return "one_line" if model.encode(trial.query).title is None else "report"


def _rank_weights(feats: Sequence[np.ndarray], *, l2: float = 1e-3, steps: int = 300, lr: float = 0.05) -> np.ndarray:
    """Score weights that put the master (row 0) first: listwise softmax loss, Adam, from zero."""
    size = min(len(f) for f in feats)
    a = np.stack([f[:size] for f in feats]).astype(np.float64)  # trials x candidates x features
    w = np.zeros(a.shape[2])
    m, v = np.zeros_like(w), np.zeros_like(w)
    for it in range(1, steps + 1):
        s = a @ w
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        g = (np.einsum("tn,tnf->tf", p, a) - a[:, 0]).mean(axis=0) + l2 * w
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w -= lr * (m / (1 - 0.9 ** it)) / (np.sqrt(v / (1 - 0.999 ** it)) + 1e-8)
    return w


def _logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-2, steps: int = 500, lr: float = 0.1) -> dict[str, Any]:
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        g = 1 / (1 + np.exp(-(z @ w + b))) - y
        w -= lr * (z.T @ g / len(y) + l2 * w)
        b -= lr * float(g.mean())
    return {"mean": [round(float(t), 6) for t in mean], "scale": [round(float(t), 6) for t in scale],
            "weights": [round(float(t), 6) for t in w], "bias": round(b, 6)}


def _lowest_threshold(values: Sequence[tuple[float, bool]], precision: float, *, above: float | None = None) -> float:
    """The lowest value whose links (everything at or above it) were right `precision` of the time."""
    ordered = sorted(values, key=lambda m: -m[0])
    chosen = (ordered[0][0] + 1e-6) if ordered else 1e9
    chosen = chosen if above is None else above
    right = 0
    for n, (value, ok) in enumerate(ordered, 1):
        right += ok
        if n >= MIN_LINKS and right / n >= precision:
            chosen = value
    return chosen


def _fit_kind(feats: Sequence[np.ndarray]) -> dict[str, Any]:
    w = _rank_weights(feats)
    scored = [(f, f @ w) for f in feats]
    orders = [np.argsort(-s, kind="stable") for _, s in scored]
    floor = float(np.median([s[o[1]] for (_, s), o in zip(scored, orders)]))
    typical = np.median(np.stack([f[o[1]] for (f, _), o in zip(scored, orders)]), axis=0)
    params: dict[str, Any] = {"score_weights": [round(float(t), 6) for t in w], "floor": round(floor, 6),
                              "floor_features": [round(float(t), 6) for t in typical]}
    x = np.stack([evidence(f, s, o, params) for (f, s), o in zip(scored, orders)])
    right = np.array([o[0] == 0 for o in orders], dtype=np.float64)
    params["confidence"] = _logistic(x, right)
    margins = [float(s[o[0]]) - max(float(s[o[1]]), floor) for (_, s), o in zip(scored, orders)]
    # A margin at or below zero is never linked or suggested (match.decide): leave those out.
    sure = [(confidence(e, params), bool(ok)) for e, ok, m in zip(x, right, margins) if m > 0]
    link_at = _lowest_threshold(sure, LINK_PRECISION)
    suggest_at = _lowest_threshold([m for m in sure if m[0] < link_at], SUGGEST_PRECISION, above=link_at)
    return {**params, "link_at": round(link_at, 6), "suggest_at": round(suggest_at, 6), "trials": len(feats)}


def fit(model: DuplicateModel, train: Sequence[Trial]) -> dict[str, Any]:
    """Score weights, floor, confidence model and thresholds from training trials (the model's
    vectors as given), apart for one-line reports and reports with a description.
    Thresholds come from the trials with the master present (a link may still pick the wrong ticket);
    bench/duplicate_quality.py also reports how often an unrelated report (master absent) is linked."""
    by_kind: dict[str, list[np.ndarray]] = {"one_line": [], "report": []}
    for t in train:
        by_kind[_kind(model, t)].append(_features(model, t))
    return {"pair_weight": model.params.get("pair_weight", 1.0), **{kind: _fit_kind(feats) for kind, feats in by_kind.items()}}


@dataclass
class Counts:
    trials: int = 0
    links: int = 0
    right_links: int = 0
    suggestions: int = 0
    right_suggestions: int = 0
    absent: int = 0
    absent_links: int = 0
    absent_suggestions: int = 0

    def add(self, other: "Counts") -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, float]:
        wrong_links = self.links - self.right_links + self.absent_links
        links = self.links + self.absent_links
        suggestions = self.suggestions + self.absent_suggestions
        return {
            "link_precision": round(self.right_links / self.links, 3) if self.links else 0.0,
            "link_recall": round(self.right_links / self.trials, 3) if self.trials else 0.0,
            "suggestion_precision": round(self.right_suggestions / self.suggestions, 3) if self.suggestions else 0.0,
            "suggestion_recall": round(self.right_suggestions / self.trials, 3) if self.trials else 0.0,
            "linked_or_suggested_recall": round((self.right_links + self.right_suggestions) / self.trials, 3) if self.trials else 0.0,
            "unrelated_linked_share": round(self.absent_links / self.absent, 3) if self.absent else 0.0,
            "unrelated_suggested_share": round(self.absent_suggestions / self.absent, 3) if self.absent else 0.0,
            "link_precision_with_unrelated": round(1 - wrong_links / links, 3) if links else 0.0,
            "suggestion_precision_with_unrelated": round(self.right_suggestions / suggestions, 3) if suggestions else 0.0,
            "trials": self.trials,
        }


def score(model: DuplicateModel, scored: Sequence[Trial], *, pool: int = POOL) -> dict[str, Counts]:
    """The product's judge() on each trial (master present), and on it again without the master."""
    out = {form: Counts() for form in FORMS}
    for t in scored:
        counts = out[t.form]
        candidates = t.candidates[:pool]
        counts.trials += 1
        found = judge(t.query, candidates, model=model)
        if found is not None and found.outcome == LINK:
            counts.links += 1
            counts.right_links += found.ticket_id == t.gold
        elif found is not None and found.outcome == SUGGEST:
            counts.suggestions += 1
            counts.right_suggestions += found.ticket_id == t.gold
        counts.absent += 1
        unrelated = judge(t.query, [c for c in candidates if c.ticket_id != t.gold], model=model)
        counts.absent_links += unrelated is not None and unrelated.outcome == LINK
        counts.absent_suggestions += unrelated is not None and unrelated.outcome == SUGGEST
    return out
