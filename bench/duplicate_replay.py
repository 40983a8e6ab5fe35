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

import itertools
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
from bot.duplicates.match import LINK, SUGGEST  # noqa: E402
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


def _best_two(scores: np.ndarray) -> tuple[int, float, float]:
    order = np.argsort(-scores, kind="stable")
    return int(order[0]), float(scores[order[0]]), float(scores[order[1]]) if len(order) > 1 else 0.0


def fit(model: DuplicateModel, train: Sequence[Trial]) -> dict[str, Any]:
    """Score weights, floor and thresholds from training trials (the model's vectors as given)."""
    feats = [_features(model, t) for t in train]
    grid = [w for w in itertools.product(np.arange(0, 1.01, 0.1), repeat=2) if w[0] + w[1] <= 1.0001]
    best_w, best_hits = (0.4, 0.3, 0.3), -1
    for a, b in grid:
        w = np.array([a, b, 1 - a - b], dtype=np.float32)
        hits = sum(int(np.argmax(f @ w) == t.gold) for f, t in zip(feats, train))
        if hits > best_hits:
            best_w, best_hits = (round(float(a), 2), round(float(b), 2), round(float(1 - a - b), 2)), hits
    w = np.array(best_w, dtype=np.float32)
    present, seconds, right_scores = [], [], []
    for f, t in zip(feats, train):
        s = f @ w
        best, top, second = _best_two(s)
        seconds.append(second)
        present.append((top, second, best == t.gold))
        if best == t.gold:
            right_scores.append(top)
    floor = float(np.median(seconds))
    min_score = float(np.quantile(right_scores, 0.02)) if right_scores else 0.0
    # Thresholds from the trials with the master present (a link may still pick the wrong ticket);
    # bench/duplicate_quality.py also reports how often an unrelated report (master absent) is linked.
    margins = [(top - max(second, floor), ok) for top, second, ok in present if top >= min_score]
    margins.sort(key=lambda m: -m[0])
    link_margin = margins[0][0] + 1e-6 if margins else 1.0
    right = 0
    for n, (m, ok) in enumerate(margins, 1):
        right += ok
        if n >= MIN_LINKS and right / n >= LINK_PRECISION:
            link_margin = m
    suggest_margin = link_margin
    below = [(m, ok) for m, ok in margins if m < link_margin]
    right = 0
    for n, (m, ok) in enumerate(below, 1):
        right += ok
        if n >= MIN_LINKS and right / n >= SUGGEST_PRECISION:
            suggest_margin = m
    return {
        "score_weights": list(best_w), "pair_weight": model.params.get("pair_weight", 1.0), "floor": round(floor, 4),
        "min_score": round(min_score, 4), "link_margin": round(float(link_margin), 4), "suggest_margin": round(float(suggest_margin), 4),
    }


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
