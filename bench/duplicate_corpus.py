"""The texts the duplicate model learns from, and the word vectors learned from them (PPMI-SVD).

Shared by bench/train_duplicate_model.py (the shipped model) and bench/duplicate_quality.py
(the cross-validated figures, which retrain without the scored rows). Needs numpy and scipy (the
`bench` extra); the package only loads the exported arrays with numpy.
"""
from __future__ import annotations

import csv
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import svds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.duplicates.text import words  # noqa: E402

# ../shared/data next to the repository (a worktree one level deeper finds it one level up)
DEFAULT_DATA = next((p / "shared" / "data" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / "data").is_dir()), ROOT.parent / "shared" / "data")
PAIRS = "duplicate_pairs.csv"
# file -> the columns whose text is a document (one document per row)
TEXT_FILES = {
    "issue_reports_labelled.csv": ("title", "body"),
    "bug_reports_ob_eb_s2r.csv": ("title", "description"),
    "bug_report_sentences.csv": ("sentence",),
    "chat_threads.csv": ("thread_text",),
}
VECTOR_PARAMS = {"dim": 96, "window": 5, "min_count": 3, "max_vocab": 24000, "context_alpha": 0.75, "eig_power": 0.5, "seed": 0}


def read_csv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def pair_rows(data: Path) -> list[dict[str, str]]:
    return read_csv(data / PAIRS)


def documents(data: Path, *, pairs: Sequence[dict[str, str]] | None, sources: Iterable[str] = TEXT_FILES) -> list[list[str]]:
    """Word lists of every document: the other data files' rows, and the given duplicate pairs'
    two reports (pass only training rows: the scored rows' texts stay out of the model)."""
    docs: list[list[str]] = []
    for name in sources:
        for row in read_csv(data / name):
            docs.append(words(" \n".join(row[c] for c in TEXT_FILES[name])))
    seen: set[str] = set()
    for row in pairs or ():
        for side in ("dup", "master"):
            if row[f"{side}_id"] not in seen:
                seen.add(row[f"{side}_id"])
                docs.append(words(f"{row[f'{side}_title']}\n{row[f'{side}_description']}"))
    return [d for d in docs if d]


@dataclass
class Vectors:
    vocab: list[str]
    idf: np.ndarray  # float32, one per word
    vectors: np.ndarray  # float32, unit rows
    documents: int


def train(docs: Sequence[Sequence[str]], *, dim: int = VECTOR_PARAMS["dim"], window: int = VECTOR_PARAMS["window"],
          min_count: int = VECTOR_PARAMS["min_count"], max_vocab: int = VECTOR_PARAMS["max_vocab"]) -> Vectors:
    counts = Counter(w for d in docs for w in d)
    vocab = [w for w, c in counts.most_common(max_vocab) if c >= min_count]
    index = {w: i for i, w in enumerate(vocab)}
    df = Counter(w for d in docs for w in set(d) if w in index)
    n = len(docs)
    idf = np.array([math.log((1 + n) / (1 + df[w])) + 1 for w in vocab], dtype=np.float32)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for d in docs:
        ids = [index.get(w, -1) for w in d]
        for i, a in enumerate(ids):
            if a < 0:
                continue
            for k in range(1, window + 1):
                if i + k >= len(ids):
                    break
                b = ids[i + k]
                if b >= 0 and b != a:
                    weight = 1.0 / k  # nearer words say more
                    rows += (a, b)
                    cols += (b, a)
                    vals += (weight, weight)
    size = len(vocab)
    matrix = coo_matrix((np.array(vals, dtype=np.float64), (rows, cols)), shape=(size, size)).tocsr()
    matrix.sum_duplicates()
    total = matrix.sum()
    word_sum = np.asarray(matrix.sum(axis=1)).ravel()
    context = np.asarray(matrix.sum(axis=0)).ravel() ** VECTOR_PARAMS["context_alpha"]
    context /= context.sum()
    coo = matrix.tocoo()
    pmi = np.log((coo.data / total) / ((word_sum[coo.row] / total) * context[coo.col]))
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=(size, size)).tocsr()
    rng = np.random.default_rng(VECTOR_PARAMS["seed"])
    u, s, _ = svds(ppmi, k=dim, v0=rng.standard_normal(size))
    order = np.argsort(-s)
    vectors = u[:, order] * (s[order] ** VECTOR_PARAMS["eig_power"])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return Vectors(vocab=vocab, idf=idf, vectors=vectors.astype(np.float32), documents=n)
