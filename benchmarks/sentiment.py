"""Sentiment benchmark: the review sentiment model against the VADER lexicon baseline.

    python benchmarks/sentiment.py --json
    python benchmarks/sentiment.py --data-dir ../shared/data

One run: the model is trained exactly as the pipeline trains it (configs' defaults: Cornell
rt-polarity + de-duplicated si650, each split 68/12/20 into train/valid/held-out with seed 42,
C tuned on valid by log-loss, refitted on train+valid) and both the model and the lexicon are
scored on the same evaluation sets: the rt-polarity held-out part (2,133 snippets never trained
on) and all 1,000 UCI imdb_labelled sentences. --json prints {"model": {...}, "lexicon": {...}},
each with accuracy, f1 and roc_auc per evaluation set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from movie_roulette.config import SentimentConfig
from movie_roulette.models.sentiment import train_sentiment

EVAL_SETS = ("rt-polarity-heldout", "imdb_labelled")
METRICS = ("accuracy", "f1", "roc_auc")


def run(data_dir: Path, seed: int) -> dict[str, Any]:
    cfg = SentimentConfig(enabled=True)
    start = time.perf_counter()
    result = train_sentiment(cfg, data_dir, seed=seed)
    seconds = time.perf_counter() - start
    out: dict[str, Any] = {
        who: {
            name: {m: round(result.metrics[who][name][m], 4) for m in METRICS} for name in EVAL_SETS
        }
        for who in ("model", "lexicon")
    }
    details = {
        "C": result.model.C,
        "validation_by_C": result.validation,
        "rows": result.data,
        "features": len(result.model.coef),
        "seconds_total": round(seconds, 1),
    }
    return {"result": out, "details": details}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=os.environ.get("MOVIE_ROULETTE_DATA_DIR"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help='print {"model": ..., "lexicon": ...}')
    args = parser.parse_args(argv)
    if not args.data_dir:
        default = Path(__file__).resolve().parents[2] / "shared" / "data"
        args.data_dir = str(default)
    run_result = run(Path(args.data_dir), args.seed)
    result = run_result["result"]
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"sentiment model vs VADER lexicon (seed {args.seed}): {run_result['details']}")
    print("| model | eval set | accuracy | f1 | roc_auc |")
    print("|---|---|---|---|---|")
    for who in ("model", "lexicon"):
        for name in EVAL_SETS:
            m = result[who][name]
            print(f"| {who} | {name} | {m['accuracy']:.4f} | {m['f1']:.4f} | {m['roc_auc']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
