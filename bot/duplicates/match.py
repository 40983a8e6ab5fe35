"""Is a new report the same problem as a known ticket? Three outcomes: link, suggest, nothing.

Every candidate gets a score (a weighted sum of lexical cosine, coverage of the new report and the
learned-vector cosine: bot/duplicates/model.py). What decides is the *margin*: how far the best
candidate stands above the next best, or above `floor`, the score a run-of-the-mill unrelated
ticket reaches (so a workspace with three open tickets is judged like one with five hundred).
A wrong link hides a problem from the triage team, so `link` needs a margin that was right at
least 90% of the time on the training folds; `suggest` asks the reporter instead.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

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


def rank(text: str, candidates: Sequence[Candidate], *, model: DuplicateModel) -> tuple[np.ndarray, np.ndarray] | None:
    """(scores, order best first) of the candidates for `text`; None if nothing can be compared."""
    query = model.encode(text)
    if not query.weights or not candidates:
        return None
    scores = model.scores(model.features(query, [model.encode(c.text) for c in candidates]))
    return scores, np.argsort(-scores, kind="stable")


def decide(score: float, second: float, *, model: DuplicateModel) -> tuple[Outcome | None, float]:
    params = model.params
    margin = score - max(second, float(params["floor"]))
    if score < float(params["min_score"]):
        return None, margin
    if margin >= float(params["link_margin"]):
        return LINK, margin
    if margin >= float(params["suggest_margin"]):
        return SUGGEST, margin
    return None, margin


def judge(text: str, candidates: Sequence[Candidate], *, model: DuplicateModel | None = None) -> Match | None:
    """The ticket this report most likely repeats, and how sure that is (None: no duplicate)."""
    model = model or shipped()
    ranked = rank(text, candidates, model=model)
    if ranked is None:
        return None
    scores, order = ranked
    best = int(order[0])
    second = float(scores[order[1]]) if len(order) > 1 else 0.0
    outcome, margin = decide(float(scores[best]), second, model=model)
    if outcome is None:
        return None
    query = model.encode(text).weights
    other = model.encode(candidates[best].text).weights
    shared = tuple(sorted((t for t in query if t in other and "_" not in t), key=lambda t: -query[t])[:8])
    return Match(ticket_id=candidates[best].ticket_id, outcome=outcome, score=round(float(scores[best]), 3), margin=round(margin, 3), shared=shared)


def candidate_texts(rows: Iterable[tuple[int, str, str]]) -> list[Candidate]:
    """Tickets as the matcher compares them: title, then description."""
    return [Candidate(ticket_id=ticket_id, text=f"{title}\n{description}") for ticket_id, title, description in rows]
