"""Cheaper EASE for serving, and what it costs in accuracy: ml-latest-small holdout, one run each.

    python benchmarks/ease_variants.py --data-dir ../shared/data --json
    python benchmarks/ease_variants.py --variants dense pruned:0.2 no-liked

A served request sums one row of each EASE matrix per rated movie (three 6,278 x 6,278 float32
matrices on ml-latest-small): for the heaviest users that is most of the request (docs/serving.md).
Two ways to read less were measured with the holdout of `benchmarks/accuracy.py` (same split,
seed, weight search and metrics; `--cv-folds 0 --skip-svdpp`):

* `pruned:F`: every row of every EASE B keeps only its largest-magnitude fraction F of entries
  (sparse EASE by pruning; 1/F times fewer bytes per request if stored sparse);
* `no-liked`: the hybrid without the "ease_liked" component (`implicit.liked_min_rating: null`);
* `dense`: the hybrid as configured (the reference).

Prints, per variant, the hybrid's NDCG@10 and RMSE, the tuned weights and each EASE's density.
The small-path targets are NDCG@10 >= 0.318 and RMSE <= 0.8172 (issue 13).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def prune_rows(B: np.ndarray, keep: float) -> None:
    """Zero all but the `keep` fraction of largest-|value| entries of each row, in place."""
    k = max(1, int(round(keep * B.shape[1])))
    if k >= B.shape[1]:
        return
    threshold = -np.partition(-np.abs(B), k - 1, axis=1)[:, k - 1 : k]
    B[np.abs(B) < threshold] = 0.0


def run_variant(variant: str, data_dir: str | None, seed: int) -> dict[str, Any]:
    import accuracy

    from movie_roulette.models import implicit
    from movie_roulette.models.hybrid import components

    fit, eases = implicit.EASERecommender._fit, components._eases
    densities: list[float] = []

    def without_liked(cfg: Any, max_items: int | None) -> dict[str, Any]:
        return {n: c for n, c in eases(cfg, max_items).items() if n != "ease_liked"}

    def pruned_fit(self: Any, data: Any, catalogue: Any) -> None:
        fit(self, data, catalogue)
        prune_rows(self.B, float(variant.split(":", 1)[1]))
        densities.append(round(float((self.B != 0).mean()), 4))

    try:
        if variant.startswith("pruned:"):
            implicit.EASERecommender._fit = pruned_fit  # type: ignore[method-assign]
        elif variant == "no-liked":  # as `implicit.liked_min_rating: null` in the config
            components._eases = without_liked
        elif variant != "dense":
            raise SystemExit(f"--variants: unknown {variant!r}; use dense, no-liked, pruned:F")
        result = accuracy.run("ml-latest-small", data_dir, seed, 0, True, lambda _m: None)
    finally:
        implicit.EASERecommender._fit = fit  # type: ignore[method-assign]
        components._eases = eases
    hybrid = result["holdout"]["models"]["hybrid"]
    return {
        "variant": variant,
        "ndcg@10": hybrid["ndcg@10"],
        "rmse": hybrid["rmse"],
        "weights": result["holdout"]["hybrid_weights"],
        "components": sorted(result["holdout"]["hybrid_weights"]),
        "ease_density": densities[:3] or None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MOVIE_ROULETTE_DATA_DIR"))
    parser.add_argument(
        "--variants", nargs="+", default=["dense", "no-liked", "pruned:0.2", "pruned:0.05"]
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.data_dir:
        default = ROOT.parent / "shared" / "data"
        args.data_dir = str(default) if default.is_dir() else None
    rows = [run_variant(v, args.data_dir, args.seed) for v in args.variants]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['variant']:12s} ndcg@10 {row['ndcg@10']:.4f} rmse {row['rmse']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
