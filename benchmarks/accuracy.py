"""Accuracy benchmark: the hybrid against the strongest simple peers, measured in one run.

    python benchmarks/accuracy.py                      # ml-latest-small, everything (~10-15 min)
    python benchmarks/accuracy.py --json               # one JSON object
    python benchmarks/accuracy.py --markdown           # the README's accuracy tables
    python benchmarks/accuracy.py --dataset demo       # the embedded demo data (fast)
    python benchmarks/accuracy.py --cv-folds 0         # holdout only (no cross-validation)
    python benchmarks/accuracy.py --skip-svdpp         # without the slow surprise SVD++ peer
    python benchmarks/accuracy.py --genre-taste        # the hybrid with model.genre_taste on

Holdout (ranking, and RMSE on one split). Every model is measured on the same per-user random
holdout (the pipeline's split and seed). The hybrid is the library's, trained exactly as the
pipeline trains it (`train_hybrid`: components fitted on train, blend weights and rating stack
tuned on valid, components refitted on train+valid). Peers are fitted on train+valid; the ones
with a hyperparameter that matters are tuned on the same valid part first (EASE's l2, item-kNN's
neighbour count, chosen by NDCG@10 on valid). Ranking: top-10 over every movie the model knows
minus the user's train+valid movies; relevant = test rating >= 4. Rows "hybrid:<name>" are the
hybrid's own refitted components on their own.

Peers: popularity (most rated); EASE (Steck 2019, binary user x movie matrix); item-kNN (cosine
on binary columns, top-n neighbours); scikit-surprise SVD, SVD++ and KNNBaseline (item-based,
pearson_baseline), default hyperparameters, ranking by their own predicted rating (vectorised;
the maximum difference from `surprise.predict` is reported).

Cross-validation (rating prediction). 5-fold CV over all ratings (shuffled with the seed, as
surprise's KFold). In each fold the hybrid is trained as the pipeline trains it on the fold's
train part only: that part is split per user into train/valid (the pipeline's valid fraction),
the rating stack is fitted on that valid part, the components are refitted on the whole fold
train; the test fold is never seen. Every model predicts every test-fold rating (surprise's
own fallbacks for unknown users/movies, the hybrid's baselines), as surprise's cross_validate.

Beyond accuracy, on the holdout top-10 lists: coverage@10 (distinct recommended / movies in
train+valid), diversity@10 (mean intra-list genre Jaccard distance), novelty@10 (mean
-log2 share of users who rated the movie), arp@10 (mean rating count of recommended movies) and
pop_lift@10 (that count over the mean count of the user's own movies).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import DataConfig, PipelineConfig
from movie_roulette.data import sources
from movie_roulette.data.catalogue import merge_catalogue
from movie_roulette.data.split import per_user_holdout, train_valid_test
from movie_roulette.evaluation.offline import evaluate, ranking_metrics
from movie_roulette.evaluation.seen import seen_ratings
from movie_roulette.exceptions import UnknownMovieError, UnknownUserError
from movie_roulette.features.text import add_content_text
from movie_roulette.models.base import Recommender, top_k_indices
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.models.implicit import EASERecommender, ItemKNNRecommender
from movie_roulette.models.popularity import PopularityRecommender

ACCURACY = ("rmse", "mae", "precision@10", "recall@10", "ndcg@10", "map@10")
BEYOND = ("coverage@10", "diversity@10", "novelty@10", "arp@10", "pop_lift@10")
EASE_L2_GRID = (100.0, 200.0, 300.0, 500.0, 1000.0)
KNN_GRID = (50, 100, 200)
RATING_SCALE = (0.5, 5.0)


class SurprisePeer:
    """A fitted scikit-surprise algorithm behind the evaluation contract.

    Ratings come from surprise's own `predict`; ranking scores over all movies are the same
    estimate vectorised: SVD mu+bu+bi+qi.pu; SVD++ mu+bu+bi+qi.(pu + |N(u)|^-1/2 sum_j y_j);
    KNNBaseline item-based: baseline + similarity-weighted residuals of the user's k most
    similar rated movies with positive similarity, as in surprise's `estimate`.
    `check_against_surprise` measures the gap.
    """

    def __init__(self, algo: Any, kind: str) -> None:
        self.algo, self.kind = algo, kind

    def fit(self, ratings: pd.DataFrame) -> SurprisePeer:
        from surprise import Dataset, Reader

        data = Dataset.load_from_df(
            ratings[[C.USER_ID, C.MOVIE_ID, C.RATING]], Reader(rating_scale=RATING_SCALE)
        )
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

    def predict_all(self, test: pd.DataFrame) -> np.ndarray:
        """surprise's own predictions for every row, fallbacks included (as cross_validate)."""
        rows = zip(test[C.USER_ID], test[C.MOVIE_ID], test[C.RATING], strict=True)
        return np.array([p.est for p in self.algo.test([(u, m, r) for u, m, r in rows])])

    def _scores(self, u: int) -> np.ndarray:
        ts, a = self.trainset, self.algo
        if self.kind == "svd":
            return ts.global_mean + a.bu[u] + a.bi + a.qi @ a.pu[u]
        items = np.array([j for j, _ in ts.ur[u]], dtype=np.int64)
        if self.kind == "svdpp":
            implicit = a.yj[items].sum(axis=0) / np.sqrt(len(items))
            return ts.global_mean + a.bu[u] + a.bi + a.qi @ (a.pu[u] + implicit)
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
        return base_all + np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    def recommend(
        self, user_id: int, k: int = 10, exclude_seen: bool = True
    ) -> list[tuple[int, float]]:
        if not self.knows_user(user_id):
            return []
        u = self._user_inner[user_id]
        scores = np.clip(self._scores(u), *RATING_SCALE).astype(np.float64)
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
            mine = float(np.clip(self._scores(u)[i], *RATING_SCALE))
            theirs = self.algo.predict(self.trainset.to_raw_uid(u), self.trainset.to_raw_iid(i)).est
            worst = max(worst, abs(mine - theirs))
        return worst


def surprise_algo(name: str, seed: int) -> tuple[Any, str]:
    from surprise import SVD, KNNBaseline, SVDpp

    if name == "surprise_svd":
        return SVD(random_state=seed), "svd"
    if name == "surprise_svdpp":
        return SVDpp(random_state=seed, cache_ratings=True), "svdpp"
    if name == "surprise_knnbaseline":
        sim = {"name": "pearson_baseline", "user_based": False}
        return KNNBaseline(sim_options=sim, verbose=False), "knnbaseline"
    raise ValueError(f"unknown surprise peer {name!r}")


def load(dataset: str, data_dir: str | None, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    if dataset == "demo":
        cfg = DataConfig(source="demo")
    else:
        cfg = DataConfig(source="movielens", data_dir=data_dir)
    ratings = sources.load_ratings(cfg, seed=seed)
    catalogue = merge_catalogue(sources.load_catalogue_sources(cfg, seed=seed), ratings=ratings)
    return ratings, add_content_text(catalogue)


def tune_on_valid(
    make: Callable[[Any], Recommender], grid: tuple, train: pd.DataFrame, valid: pd.DataFrame
) -> tuple[Any, dict[str, float]]:
    """The grid value whose model, fitted on train, has the best NDCG@10 on valid."""
    scores = {}
    for value in grid:
        model = make(value).fit(train)
        scores[str(value)] = ranking_metrics(model, train, valid, k=10)["ndcg@10"]
    best = max(grid, key=lambda v: scores[str(v)])
    return best, {key: round(val, 4) for key, val in scores.items()}


def holdout(
    ratings: pd.DataFrame,
    catalogue: pd.DataFrame,
    pcfg: PipelineConfig,
    seed: int,
    surprise_peers: list[str],
    log: Callable[[str], None],
    dataset: str,
    data_dir: str | None,
) -> dict[str, Any]:
    train, valid, test = train_valid_test(ratings, pcfg.split, seed=seed)
    catalogue, review_info = with_review_sentiment(dataset, data_dir, seed, catalogue, valid, test)
    seen = seen_ratings(train, valid, pcfg.model.refit_on_train_and_valid).frame()  # peers fit
    genres = dict(zip(catalogue[C.MOVIE_ID].astype(int), catalogue[C.GENRES], strict=True))
    models: dict[str, dict[str, Any]] = {}

    def measure(name: str, model: Any, fit_s: float | None) -> None:
        models[name] = {**evaluate(model, seen, test, item_genres=genres), "fit_s": fit_s}
        log(f"{name}: ndcg@10={models[name]['ndcg@10']:.4f} fit_s={fit_s}")

    start = time.perf_counter()
    hybrid = train_hybrid(train, valid, catalogue, pcfg.model, seed=seed)
    measure("hybrid", hybrid, time.perf_counter() - start)
    ablation_start = time.perf_counter()
    ablation = train_hybrid(train, valid, catalogue, pcfg.model, seed=seed, use_sentiment=False)
    measure("hybrid_no_sentiment", ablation, time.perf_counter() - ablation_start)
    refit_times = hybrid.fit_info.get("refit_component_fit_seconds", {})
    for name, comp in hybrid.components.items():
        measure(f"hybrid:{name}", comp, refit_times.get(name))

    tuned: dict[str, Any] = {}
    start = time.perf_counter()
    measure("popularity", PopularityRecommender().fit(seen), time.perf_counter() - start)

    start = time.perf_counter()
    l2, tuned["ease_valid_ndcg_by_l2"] = tune_on_valid(
        lambda v: EASERecommender(l2=v), EASE_L2_GRID, train, valid
    )
    tuned["ease_tuning_s"] = round(time.perf_counter() - start, 1)
    tuned["ease_l2"] = l2
    start = time.perf_counter()
    measure("ease", EASERecommender(l2=l2).fit(seen), time.perf_counter() - start)

    start = time.perf_counter()
    nn, tuned["itemknn_valid_ndcg_by_neighbours"] = tune_on_valid(
        lambda v: ItemKNNRecommender(n_neighbours=v), KNN_GRID, train, valid
    )
    tuned["itemknn_tuning_s"] = round(time.perf_counter() - start, 1)
    tuned["itemknn_neighbours"] = nn
    start = time.perf_counter()
    measure("itemknn", ItemKNNRecommender(n_neighbours=nn).fit(seen), time.perf_counter() - start)

    checks = {}
    for name in surprise_peers:
        peer = SurprisePeer(*surprise_algo(name, seed))
        start = time.perf_counter()
        peer.fit(seen)
        measure(name, peer, time.perf_counter() - start)
        checks[name] = peer.check_against_surprise()
    return {
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
        "hybrid_fit_info": {
            key: hybrid.fit_info.get(key)
            for key in (
                "component_fit_seconds",
                "refit_component_fit_seconds",
                "weight_search_seconds",
                "rating_stack_seconds",
                "total_fit_seconds",
                "valid_ndcg@10",
                "valid_rmse_stack",
            )
        },
        "peer_tuning": tuned,
        "vectorised_vs_surprise_max_abs_diff": checks,
        "models": models,
    }


def kfold(ratings: pd.DataFrame, n_folds: int, seed: int) -> list[tuple[pd.DataFrame, ...]]:
    order = np.random.default_rng(seed).permutation(len(ratings))
    folds = np.array_split(order, n_folds)
    out = []
    for f in range(n_folds):
        test_rows = np.sort(folds[f])
        train_rows = np.sort(np.concatenate([folds[g] for g in range(n_folds) if g != f]))
        out.append((ratings.iloc[train_rows], ratings.iloc[test_rows]))
    return out


def hybrid_predict_all(model: Any, test: pd.DataFrame) -> np.ndarray:
    preds = np.empty(len(test))
    positions = np.arange(len(test))
    for user, rows in test.assign(_pos=positions).groupby(C.USER_ID, sort=False):
        preds[rows["_pos"].to_numpy()] = model.predict_rating(int(user), rows[C.MOVIE_ID])
    return preds


def cross_validate(
    ratings: pd.DataFrame,
    catalogue: pd.DataFrame,
    pcfg: PipelineConfig,
    seed: int,
    n_folds: int,
    surprise_peers: list[str],
    log: Callable[[str], None],
) -> dict[str, Any]:
    per_model: dict[str, dict[str, list[float]]] = {}

    def record(name: str, y: np.ndarray, pred: np.ndarray, fit_s: float) -> None:
        row = per_model.setdefault(name, {"rmse": [], "mae": [], "fit_s": []})
        row["rmse"].append(float(np.sqrt(np.mean((y - pred) ** 2))))
        row["mae"].append(float(np.mean(np.abs(y - pred))))
        row["fit_s"].append(fit_s)
        log(f"cv {name} fold {len(row['rmse'])}: rmse={row['rmse'][-1]:.4f} fit_s={fit_s:.1f}")

    for fold, (fold_train, fold_test) in enumerate(kfold(ratings, n_folds, seed)):
        y = fold_test[C.RATING].to_numpy(np.float64)
        start = time.perf_counter()
        train, valid = per_user_holdout(
            fold_train, pcfg.split.valid_fraction, seed + fold, pcfg.split.min_user_ratings
        )
        model = train_hybrid(train, valid, catalogue, pcfg.model, seed=seed, tune_ranking=False)
        record("hybrid", y, hybrid_predict_all(model, fold_test), time.perf_counter() - start)
        for name in surprise_peers:
            peer = SurprisePeer(*surprise_algo(name, seed))
            start = time.perf_counter()
            peer.fit(fold_train)
            fit_s = time.perf_counter() - start
            record(name, y, peer.predict_all(fold_test), fit_s)
    return {
        "folds": n_folds,
        "models": {
            name: {
                "rmse": float(np.mean(v["rmse"])),
                "rmse_std": float(np.std(v["rmse"])),
                "mae": float(np.mean(v["mae"])),
                "mae_std": float(np.std(v["mae"])),
                "fit_s": float(np.mean(v["fit_s"])),
                "rmse_per_fold": [round(x, 4) for x in v["rmse"]],
            }
            for name, v in per_model.items()
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


def targets(result: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets, computed from this run only."""
    models = result["holdout"]["models"]
    # peers: everything that is not the hybrid, its components or its ablations
    peers = {n: m for n, m in models.items() if not n.startswith("hybrid")}
    best_peer = max(peers, key=lambda n: peers[n]["ndcg@10"])
    singles = {n: m for n, m in models.items() if n != "hybrid" and not n.startswith("hybrid_")}
    best_single = max(singles, key=lambda n: singles[n]["ndcg@10"])
    hyb = models["hybrid"]
    out: dict[str, Any] = {
        "best_peer_ndcg": best_peer,
        "ndcg_vs_best_peer": hyb["ndcg@10"] / peers[best_peer]["ndcg@10"],
        "best_single_model_ndcg": best_single,
        "ndcg_vs_best_single_model": hyb["ndcg@10"] / singles[best_single]["ndcg@10"],
        "coverage_vs_popularity": hyb["coverage@10"] / models["popularity"]["coverage@10"],
        "hybrid_fit_s": hyb["fit_s"],
    }
    out["ndcg_target_met"] = out["ndcg_vs_best_peer"] >= 1.05
    out["coverage_target_met"] = out["coverage_vs_popularity"] >= 2.0
    out["fit_time_target_met"] = hyb["fit_s"] < 120.0
    cv = result.get("cv", {}).get("models", {})
    if "hybrid" in cv and "surprise_knnbaseline" in cv:
        ratio = cv["hybrid"]["rmse"] / cv["surprise_knnbaseline"]["rmse"]
        out["cv_rmse_vs_knnbaseline"] = ratio
        out["rmse_target_met"] = ratio <= 0.97
    return out


def run(
    dataset: str,
    data_dir: str | None,
    seed: int,
    cv_folds: int,
    skip_svdpp: bool,
    log: Callable[[str], None],
    genre_taste: bool = False,
) -> dict[str, Any]:
    pcfg = PipelineConfig(seed=seed)
    if genre_taste:  # the hybrid with the genre_taste component (off by default)
        taste = pcfg.model.genre_taste.model_copy(update=dict(enabled=True))
        pcfg = pcfg.model_copy(
            update=dict(model=pcfg.model.model_copy(update=dict(genre_taste=taste)))
        )
    ratings, catalogue = load(dataset, data_dir, seed)
    peers = ["surprise_svd", "surprise_knnbaseline"]
    if not skip_svdpp:
        peers.insert(1, "surprise_svdpp")
    started = time.perf_counter()
    result: dict[str, Any] = {
        "dataset": dataset,
        "ratings": len(ratings),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "holdout": holdout(ratings, catalogue, pcfg, seed, peers, log, dataset, data_dir),
    }
    if cv_folds >= 2:
        result["cv"] = cross_validate(ratings, catalogue, pcfg, seed, cv_folds, peers, log)
    result["targets"] = targets(result)
    result["benchmark_seconds"] = round(time.perf_counter() - started, 1)
    if hasattr(os, "getloadavg"):
        result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return _rounded(result)


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else round(float(value), 4)
    return value


def _cell(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(result: dict[str, Any]) -> str:
    ho = result["holdout"]
    lines = [
        f"Holdout ({ho['split']['train']:,} train / {ho['split']['valid']:,} valid / "
        f"{ho['split']['test']:,} test ratings, seed {ho['split']['seed']}); rows sorted by "
        "NDCG@10; `hybrid:<name>` = the hybrid's own component alone.",
        "",
        f"| model | {' | '.join(ACCURACY)} | {' | '.join(BEYOND)} | fit_s |",
        "|" + "---|" * (len(ACCURACY) + len(BEYOND) + 2),
    ]
    rows = sorted(ho["models"].items(), key=lambda kv: -(kv[1]["ndcg@10"] or 0))
    for name, m in rows:
        cells = [_cell(m.get(k)) for k in (*ACCURACY, *BEYOND)]
        label = f"**{name}**" if name == "hybrid" else name
        lines.append(f"| {label} | {' | '.join(cells)} | {_cell(m['fit_s'], 1)} |")
    cv = result.get("cv")
    if cv:
        lines += [
            "",
            f"{cv['folds']}-fold cross-validation of rating prediction (all ratings):",
            "",
            "| model | rmse | rmse_std | mae | fit_s per fold |",
            "|---|---|---|---|---|",
        ]
        for name, m in sorted(cv["models"].items(), key=lambda kv: kv[1]["rmse"]):
            label = f"**{name}**" if name == "hybrid" else name
            lines.append(
                f"| {label} | {_cell(m['rmse'])} | {_cell(m['rmse_std'])} | {_cell(m['mae'])} "
                f"| {_cell(m['fit_s'], 1)} |"
            )
    t = result["targets"]
    lines += ["", "Targets (this run):", ""]
    lines.append(
        f"* NDCG@10 vs the best peer ({t['best_peer_ndcg']}): {t['ndcg_vs_best_peer']:.3f}x "
        f"(target >= 1.05x: {'met' if t['ndcg_target_met'] else 'NOT met'}); vs the best single "
        f"model incl. the hybrid's components ({t['best_single_model_ndcg']}): "
        f"{t['ndcg_vs_best_single_model']:.3f}x"
    )
    if "cv_rmse_vs_knnbaseline" in t:
        lines.append(
            f"* CV RMSE vs surprise KNNBaseline: {t['cv_rmse_vs_knnbaseline']:.3f}x "
            f"(target <= 0.97x: {'met' if t['rmse_target_met'] else 'NOT met'})"
        )
    lines.append(
        f"* coverage@10 vs popularity: {t['coverage_vs_popularity']:.1f}x (target >= 2x: "
        f"{'met' if t['coverage_target_met'] else 'NOT met'})"
    )
    lines.append(
        f"* hybrid fit (all components, blend search, rating stack, refit): "
        f"{t['hybrid_fit_s']:.1f} s (target < 120 s: "
        f"{'met' if t['fit_time_target_met'] else 'NOT met'}); "
        f"load average at the end {result['machine'].get('loadavg_at_end')} on "
        f"{result['machine']['cpus']} CPUs"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", choices=["ml-latest-small", "demo"], default="ml-latest-small")
    parser.add_argument("--data-dir", default=os.environ.get("MOVIE_ROULETTE_DATA_DIR"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--cv-folds", type=int, default=5, help="rating cross-validation folds (0 = skip)"
    )
    parser.add_argument(
        "--skip-svdpp", action="store_true", help="skip surprise SVD++ (~20 s a fit on 2 cores)"
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--markdown", action="store_true", help="print the README tables")
    parser.add_argument("--output", help="also write the JSON result to this file")
    parser.add_argument(
        "--genre-taste", action="store_true", help="the hybrid with model.genre_taste enabled"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.cv_folds == 1 or args.cv_folds < 0:
        parser.error("--cv-folds: use 0 (skip) or at least 2.")
    if args.dataset == "ml-latest-small" and not args.data_dir:
        default = Path(__file__).resolve().parents[2] / "shared" / "data"
        args.data_dir = str(default) if default.is_dir() else None

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    result = run(
        args.dataset,
        args.data_dir,
        args.seed,
        args.cv_folds,
        args.skip_svdpp,
        log,
        genre_taste=args.genre_taste,
    )
    if args.output:
        path = Path(args.output)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(result, indent=2), encoding="utf-8")
        tmp.replace(path)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"dataset={result['dataset']} ratings={result['ratings']}")
        print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
