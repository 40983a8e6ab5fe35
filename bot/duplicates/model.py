"""The duplicate model: learned word vectors and word weights, loaded once from the package.

A report becomes two things: IDF-weighted terms (words and word pairs, for a lexical cosine) and
one unit vector (the IDF-weighted mean of its words' vectors, learned offline by PPMI-SVD in
bench/train_duplicate_model.py), which brings together reports that share meaning but few words.
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


@dataclass(frozen=True)
class Encoded:
    """One report as the model compares it."""

    weights: dict[str, float]  # term -> (1 + log tf) * idf
    norm: float
    total: float
    vector: np.ndarray  # unit float32 (all zeros when no word is known)


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
        found = self._encode(text)
        with self._lock:
            self._cache[text] = found
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return found

    def _encode(self, text: str) -> Encoded:
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
        return Encoded(weights=weights, norm=norm, total=sum(weights.values()), vector=vector)

    def features(self, query: Encoded, candidates: list[Encoded]) -> np.ndarray:
        """Per candidate: [lexical cosine, coverage of the query, vector cosine]."""
        out = np.zeros((len(candidates), 3), dtype=np.float32)
        if not candidates:
            return out
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

    def scores(self, features: np.ndarray) -> np.ndarray:
        w = self.params["score_weights"]
        return features @ np.array(w, dtype=np.float32)


def from_file(arrays: Path = ARRAYS, params: Path = PARAMS) -> DuplicateModel:
    with np.load(arrays, allow_pickle=False) as data:
        vocab = [str(w) for w in data["vocab"]]
        return DuplicateModel(vocab=vocab, idf=data["idf"], vectors=data["vectors"], params=json.loads(params.read_text()))


@functools.cache
def shipped() -> DuplicateModel:
    """The packaged model, loaded on first use and kept (one per process)."""
    return from_file()
