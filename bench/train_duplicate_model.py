"""Train the duplicate model shipped in bot/duplicates/ (word vectors, weights, thresholds).

    python bench/train_duplicate_model.py [--data ../shared/data] [--fit-rows 1000]

Writes bot/duplicates/duplicate_model.npz (vocabulary, IDF, PPMI-SVD word vectors as float16),
duplicate_model.json (per query kind: score weights, floor, confidence model, link/suggest thresholds) and duplicate_model.provenance.json
(which data, which commit of each source, parameters, sizes). Vectors learn from every file in
../shared/data; weights and thresholds are fitted on replays of duplicate_pairs.csv rows
(bench/duplicate_replay.py). Held-out figures: bench/duplicate_quality.py, which refits all of
this without the scored rows. Deterministic (fixed seeds).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from duplicate_corpus import DEFAULT_DATA, PAIRS, TEXT_FILES, VECTOR_PARAMS, documents, pair_rows, train  # noqa: E402
from duplicate_replay import LINK_PRECISION, POOL, SUGGEST_PRECISION, fit, trials  # noqa: E402

from bot.duplicates.model import ARRAYS, FEATURES, PARAMS, DuplicateModel, from_file  # noqa: E402

PROVENANCE = ARRAYS.with_suffix(".provenance.json")
SOURCES = {
    "duplicate_pairs.csv": "OpenOffice duplicate bug reports (dutta1kartik3/duplicate-bug-detection, kd/sureka/OfficeDupsTest.csv, commit 11995706; from Lazar et al., MSR 2014); no licence stated",
    "issue_reports_labelled.csv": "NLBSE'24 issue report classification (nlbse2024/issue-report-classification, data/issues_train.csv, commit 2927bc67)",
    "bug_reports_ob_eb_s2r.csv": "Chaparro et al., ESEC/FSE 2017 (ojcchar/bug_report_completion, commit 27b104cb)",
    "bug_report_sentences.csv": "BEE sentences (BugListener/BugListener2022, bert_classifier/pybert/dataset/bee.valid.csv, commit a561aae3); no licence stated",
    "chat_threads.csv": "F2Chat Spring Boot Gitter threads (panshengyi/F2Chat, F2Chat/data/spring-boot.json, commit b39ed3cc)",
}
SEED = 0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--fit-rows", type=int, default=1000)
    args = parser.parse_args(argv)
    rows = pair_rows(args.data)
    vectors = train(documents(args.data, pairs=rows, sources=TEXT_FILES))
    model = DuplicateModel(vocab=vectors.vocab, idf=vectors.idf, vectors=vectors.vectors, params={"pair_weight": 1.0})
    everything = list(range(len(rows)))
    sample = random.Random(SEED).sample(everything, min(args.fit_rows, len(rows)))
    params = fit(model, trials(rows, sample, negatives_from=everything, seed=SEED))
    np.savez_compressed(ARRAYS, vocab=np.array(vectors.vocab), idf=vectors.idf.astype(np.float16), vectors=vectors.vectors.astype(np.float16))
    PARAMS.write_text(json.dumps(params, indent=1, sort_keys=True) + "\n")
    PROVENANCE.write_text(json.dumps({
        "trained_by": "bench/train_duplicate_model.py", "trained_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {name: {"source": SOURCES[name], "sha256": sha256(args.data / name), "used_for": "word vectors and IDF" + ("; weights and thresholds (replayed pairs)" if name == PAIRS else "")}
                 for name in (PAIRS, *TEXT_FILES)},
        "vectors": {**VECTOR_PARAMS, "vocabulary": len(vectors.vocab), "documents": vectors.documents, "method": "PPMI (1/distance-weighted window, context smoothing) then truncated SVD"},
        "fit": {"rows_replayed": len(sample), "pool": POOL, "link_precision_target_on_training": LINK_PRECISION, "suggest_precision_target": SUGGEST_PRECISION,
                "features": list(FEATURES), "params": params,
                "method": "listwise softmax ranking weights, then a logistic confidence model of the best candidate; apart for one-line reports and reports with a description"},
        "bytes": ARRAYS.stat().st_size, "licence_note": "two sources state no licence: the model is for developing and measuring Hypercare, as the data README says",
    }, indent=1, sort_keys=True) + "\n")
    from_file()  # it loads
    print(f"wrote {ARRAYS.relative_to(ROOT)} ({ARRAYS.stat().st_size / 1e6:.2f} MB, {len(vectors.vocab)} words x {vectors.vectors.shape[1]}), {PARAMS.name}: link_at {params['one_line']['link_at']} (one line) / {params['report']['link_at']} (report)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
