"""Is a new report the same problem as a known ticket? Three outcomes: link, suggest, nothing.

Every candidate gets a score (a weighted sum of the features in bot/duplicates/model.py: lexical,
BM25, vector and title similarities; weights learned to rank the true ticket first). What decides
is a *confidence* in the best candidate: a logistic model of how far it stands above the next best
and above `floor` (the score a run-of-the-mill unrelated ticket reaches, so a workspace with three
open tickets is judged like one with five hundred), of its score and of where its features beat the
runner-up's. A wrong link hides a problem from the triage team, so `link` needs a confidence that
was right at least 88% of the time on the training folds; `suggest` asks the reporter instead.
One-line reports and reports with a description have their own weights and thresholds.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from bot.duplicates.model import DuplicateModel, shipped

LINK, SUGGEST = "link", "suggest"
Outcome = Literal["link", "suggest"]


@dataclass(frozen=True)
class Candidate:
    ticket_id: int
    text: str


@dataclass(frozen=True)
class Match:
    ticket_id: int
    outcome: Outcome
    score: float  # the best candidate's score
    margin: float  # how far it stands above the next one (or the floor)
    shared: tuple[str, ...]  # words both reports use, for the ticket history


def evidence(features: np.ndarray, scores: np.ndarray, order: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """What the confidence model reads about the best candidate: its margin over the runner-up or
    the floor, its score, its features and their lead over the runner-up's. The runner-up never
    counts as weaker than a typical one (`floor`, `floor_features`: a workspace with three open
    tickets is judged like one with five hundred). bench/duplicate_replay.py fits on this vector."""
    floor, typical = float(params["floor"]), np.array(params["floor_features"], dtype=np.float32)
    best = features[order[0]]
    runner = np.maximum(features[order[1]], typical) if len(order) > 1 else typical
    top, second = float(scores[order[0]]), float(scores[order[1]]) if len(order) > 1 else 0.0
    return np.concatenate([[top - max(second, floor), top - floor, top], best, best - runner]).astype(np.float64)


def confidence(evidence_: np.ndarray, params: dict[str, Any]) -> float:
    c = params["confidence"]
    z = (evidence_ - np.array(c["mean"])) / np.array(c["scale"])
    return float(z @ np.array(c["weights"]) + float(c["bias"]))


def rank(text: str, candidates: Sequence[Candidate], *, model: DuplicateModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]] | None:
    """(features, scores, order best first, the parameters used) for `text`; None if nothing can be compared."""
    query = model.encode(text)
    if not query.weights or not candidates:
        return None
    params = model.kind(query)
    features = model.features(query, [model.encode(c.text) for c in candidates])
    scores = model.scores(features, params)
    return features, scores, np.argsort(-scores, kind="stable"), params


MIN_SHARED_TO_LINK = 2  # one word in common is too thin to hide a report behind a ticket: ask instead


def decide(sure: float, margin: float, params: dict[str, Any], *, shared_words: int = MIN_SHARED_TO_LINK) -> Outcome | None:
    if margin <= 0:  # no better than what an unrelated ticket reaches: nothing to say
        return None
    if sure >= float(params["link_at"]) and shared_words >= MIN_SHARED_TO_LINK:
        return LINK
    if sure >= float(params["suggest_at"]):
        return SUGGEST
    return None


def judge(text: str, candidates: Sequence[Candidate], *, model: DuplicateModel | None = None) -> Match | None:
    """The ticket this report most likely repeats, and how sure that is (None: no duplicate)."""
    model = model or shipped()
    ranked = rank(text, candidates, model=model)
    if ranked is None:
        return None
    features, scores, order, params = ranked
    best = int(order[0])
    second = float(scores[order[1]]) if len(order) > 1 else 0.0
    margin = float(scores[best]) - max(second, float(params["floor"]))
    query = model.encode(text).weights
    other = model.encode(candidates[best].text).weights
    common = sorted((t for t in query if t in other and "_" not in t), key=lambda t: -query[t])
    outcome = decide(confidence(evidence(features, scores, order, params), params), margin, params, shared_words=len(common))
    if outcome is None:
        return None
    shared = tuple(common[:8])
    return Match(ticket_id=candidates[best].ticket_id, outcome=outcome, score=round(float(scores[best]), 3), margin=round(margin, 3), shared=shared)


def candidate_texts(rows: Iterable[tuple[int, str, str]]) -> list[Candidate]:
    """Tickets as the matcher compares them: title, then description."""
    return [Candidate(ticket_id=ticket_id, text=f"{title}\n{description}") for ticket_id, title, description in rows]
