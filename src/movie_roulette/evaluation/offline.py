"""Offline evaluation of a fitted recommender on a held-out test frame."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.evaluation import metrics as M
from movie_roulette.evaluation.seen import SeenRatings
from movie_roulette.evaluation.threads import one_blas_thread
from movie_roulette.exceptions import UnknownMovieError, UnknownUserError


class Recommender(Protocol):
    def recommend(
        self, user_id: int, k: int = 10, exclude_seen: bool = True
    ) -> list[tuple[int, float]]: ...

    def predict_rating(self, user_id: int, movie_ids: Any) -> np.ndarray: ...


def _predict_user(
    model: Recommender, user: Any, movies: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions for one user's test movies, and a mask of the movies the model knew.

    One call per user; if a movie is unknown the user's movies are retried one by one.
    Raises UnknownUserError and NotImplementedError to the caller.
    """
    try:
        preds = np.asarray(model.predict_rating(user, movies), dtype="float64").ravel()
        if preds.size != movies.size:
            raise ValueError(
                f"predict_rating returned {preds.size} values for {movies.size} movies "
                f"(user {user})."
            )
        return preds, np.ones(movies.size, dtype=bool)
    except UnknownMovieError:
        preds = np.full(movies.size, np.nan)
        for i in range(movies.size):
            try:
                preds[i] = np.asarray(model.predict_rating(user, movies[i : i + 1])).ravel()[0]
            except UnknownMovieError:
                continue
        return preds, ~np.isnan(preds)


@one_blas_thread
def rating_metrics(model: Recommender, test: pd.DataFrame) -> dict[str, float]:
    """RMSE/MAE over the test rows whose user and movie the model knows.

    `rating_coverage` is the share of test rows that could be predicted; all three are NaN for
    models that do not predict ratings (predict_rating raises NotImplementedError).
    """
    nan = {"rmse": math.nan, "mae": math.nan, "rating_coverage": math.nan}
    if test.empty:
        return nan
    truths: list[np.ndarray] = []
    preds: list[np.ndarray] = []
    for user, rows in test.groupby(C.USER_ID, sort=True):
        movies = rows[C.MOVIE_ID].to_numpy()
        try:
            predicted, known = _predict_user(model, user, movies)
        except NotImplementedError:
            return nan
        except UnknownUserError:
            continue
        known &= ~np.isnan(predicted)
        truths.append(rows[C.RATING].to_numpy(dtype="float64")[known])
        preds.append(predicted[known])
    y_true = np.concatenate(truths) if truths else np.empty(0)
    y_pred = np.concatenate(preds) if preds else np.empty(0)
    coverage = y_true.size / len(test)
    if y_true.size == 0:
        return {**nan, "rating_coverage": coverage}
    return {
        "rmse": M.rmse(y_true, y_pred),
        "mae": M.mae(y_true, y_pred),
        "rating_coverage": coverage,
    }


def _recommended_ids(model: Recommender, user: Any, k: int) -> list[Any]:
    try:
        recs = model.recommend(user, k, exclude_seen=True)
    except UnknownUserError:
        return []
    return [item[0] if isinstance(item, tuple | list) else item.movie_id for item in recs]


@one_blas_thread
def ranking_metrics(
    model: Recommender,
    train: pd.DataFrame | SeenRatings,
    test: pd.DataFrame,
    k: int = 10,
    threshold: float = 4.0,
    item_genres: Mapping[Any, str] | None = None,
) -> dict[str, float]:
    """Top-k metrics averaged over test users with at least one relevant movie (rating >=
    threshold). Users the model does not know get an empty list (all zeros).
    coverage@k = distinct recommended movies / distinct movies in train.

    With `item_genres` ({movie_id: "A|B"}) the beyond-accuracy metrics over the same lists are
    added: diversity@k (mean intra-list genre Jaccard distance), novelty@k (mean self-information
    -log2(share of train users who rated the movie)), arp@k (mean train rating count of the
    recommended movies) and pop_lift@k (that count relative to the user's own train history:
    1 = as mainstream as the user). `train` may be the parts it was fitted on (`SeenRatings`:
    counted as their concatenation, not built)."""
    k = M.check_k(k)
    train = SeenRatings.of(train)
    relevant_rows = test[test[C.RATING] >= threshold]
    relevant_by_user: Mapping[Any, set[Any]] = {
        user: set(rows[C.MOVIE_ID]) for user, rows in relevant_rows.groupby(C.USER_ID, sort=True)
    }
    names = ["precision", "recall", "ndcg", "map", "hit_rate"]
    fns = [
        M.precision_at_k,
        M.recall_at_k,
        M.ndcg_at_k,
        M.average_precision_at_k,
        M.hit_rate_at_k,
    ]
    scores: dict[str, list[float]] = {name: [] for name in names}
    rec_lists = []
    for user, relevant in relevant_by_user.items():
        recs = _recommended_ids(model, user, k)
        rec_lists.append(recs)
        for name, fn in zip(names, fns, strict=True):
            scores[name].append(fn(recs, relevant, k))
    result = {f"{name}@{k}": float(np.mean(v)) if v else math.nan for name, v in scores.items()}
    n_train_movies = train.nunique(C.MOVIE_ID)
    result[f"coverage@{k}"] = (
        M.catalogue_coverage_at_k(rec_lists, n_train_movies, k) if n_train_movies else math.nan
    )
    result["ranking_users"] = float(len(relevant_by_user))
    if item_genres is not None:
        result.update(_beyond_accuracy(rec_lists, list(relevant_by_user), train, item_genres, k))
    return result


def _beyond_accuracy(
    rec_lists: list[list[Any]],
    users: list[Any],
    train: SeenRatings,
    item_genres: Mapping[Any, str],
    k: int,
) -> dict[str, float]:
    counts = train.value_counts(C.MOVIE_ID)
    popularity = {int(m): float(c) for m, c in counts.items()}
    # only the evaluated users' histories (as Python lists: all of them were ~1 GB at 25M)
    own = train.rows_of(C.USER_ID, users)
    history = own.groupby(C.USER_ID)[C.MOVIE_ID].apply(list)
    histories = [history.get(u, []) for u in users]
    n_users = max(train.nunique(C.USER_ID), 1)
    genres = {**{int(m): "" for m in counts.index}, **dict(item_genres)}
    for recs in rec_lists:  # movies without a catalogue row count as genre-less
        genres.update({m: "" for m in recs if m not in genres})
    nonempty = [r for r in rec_lists if r]
    out = {f"{key}@{k}": math.nan for key in ("diversity", "novelty", "arp", "pop_lift")}
    if any(len(r) >= 2 for r in rec_lists):
        out[f"diversity@{k}"] = M.mean_intra_list_diversity(rec_lists, genres, k)
    if nonempty:
        pops = {**{m: 0.0 for r in nonempty for m in r}, **popularity}
        out[f"novelty@{k}"] = M.novelty_at_k(nonempty, pops, n_users, k)
        out[f"arp@{k}"] = M.average_popularity_at_k(nonempty, popularity, k)
        out[f"pop_lift@{k}"] = M.popularity_lift_at_k(rec_lists, histories, popularity, k)
    return out


def evaluate(
    model: Recommender,
    train: pd.DataFrame | SeenRatings,
    test: pd.DataFrame,
    k: int = 10,
    threshold: float = 4.0,
    item_genres: Mapping[Any, str] | None = None,
) -> dict[str, float]:
    """All offline metrics: rmse, mae, precision@k, recall@k, ndcg@k, map@k, hit_rate@k,
    coverage@k, plus rating_coverage and ranking_users; with `item_genres` also diversity@k,
    novelty@k, arp@k and pop_lift@k (see `ranking_metrics`)."""
    missing = [c for c in (C.USER_ID, C.MOVIE_ID, C.RATING) if c not in test.columns]
    if missing:
        raise ValueError(f"test: missing column(s) {missing}.")
    train = SeenRatings.of(train)
    if train.missing([C.MOVIE_ID]):
        raise ValueError(f"train: missing column '{C.MOVIE_ID}'.")
    ranking = ranking_metrics(model, train, test, k, threshold, item_genres)
    rating = rating_metrics(model, test)
    keys = ["precision", "recall", "ndcg", "map", "hit_rate", "coverage"]
    if item_genres is not None:
        keys += ["diversity", "novelty", "arp", "pop_lift"]
    ordered = {"rmse": rating["rmse"], "mae": rating["mae"]}
    ordered.update({f"{key}@{k}": ranking[f"{key}@{k}"] for key in keys})
    ordered["rating_coverage"] = rating["rating_coverage"]
    ordered["ranking_users"] = ranking["ranking_users"]
    return ordered


def evaluate_many(
    models: Mapping[str, Recommender],
    train: pd.DataFrame,
    test: pd.DataFrame,
    k: int = 10,
    threshold: float = 4.0,
) -> pd.DataFrame:
    """One row per model (index = model name), one column per metric."""
    rows = {name: evaluate(model, train, test, k, threshold) for name, model in models.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "model"
    return frame
