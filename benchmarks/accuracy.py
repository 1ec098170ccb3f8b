"""Accuracy benchmark: the hybrid against its components and scikit-surprise peers, one split.

    python benchmarks/accuracy.py --dataset ml-latest-small --json
    python benchmarks/accuracy.py --dataset demo

Every model is measured on the same per-user holdout (the pipeline's split and seed): the
hybrid is trained exactly as the pipeline trains it (components fitted on train, blend tuned on
valid, refitted on train+valid); the peers are fitted on train+valid. Ranking: top-10 over all
movies the model knows minus the user's train+valid movies; relevant = test rating >= 4.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import DataConfig, PipelineConfig
from movie_roulette.data import sources
from movie_roulette.data.catalogue import merge_catalogue
from movie_roulette.data.split import train_valid_test
from movie_roulette.evaluation.compare import seen_ratings
from movie_roulette.evaluation.offline import evaluate
from movie_roulette.exceptions import UnknownMovieError, UnknownUserError
from movie_roulette.features.text import add_content_text
from movie_roulette.models.base import top_k_indices
from movie_roulette.models.hybrid import train_hybrid

REPORTED = ("rmse", "mae", "precision@10", "recall@10", "ndcg@10", "map@10", "coverage@10")


class SurprisePeer:
    """A fitted scikit-surprise algorithm behind the evaluation contract.

    Ratings come from surprise's own `predict`; ranking scores over all movies are computed
    with the same estimate vectorised (SVD: mu+bu+bi+pu.qi; KNNBaseline item-based: baseline +
    similarity-weighted residuals of the user's k most similar rated movies with positive
    similarity, as in surprise's `estimate`). `check_against_surprise` measures the gap.
    """

    def __init__(self, algo: Any, kind: str) -> None:
        self.algo, self.kind = algo, kind

    def fit(self, ratings: pd.DataFrame) -> SurprisePeer:
        from surprise import Dataset, Reader

        reader = Reader(rating_scale=(0.5, 5.0))
        data = Dataset.load_from_df(ratings[[C.USER_ID, C.MOVIE_ID, C.RATING]], reader)
        self.trainset = data.build_full_trainset()
        self.algo.fit(self.trainset)
        ts = self.trainset
        self.movie_ids = np.array([ts.to_raw_iid(i) for i in range(ts.n_items)], dtype=np.int64)
        self._user_inner = {ts.to_raw_uid(u): u for u in range(ts.n_users)}
        if self.kind == "knnbaseline":
            self.bu, self.bi = self.algo.compute_baselines()
            self.sim = np.asarray(self.algo.sim, dtype=np.float64)
        return self

    def knows_user(self, user_id: int) -> bool:
        return user_id in self._user_inner

    def predict_rating(self, user_id: int, movie_ids: Any) -> np.ndarray:
        if not self.knows_user(user_id):
            raise UnknownUserError(f"user {user_id}")
        preds = []
        for m in np.asarray(movie_ids).ravel():
            pred = self.algo.predict(user_id, int(m))
            if pred.details.get("was_impossible"):
                raise UnknownMovieError(f"movie {m}")
            preds.append(pred.est)
        return np.array(preds)

    def _scores(self, u: int) -> np.ndarray:
        ts, a = self.trainset, self.algo
        if self.kind == "svd":
            return ts.global_mean + a.bu[u] + a.bi + a.qi @ a.pu[u]
        items = np.array([j for j, _ in ts.ur[u]], dtype=np.int64)
        r = np.array([x for _, x in ts.ur[u]], dtype=np.float64)
        base_all = ts.global_mean + self.bu[u] + self.bi
        resid = r - base_all[items]
        sims = self.sim[:, items]  # (n_items, n_rated)
        k = min(a.k, len(items))
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < len(items) else None
        sk = np.take_along_axis(sims, top, axis=1) if top is not None else sims
        rk = resid[top] if top is not None else np.broadcast_to(resid, sims.shape)
        pos = sk > 0
        num = np.where(pos, sk * rk, 0.0).sum(axis=1)
        den = np.where(pos, sk, 0.0).sum(axis=1)
        est = base_all + np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        return est

    def recommend(
        self, user_id: int, k: int = 10, exclude_seen: bool = True
    ) -> list[tuple[int, float]]:
        if not self.knows_user(user_id):
            return []
        u = self._user_inner[user_id]
        scores = np.clip(self._scores(u), 0.5, 5.0).astype(np.float64)
        if exclude_seen:
            scores[[j for j, _ in self.trainset.ur[u]]] = -np.inf
        top = top_k_indices(scores, k)
        return [(int(self.movie_ids[j]), float(scores[j])) for j in top if np.isfinite(scores[j])]

    def check_against_surprise(self, n: int = 300, seed: int = 0) -> float:
        """Max |vectorised estimate - surprise.predict| over random (user, movie) pairs."""
        rng = np.random.default_rng(seed)
        worst = 0.0
        for _ in range(n):
            u = int(rng.integers(self.trainset.n_users))
            i = int(rng.integers(self.trainset.n_items))
            mine = float(np.clip(self._scores(u)[i], 0.5, 5.0))
            theirs = self.algo.predict(self.trainset.to_raw_uid(u), self.trainset.to_raw_iid(i)).est
            worst = max(worst, abs(mine - theirs))
        return worst


def load(dataset: str, data_dir: str | None, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    if dataset == "demo":
        cfg = DataConfig(source="demo")
    else:
        cfg = DataConfig(source="movielens", data_dir=data_dir)
    ratings = sources.load_ratings(cfg, seed=seed)
    catalogue = merge_catalogue(sources.load_catalogue_sources(cfg, seed=seed), ratings=ratings)
    return ratings, add_content_text(catalogue)


def run(dataset: str, data_dir: str | None, seed: int, skip_knn: bool) -> dict[str, Any]:
    pcfg = PipelineConfig(seed=seed)
    ratings, catalogue = load(dataset, data_dir, seed)
    train, valid, test = train_valid_test(ratings, pcfg.split, seed=seed)
    catalogue, review_info = with_review_sentiment(dataset, data_dir, seed, catalogue, valid, test)
    seen = seen_ratings(train, valid, True)
    models: dict[str, dict[str, Any]] = {}

    start = time.perf_counter()
    hybrid = train_hybrid(train, valid, catalogue, pcfg.model, seed=seed)
    hybrid_fit = time.perf_counter() - start
    models["hybrid"] = {**evaluate(hybrid, seen, test), "fit_s": hybrid_fit}
    models.update(sentiment_ablation(train, valid, test, seen, catalogue, pcfg, seed))
    component_times = hybrid.fit_info.get("refit_component_fit_seconds", {})
    for name, comp in hybrid.components.items():
        models[name] = {**evaluate(comp, seen, test), "fit_s": component_times.get(name)}

    from surprise import SVD, KNNBaseline

    peers: dict[str, SurprisePeer] = {"surprise_svd": SurprisePeer(SVD(random_state=seed), "svd")}
    if not skip_knn:
        peers["surprise_knnbaseline"] = SurprisePeer(
            KNNBaseline(
                sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False
            ),
            "knnbaseline",
        )
    checks = {}
    for name, peer in peers.items():
        start = time.perf_counter()
        peer.fit(seen)
        fit_s = time.perf_counter() - start
        models[name] = {**evaluate(peer, seen, test), "fit_s": fit_s}
        checks[name] = peer.check_against_surprise()
    return {
        "dataset": dataset,
        "split": {
            "strategy": pcfg.split.strategy,
            "seed": seed,
            "train": len(train),
            "valid": len(valid),
            "test": len(test),
            "relevance_threshold": 4.0,
        },
        "hybrid_weights": hybrid.weights,
        "reviews": review_info,
        "vectorised_vs_surprise_max_abs_diff": checks,
        "models": {
            name: {key: _num(values.get(key)) for key in (*REPORTED, "fit_s")}
            for name, values in models.items()
        },
    }


def with_review_sentiment(
    dataset: str,
    data_dir: str | None,
    seed: int,
    catalogue: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The catalogue with the per-movie review sentiment the pipeline would give the hybrid.

    demo: the generated reviews, scored by a sentiment model trained on them (labels from their
    ratings), aggregated without the reviews of held-out (valid/test) pairs. ml-latest-small:
    the shared data holds no MovieLens reviews (they come from the live TMDB/IMDb sources), so
    nothing is attached and `hybrid` equals `hybrid_no_sentiment` by construction.
    """
    from movie_roulette.config import SentimentConfig
    from movie_roulette.models.review_sentiment import (
        add_sentiment_columns,
        aggregate_sentiment,
        score_reviews,
    )
    from movie_roulette.models.sentiment import train_sentiment

    if dataset == "demo":
        data_cfg = DataConfig(source="demo")
    else:
        data_cfg = DataConfig(source="movielens", data_dir=data_dir)
    reviews = sources.load_reviews(data_cfg, seed=seed)
    if reviews.empty:
        return catalogue, {"reviews": 0, "note": "no reviews for this dataset: no signal"}
    scfg = SentimentConfig(enabled=True, train_datasets=["demo-reviews"], eval_datasets=[])
    trained = train_sentiment(scfg, None, seed, demo_reviews=reviews, with_lexicon=False)
    scored = score_reviews(reviews, trained.model)
    held_out = pd.concat([valid, test], ignore_index=True)
    aggregates = aggregate_sentiment(scored, exclude_pairs=held_out)
    info = {
        "reviews": len(scored),
        "movies_with_reviews_used": len(aggregates),
        "sentiment_heldout_accuracy": round(
            trained.metrics["model"]["demo-reviews-heldout"]["accuracy"], 4
        ),
    }
    return add_sentiment_columns(catalogue, aggregates), info


def sentiment_ablation(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    seen: pd.DataFrame,
    catalogue: pd.DataFrame,
    pcfg: PipelineConfig,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """`hybrid_no_sentiment`: the same hybrid training without the review-sentiment component."""
    start = time.perf_counter()
    model = train_hybrid(train, valid, catalogue, pcfg.model, seed=seed, use_sentiment=False)
    fit_s = time.perf_counter() - start
    return {"hybrid_no_sentiment": {**evaluate(model, seen, test), "fit_s": fit_s}}


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return round(float(value), 4)


def table(result: dict[str, Any]) -> str:
    head = f"| model | {' | '.join(REPORTED)} | fit_s |"
    lines = [head, "|" + "---|" * (len(REPORTED) + 2)]
    for name, m in sorted(result["models"].items(), key=lambda kv: -(kv[1]["ndcg@10"] or 0)):
        cells = ["-" if m[k] is None else f"{m[k]:.4f}" for k in (*REPORTED,)]
        fit = "-" if m["fit_s"] is None else f"{m['fit_s']:.1f}"
        lines.append(f"| {name} | {' | '.join(cells)} | {fit} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", choices=["ml-latest-small", "demo"], default="ml-latest-small")
    parser.add_argument("--data-dir", default=os.environ.get("MOVIE_ROULETTE_DATA_DIR"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-knn", action="store_true", help="skip the slow KNNBaseline peer")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.dataset == "ml-latest-small" and not args.data_dir:
        default = Path(__file__).resolve().parents[2] / "shared" / "data"
        args.data_dir = str(default) if default.is_dir() else None
    result = run(args.dataset, args.data_dir, args.seed, args.skip_knn)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"dataset={result['dataset']} split={result['split']}")
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
