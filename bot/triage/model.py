"""The learned parts of triage: loading the shipped model file and scoring with it. Stdlib only.

`category_model.json.gz` (written by bench/train_triage_model.py) holds
  * `category`: a linear one-vs-rest model (NB-weighted logistic regression over binary word
    unigrams + bigrams) for bug / feature / question, learned from GitHub issues, and in a fourth
    weight column a gate: how much a report reads like a tracker (Bugzilla / Jira) bug report,
  * `chat_category`: the same kind of model for chat messages, learned from the GitHub issues and
    the tracker reports as bug reports (no gate),
  * `details`: logistic models over the cue features of extract.py for "has expected behaviour"
    (`eb`) and "has steps to reproduce" (`s2r`),
  * `sentences`: a one-vs-rest logistic model over a sentence's word unigrams + bigrams for
    observed behaviour (`ob`), expected behaviour (`eb`) and a step to reproduce (`s2r`), fitted
    on the sentence-level labels of bug_report_sentences.csv,
  * `provenance`: where the data came from, how and when it was trained.
It is loaded lazily, once per process.
"""
from __future__ import annotations

import gzip
import json
import math
import re
import threading
from pathlib import Path
from typing import Any

__all__ = ["MODEL_PATH", "category_features", "load_model", "set_model", "score_category", "score_category_style",
           "detail_weights", "sentence_features", "score_sentences", "logit"]

MODEL_PATH = Path(__file__).with_name("category_model.json.gz")
BODY_CHARS = 1500

_TOKEN = re.compile(r"\w\w+|\?|#+")
_lock = threading.Lock()
_model: dict[str, Any] | None = None
_override: dict[str, Any] | None = None


def category_features(title: str | None, body: str) -> set[str]:
    """Binary features: word unigrams and crudely stemmed word bigrams (`~`) of title + body, and
    the title's unigrams + bigrams again marked `t:`. HTML comments and code are kept: which issue
    template was filled in (its hidden comments) and whether code was pasted are good evidence.

    The training script calls this very function, so runtime and training features never drift.
    """
    body = body[:BODY_CHARS].lower()
    title_toks = _TOKEN.findall(title.lower()) if title else []
    toks = title_toks + ["|"] + _TOKEN.findall(body) if title_toks else _TOKEN.findall(body)
    feats = set(toks)
    stems = [t if len(t) <= 5 else _stems.get(t) or _stem(t) for t in toks]
    feats.update("~" + a + " " + b for a, b in zip(stems, stems[1:]))
    feats.update("t:" + t for t in title_toks)
    feats.update("t:" + a + " " + b for a, b in zip(title_toks, title_toks[1:]))
    feats.discard("|")
    return feats


_SUFFIX = re.compile(r"(?:ing|ed|es|s|ly|er|ers|ion|ions)$")
_stems: dict[str, str] = {}


def _stem(word: str) -> str:
    """A crude suffix stripper ("crashes" ~ "crashing" ~ "crash"), cached; long words only."""
    s = _stems.get(word)
    if s is None:
        s = _SUFFIX.sub("", word) if len(word) > 5 else word
        if len(_stems) < 200_000:
            _stems[word] = s
    return s


def load_model(path: Path | None = None) -> dict[str, Any]:
    """The shipped model (or a model set by `set_model`); read from disk on first use only."""
    global _model
    if _override is not None:
        return _override
    if path is not None:
        return _read(path)
    if _model is None:
        with _lock:
            if _model is None:
                _model = _read(MODEL_PATH) if MODEL_PATH.exists() else {}
    return _model


def _read(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def set_model(model: dict[str, Any] | None) -> None:
    """Use `model` instead of the shipped file (benches retrain per fold); None restores it."""
    global _override
    _override = model


def score_category(title: str | None, body: str, model: dict[str, Any] | None = None, *,
                   chat: bool = False) -> dict[str, float] | None:
    """Probabilities over the model's classes (bug/feature/question), or None with no model."""
    scored = score_category_style(title, body, model, chat=chat)
    return scored[0] if scored else None


def score_category_style(title: str | None, body: str, model: dict[str, Any] | None = None, *,
                         chat: bool = False) -> tuple[dict[str, float], float | None] | None:
    """(probabilities over bug/feature/question, probability that the report is written in the style
    of a tracker bug report), or None with no model; the second is None when the block has no
    gate column (`tracker_bias`, see bench/category_training.py train_category_gated).
    `chat`: score with the chat block (`chat_category`) where the model has one."""
    m = model or load_model()
    cat = (chat and m.get("chat_category")) or m.get("category")
    if not cat:
        return None
    classes: list[str] = cat["classes"]
    weights: dict[str, list[float]] = cat["weights"]
    gate = cat.get("tracker_bias")
    bias = list(cat["bias"]) if gate is None else [*cat["bias"], gate]
    # one dict lookup per feature (C loops throughout; the features not in the model give None):
    # cheaper than a set intersection followed by a second lookup of every hit. The gate is a
    # fourth column of the same rows, so it costs no second lookup.
    rows = list(filter(None, map(weights.get, category_features(title, body))))
    scores = [b + sum(col) for b, col in zip(bias, zip(*rows))] if rows else bias
    p_tracker = None if gate is None else 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, scores[-1]))))
    scores = scores[:len(classes)]
    # one-vs-rest margins -> a softmax, only used to rank and to phrase reasons
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return {c: e / total for c, e in zip(classes, exps)}, p_tracker


def detail_weights(model: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """The `eb` / `s2r` presence models ({} with no model: extract.py then uses plain rules)."""
    return (model or load_model()).get("details") or {}


_WORD = re.compile(r"[a-z0-9']+|[?!]")
SENTENCE_CHARS = 300


def sentence_features(sentence: str) -> set[str]:
    """Word unigrams and bigrams of one lower-cased sentence (training calls this very function)."""
    toks = _WORD.findall(sentence[:SENTENCE_CHARS].lower())
    feats = set(toks)
    feats.update(map(" ".join, zip(toks, toks[1:])))
    return feats


_split_cache: dict[int, tuple[list[str], list[float], dict[str, tuple[float, ...]]]] = {}


def _sentence_block(model: dict[str, Any] | None) -> tuple[list[str], list[float], dict[str, tuple[float, ...]]] | None:
    """The sentence model as (classes, biases, feature -> weight per class), built once."""
    block = (model or load_model()).get("sentences")
    if not block:
        return None
    key = id(block)
    split = _split_cache.get(key)
    if split is None:
        split = (list(block["classes"]), list(block["bias"]),
                 {f: tuple(w) for f, w in block["weights"].items()})
        _split_cache.clear()
        _split_cache[key] = split
    return split


def score_sentences(units: list[str], model: dict[str, Any] | None = None) -> list[dict[str, float]] | None:
    """Per unit, the log-odds that it states observed behaviour / expected behaviour / a step
    (independent one-vs-rest logistic scores; 0 is p = 0.5), or None with no sentence model.
    Log-odds, not probabilities: comparing with a threshold needs no exp() per unit."""
    split = _sentence_block(model)
    if split is None:
        return None
    classes, bias, weights = split
    out: list[dict[str, float]] = []
    for unit in units:
        rows = list(filter(None, map(weights.get, sentence_features(unit))))   # as score_category
        if rows:     # one column of weights per class, summed
            out.append(dict(zip(classes, [b + sum(col) for b, col in zip(bias, zip(*rows))])))
        else:
            out.append(dict(zip(classes, bias)))
    return out


def logit(p: float) -> float:
    """The log-odds of probability p (thresholds on score_sentences' scale)."""
    return math.log(p / (1.0 - p))
