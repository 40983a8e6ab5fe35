"""The duplicate model: learned word vectors and word weights, loaded once from the package.

A report becomes IDF-weighted terms (words and word pairs, for a lexical cosine and BM25), one
unit vector (the IDF-weighted mean of its words' vectors, learned offline by PPMI-SVD in
bench/train_duplicate_model.py), which brings together reports that share meaning but few words,
and the same for its first line alone: duplicates often share title words that a long description
drowns, and a one-line chat report is compared with ticket titles by character trigrams too.
The file holds the vocabulary, the IDF and the vectors; duplicate_model.json next to it holds
the score weights and the confident/borderline thresholds, chosen on training folds.
"""
from __future__ import annotations

import functools
import json
import math
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.duplicates.text import words

MODEL_DIR = Path(__file__).parent
ARRAYS = MODEL_DIR / "duplicate_model.npz"
PARAMS = MODEL_DIR / "duplicate_model.json"
CACHE_SIZE = 4096  # encoded ticket texts kept: the open tickets are re-read for every new report
BM25_K1, BM25_B = 1.2, 0.75
BM25_LENGTH = 80.0  # words of a typical ticket (fixed, so a workspace with three tickets scores like one with 500)
FEATURES = ("lexical", "coverage", "vector", "bm25", "title_trigrams", "title_covered", "title_lexical", "title_vector")


@dataclass(frozen=True)
class Encoded:
    """One report as the model compares it."""

    weights: dict[str, float]  # term -> (1 + log tf) * idf
    norm: float
    total: float
    vector: np.ndarray  # unit float32 (all zeros when no word is known)
    counts: dict[str, int]  # word -> count (BM25)
    length: int  # words
    title: "Encoded | None" = None  # the first line alone (None: the text is one line, itself the title)
    trigrams: frozenset[str] = frozenset()  # character trigrams of the first line's words

    @property
    def head(self) -> "Encoded":
        return self.title or self


class DuplicateModel:
    def __init__(self, *, vocab: list[str], idf: np.ndarray, vectors: np.ndarray, params: dict[str, Any]) -> None:
        self.index = {w: i for i, w in enumerate(vocab)}
        self.idf = np.asarray(idf, dtype=np.float32)
        vectors = np.asarray(vectors, dtype=np.float32)
        # Every report shares the vectors' common direction; without it all cosines look alike.
        self.mean = vectors.mean(axis=0)
        centred = vectors - self.mean
        self.vectors = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)
        self.unknown_idf = float(self.idf.max()) if len(self.idf) else 1.0
        self.params = params
        self._cache: OrderedDict[str, Encoded] = OrderedDict()
        self._lock = threading.Lock()

    def _idf(self, word: str) -> float:
        i = self.index.get(word)
        return float(self.idf[i]) if i is not None else self.unknown_idf

    def encode(self, text: str) -> Encoded:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        stripped = text.strip()
        first = stripped.split("\n", 1)[0]
        title = self._encode(first) if first != stripped else None
        found = self._encode(text, title=title, grams=first)
        with self._lock:
            self._cache[text] = found
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return found

    def _encode(self, text: str, *, title: Encoded | None = None, grams: str | None = None) -> Encoded:
        stems = words(text)
        bag = Counter(stems)
        bag.update(f"{a}_{b}" for a, b in zip(stems, stems[1:]))
        weights: dict[str, float] = {}
        for term, count in bag.items():
            if "_" in term:
                a, b = term.split("_", 1)
                idf = max(self._idf(a), self._idf(b)) * float(self.params.get("pair_weight", 1.0))
            else:
                idf = self._idf(term)
            weights[term] = (1 + math.log(count)) * idf
        norm = math.sqrt(sum(w * w for w in weights.values()))
        ids = [self.index[w] for w in stems if w in self.index]
        vector = np.zeros(self.vectors.shape[1], dtype=np.float32)
        if ids:
            idx = np.array(ids)
            vector = (self.vectors[idx] * self.idf[idx, None]).sum(axis=0)
            length = float(np.linalg.norm(vector))
            vector = vector / length if length > 0 else vector
        trigrams = frozenset(g for w in words(grams) for g in _trigrams(w)) if grams is not None else frozenset()
        return Encoded(weights=weights, norm=norm, total=sum(weights.values()), vector=vector, counts=dict(Counter(stems)),
                       length=len(stems), title=title, trigrams=trigrams)

    def features(self, query: Encoded, candidates: list[Encoded]) -> np.ndarray:
        """Per candidate, the columns named in FEATURES (all roughly 0..1)."""
        out = np.zeros((len(candidates), len(FEATURES)), dtype=np.float32)
        if not candidates:
            return out
        out[:, :3] = self._pair(query, candidates)
        titles = [c.head for c in candidates]
        out[:, 6:8] = self._pair(query.head, titles)[:, [0, 2]]
        idf = {w: self._idf(w) for w in query.counts}
        best = sum(idf.values()) * (BM25_K1 + 1) or 1.0  # every query word present, saturated
        qgrams = query.trigrams
        for row, c in enumerate(candidates):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * c.length / BM25_LENGTH)
            bm25 = 0.0
            for w, weight in idf.items():
                tf = c.counts.get(w)
                if tf:
                    bm25 += weight * tf * (BM25_K1 + 1) / (tf + norm)
            out[row, 3] = bm25 / best
            if qgrams and c.trigrams:
                out[row, 4] = len(qgrams & c.trigrams) / math.sqrt(len(qgrams) * len(c.trigrams))
            # How much of the ticket's title the new report mentions (IDF mass of its words).
            head = {t: v for t, v in titles[row].weights.items() if "_" not in t}
            mass = sum(head.values())
            out[row, 5] = sum(v for t, v in head.items() if t in query.weights) / mass if mass else 0.0
        return out

    def _pair(self, query: Encoded, candidates: list[Encoded]) -> np.ndarray:
        """Per candidate: [lexical cosine, coverage of the query, vector cosine]."""
        out = np.zeros((len(candidates), 3), dtype=np.float32)
        q = query.weights
        for row, c in enumerate(candidates):
            cw = c.weights
            small, large = (q, cw) if len(q) <= len(cw) else (cw, q)
            dot = cover = 0.0
            for term, w in small.items():
                other = large.get(term)
                if other is not None:
                    dot += w * other
                    cover += q[term]
            if dot:
                out[row, 0] = dot / (query.norm * c.norm) if query.norm and c.norm else 0.0
                out[row, 1] = cover / query.total if query.total else 0.0
        out[:, 2] = np.stack([c.vector for c in candidates]) @ query.vector
        return out

    def kind(self, query: Encoded) -> dict[str, Any]:
        """The parameters for this query: a one-line chat report is weighed and judged apart from a
        report with a description (different evidence, different thresholds)."""
        return self.params["one_line" if query.title is None else "report"]

    def scores(self, features: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return features @ np.array(params["score_weights"], dtype=np.float32)


def _trigrams(word: str) -> list[str]:
    marked = f"#{word}#"
    return [marked[i:i + 3] for i in range(len(marked) - 2)]


def from_file(arrays: Path = ARRAYS, params: Path = PARAMS) -> DuplicateModel:
    with np.load(arrays, allow_pickle=False) as data:
        vocab = [str(w) for w in data["vocab"]]
        return DuplicateModel(vocab=vocab, idf=data["idf"], vectors=data["vectors"], params=json.loads(params.read_text()))


@functools.cache
def shipped() -> DuplicateModel:
    """The packaged model, loaded on first use and kept (one per process)."""
    return from_file()
