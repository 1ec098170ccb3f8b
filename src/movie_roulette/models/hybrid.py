"""The hybrid recommender: a tuned blend of the component models, with cold-start fallbacks.

Ranking: every component scores all movies; each component's scores are z-scored per user over the
candidate movies (popularity on log scale first; movies a component does not know get its lowest
candidate z-score); the ranking score is the weighted sum. Weights are chosen on the validation
split by coordinate search maximising NDCG@k. A folded-in profile of a few ratings gives much
more peaked score distributions than a full user history (one rated movie: EASE's top z ~18), so
for fold-in each component's z-scores are scaled down until its top candidate's z is no larger
than the median top z of the validation users (`top_z`); order within a component is kept.

Ratings: a feature-weighted linear stack (Sill et al. 2009; least squares with intercept, fitted on
the validation split) of the components' rating predictions, the baseline mu + bu + bi and the
ranking components' z-scores (how likely the user is to watch the movie at all), each also
multiplied by the user's and the movie's centred log rating count, so that the mix can differ
between heavy and light users and between popular and rare movies. Clipped to the rating scale. A
component that does not know the user or movie contributes the baseline (or z = 0) instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import ModelConfig
from movie_roulette.exceptions import UnknownGenreError, UnknownMovieError, UnknownUserError
from movie_roulette.features.text import split_genres
from movie_roulette.models.base import (
    Interactions,
    Recommender,
    check_ratings,
    fit_baselines,
    model_from_state,
    top_k_indices,
)
from movie_roulette.models.collaborative import SVDRecommender
from movie_roulette.models.content import ContentRecommender
from movie_roulette.models.implicit import EASERecommender, ItemKNNRecommender
from movie_roulette.models.popularity import PopularityRecommender
from movie_roulette.models.review_sentiment import (
    ReviewSentimentRecommender,
    add_sentiment_component,
)
from movie_roulette.progress import Progress
from movie_roulette.results import Fallback, RatingPrediction, Recommendations, RecommendedItem
from movie_roulette.taste import disliked_mask

COLD_START = Fallback.COLD_START
WEIGHT_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)
SEARCH_POOL = 100  # weight search: per user, the union of every component's top-100 movies
BASELINE = "baseline"
INTERCEPT = "intercept"
Z_PREFIX = "z:"  # rating-stack feature: a ranking component's per-user z-score
Z_MEMO_SIZE = 300_000  # (component, user) z statistics kept by a fitted hybrid
ACTIVITY = ("user_activity", "movie_activity")  # centred log1p(rating count) meta-features
# fold-in: a disliked movie's similarity scores are subtracted at this weight. Any negative
# weight costs newcomer NDCG@10 on ml-latest-small (benchmarks/fold_in.py, 300 users, 10-rating
# profiles: 0.1752 when low ratings counted as likes; 0.1695 ignoring them; 0.1656 at 0.25;
# 0.1619 at 0.5; 0.1549 at 1.0): 0.25 pushes movies like a disliked one down at the least cost.
DISLIKE_WEIGHT = 0.25


def make_components(cfg: ModelConfig, seed: int) -> dict[str, Recommender]:
    """The default component set, configured from the pipeline config."""
    imp = cfg.implicit
    eases: dict[str, Recommender] = {
        "ease": EASERecommender(
            l2=imp.l2, min_item_ratings=imp.min_item_ratings, min_rating=imp.min_rating
        )
    }
    if imp.liked_min_rating is not None:
        eases["ease_liked"] = EASERecommender(
            l2=imp.l2, min_item_ratings=imp.min_item_ratings, min_rating=imp.liked_min_rating
        )
    if imp.centered_ease:
        eases["ease_centered"] = EASERecommender(
            l2=imp.l2, min_item_ratings=imp.min_item_ratings, weighting="centered"
        )
    return {
        **eases,
        "itemknn": ItemKNNRecommender(
            n_neighbours=cfg.implicit.knn_neighbours,
            min_item_ratings=cfg.implicit.min_item_ratings,
        ),
        "svd": SVDRecommender(
            n_factors=cfg.svd.n_factors,
            n_epochs=cfg.svd.n_epochs,
            lr_all=cfg.svd.lr_all,
            reg_all=cfg.svd.reg_all,
            seed=seed,
        ),
        "content": ContentRecommender(
            like_threshold=cfg.content.like_threshold,
            max_features=cfg.content.max_features,
            n_neighbours=cfg.content.n_neighbours,
        ),
        "popularity": PopularityRecommender(),
    }


def _scaled(name: str, values: np.ndarray) -> np.ndarray:
    """A component's aligned scores on the scale the blend uses (popularity: log counts)."""
    return np.log1p(np.clip(values, 0, None)) if name == "popularity" else values


def _zstats(values: np.ndarray, candidates: np.ndarray) -> tuple[float, float, float] | None:
    """(mean, std, lowest z) of the finite values at candidate positions; None when fewer than
    two are finite or they do not vary."""
    vals = values[candidates]
    vals = vals[np.isfinite(vals)]
    if len(vals) < 2:
        return None
    mean, std = vals.mean(), vals.std()
    if std <= 1e-12:
        return None
    return float(mean), float(std), float((vals.min() - mean) / std)


def _zscore(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """z-score over candidate positions; NaN (unknown to the component) -> lowest candidate z;
    all zeros when `_zstats` gives None."""
    stats = _zstats(values, candidates)
    if stats is None:
        return np.zeros(len(values), np.float64)
    mean, std, floor = stats
    z = (values - mean) / std
    return np.where(np.isfinite(z), z, floor)


def _ndcg_matrix(scores: np.ndarray, relevant: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    """Mean NDCG@k over rows (binary relevance). scores: users x movies, -inf = not a candidate."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    hits = np.take_along_axis(relevant, top, axis=1).astype(np.float64)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ disc
    idcg = np.cumsum(disc)[np.minimum(n_relevant, k) - 1]
    return float(np.mean(dcg / idcg))


def _shortlist(
    Z: np.ndarray, relevant: np.ndarray, excluded: np.ndarray, pool: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep, per user, only the movies in some component's top-`pool` (the weight search then
    scores a few hundred columns instead of the whole catalogue). A movie outside every
    component's top-`pool` is assumed never to reach the blended top-k: an approximation used
    for the search only. Returns (Z, relevant, excluded) over the shortlisted columns; padding
    columns are excluded."""
    n_comp, n_users, n_movies = Z.shape
    if pool >= n_movies:
        return Z, relevant, excluded
    lists = []
    for row in range(n_users):
        masked = np.where(excluded[row][None, :], -np.inf, Z[:, row])
        top = np.argpartition(-masked, pool - 1, axis=1)[:, :pool]
        lists.append(np.unique(top))
    width = max(len(cols) for cols in lists)
    take = np.zeros((n_users, width), np.int64)
    pad = np.ones((n_users, width), bool)
    for row, cols in enumerate(lists):
        take[row, : len(cols)] = cols
        pad[row, : len(cols)] = False
    Zs = np.take_along_axis(Z, take[None, :, :], axis=2)
    rel = np.take_along_axis(relevant, take, axis=1) & ~pad
    exc = np.take_along_axis(excluded, take, axis=1) | pad
    return Zs, rel, exc


class HybridRecommender(Recommender):
    """Weighted blend of component recommenders (see module docstring).

    `components` maps a name ("ease", "itemknn", "svd", "content", "popularity") to a recommender;
    `weights` maps component names to blend weights; `rating_coefs` maps "intercept", "baseline"
    and rating-capable component names to stack coefficients.
    """

    name: ClassVar[str] = "hybrid"
    predicts_ratings: ClassVar[bool] = True
    _params: ClassVar[tuple[str, ...]] = ("weights", "rating_coefs", "diversity", "top_z")

    def __init__(
        self,
        components: Mapping[str, Recommender] | None = None,
        weights: Mapping[str, float] | None = None,
        rating_coefs: Mapping[str, float] | None = None,
        diversity: float = 0.3,
        top_z: Mapping[str, float] | None = None,
        rating_scale: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(rating_scale)
        self.components: dict[str, Recommender] = dict(components or {})
        if weights is None:
            weights = {name: 1.0 for name in self.components}
        unknown = sorted(set(weights) - set(self.components))
        if unknown and self.components:
            raise ValueError(
                f"weights: no component named {unknown}; have {sorted(self.components)}."
            )
        self.weights: dict[str, float] = {k: float(v) for k, v in weights.items()}
        if rating_coefs is None:
            raters = [n for n, c in self.components.items() if c.predicts_ratings]
            rating_coefs = {INTERCEPT: 0.0, **{n: 1.0 / len(raters) for n in raters}}
            if not raters:
                rating_coefs = {INTERCEPT: 0.0, BASELINE: 1.0}
        self.rating_coefs: dict[str, float] = {k: float(v) for k, v in rating_coefs.items()}
        self.diversity = float(diversity)
        self.top_z: dict[str, float] = {k: float(v) for k, v in (top_z or {}).items()}
        self.global_mean = 0.0
        self.bu = np.empty(0)
        self.bi = np.empty(0)
        self.genres = np.empty(0, dtype="<U1")
        self.fit_info: dict[str, Any] = {}
        self.progress: Progress | None = None  # phase lines while training (train_hybrid)
        self._pos: dict[str, np.ndarray] = {}
        self._align: dict[str, tuple[np.ndarray, np.ndarray, bool]] = {}
        self._genre_sets: list[frozenset[str]] = []
        self._user_activity = np.empty(0)
        self._movie_activity = np.empty(0)

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params["weights"] = dict(self.weights)
        params["rating_coefs"] = dict(self.rating_coefs)
        params["top_z"] = dict(self.top_z)
        return params

    # ------------------------------------------------------------------ fitting
    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        if not self.components:
            raise ValueError("components: the hybrid needs at least one component model.")
        frame = pd.DataFrame(
            {
                C.USER_ID: self.user_ids[data.user_idx],
                C.MOVIE_ID: self.movie_ids[data.movie_idx],
                C.RATING: data.rating,
            }
        )
        timings = {}
        for name, comp in self.components.items():
            start = time.perf_counter()
            comp.rating_scale = comp.rating_scale or self.rating_scale
            with self.progress.phase(f"fitting {name}") if self.progress else nullcontext():
                comp.fit(frame, catalogue)
            timings[name] = round(time.perf_counter() - start, 3)
        self.fit_info["component_fit_seconds"] = timings
        self.global_mean, self.bu, self.bi = fit_baselines(data)
        self.genres = self._genres_from(catalogue)
        self._prepare()

    def _genres_from(self, catalogue: pd.DataFrame | None) -> np.ndarray:
        if catalogue is None or C.GENRES not in catalogue.columns:
            return np.array([""] * self.n_movies)
        series = catalogue.drop_duplicates(C.MOVIE_ID).set_index(C.MOVIE_ID)[C.GENRES]
        values = series.reindex(self.movie_ids).fillna("").astype(str).tolist()
        return np.array(values if values else [""])[: self.n_movies]

    def _prepare(self) -> None:
        self._pos = {n: c.movie_positions(self.movie_ids) for n, c in self.components.items()}
        # serve-fast: (blend positions a component knows, its positions of them, knows all)
        self._align = {
            n: (np.flatnonzero(pos >= 0), pos[pos >= 0], bool((pos >= 0).all()))
            for n, pos in self._pos.items()
        }
        self._z_memo: dict[tuple[str, int], tuple[float, float, float] | None] = {}
        self._genre_sets = [frozenset(g.lower() for g in split_genres(s)) for s in self.genres]
        # centred on the data the model is fitted on now, so a refit on more data keeps the scale
        user_log = np.log1p(np.diff(self._ui_indptr).astype(np.float64))
        movie_log = np.log1p(np.bincount(self._ui_indices, minlength=self.n_movies).astype(float))
        self._user_activity = user_log - (user_log.mean() if len(user_log) else 0.0)
        self._movie_activity = movie_log - (movie_log.mean() if len(movie_log) else 0.0)

    def refit(
        self, ratings: pd.DataFrame, catalogue: pd.DataFrame | None = None
    ) -> HybridRecommender:
        """Refit every component on new data, keeping the blend weights and rating stack."""
        weights, coefs, info = dict(self.weights), dict(self.rating_coefs), dict(self.fit_info)
        top_z = dict(self.top_z)
        self.fit(ratings, catalogue)
        self.weights, self.rating_coefs, self.top_z = weights, coefs, top_z
        self.fit_info = {
            **info,
            "refit_component_fit_seconds": self.fit_info["component_fit_seconds"],
        }
        return self

    # ------------------------------------------------------------------ component scores
    def _aligned(self, name: str, values: np.ndarray) -> np.ndarray:
        # serve-fast: where each component's movies sit is worked out once (`_prepare`)
        known, source, everywhere = self._align[name]
        if everywhere:  # the component knows every movie of the blend
            out = np.asarray(values)[source].astype(np.float64)
        else:
            out = np.full(self.n_movies, np.nan)
            out[known] = np.asarray(values)[source]
        return _scaled(name, out)

    def _ranking(self, name: str, ranking: bool) -> bool:
        """False for a component that a ranking request would score for nothing (weight 0)."""
        return not ranking or self.weights.get(name, 0.0) != 0.0

    def _raw_component_scores(self, user_id: int, ranking: bool = False) -> dict[str, np.ndarray]:
        """Each component's scores for a known user; `ranking`: only the weighted ones."""
        out = {}
        for name, comp in self.components.items():
            if not self._ranking(name, ranking) or not comp.knows_user(user_id):
                continue
            out[name] = self._aligned(name, comp._score_all(comp.user_index(user_id)))
        return out

    def _profile_component_scores(
        self, ratings: Mapping[int, float], ranking: bool = False
    ) -> dict[str, np.ndarray]:
        """Each component's scores for a newcomer's ratings. Disliked ratings (`taste`) are
        negative evidence: a component that reads every rating as "watched" (EASE, item-kNN,
        content) scores the rest of the profile minus `DISLIKE_WEIGHT` times what it scores for
        the disliked movies alone, so movies like them go down. SVD's fold-in fits the ratings'
        values itself; popularity and review sentiment do not depend on the profile."""
        top = self.rating_scale[1] if self.rating_scale else 5.0
        out = {}
        for name, comp in self.components.items():
            if not self._ranking(name, ranking):
                continue
            known = {m: r for m, r in ratings.items() if comp.movie_positions([m])[0] >= 0}
            if not known and name != "popularity":
                continue
            try:
                if isinstance(
                    comp, SVDRecommender | PopularityRecommender | ReviewSentimentRecommender
                ):
                    out[name] = self._aligned(name, comp.score_ratings(known))
                    continue
                values = np.fromiter(known.values(), np.float64, len(known))
                bad = disliked_mask(values)
                ids = list(known)
                keep = {m: known[m] for m, b in zip(ids, bad, strict=True) if not b}
                scores = self._aligned(name, comp.score_ratings(keep))
                if bad.any():
                    disliked = {m: top for m, b in zip(ids, bad, strict=True) if b}
                    scores = scores - DISLIKE_WEIGHT * self._aligned(
                        name, comp.score_ratings(disliked)
                    )
                out[name] = scores
            except NotImplementedError:
                continue
        return out

    def _blend(
        self, raw: Mapping[str, np.ndarray], candidates: np.ndarray, fold_in: bool = False
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        z = {n: _zscore(v, candidates) for n, v in raw.items() if self.weights.get(n, 0.0) != 0.0}
        if fold_in:
            z = {n: self._calibrate(n, v, candidates) for n, v in z.items()}
        total = np.zeros(self.n_movies)
        for name, values in z.items():
            total += self.weights[name] * values
        return total, z

    def _calibrate(self, name: str, z: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Scale z down so the top candidate's z is at most the validation users' median."""
        ref = self.top_z.get(name)
        if ref is None or not candidates.any():
            return z
        top = float(z[candidates].max())
        return z * (ref / top) if top > ref > 0 else z

    def _score_all(self, user_idx: int) -> np.ndarray:
        candidates = np.ones(self.n_movies, bool)
        candidates[self.seen(user_idx)[0]] = False
        raw = self._raw_component_scores(int(self.user_ids[user_idx]), ranking=True)
        return self._blend(raw, candidates)[0]

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        candidates = np.ones(self.n_movies, bool)
        candidates[movie_idx] = False
        profile = dict(
            zip(self.movie_ids[movie_idx].tolist(), np.asarray(ratings).tolist(), strict=True)
        )
        return self._blend(self._profile_component_scores(profile, True), candidates, True)[0]

    # ------------------------------------------------------------------ recommendations
    def genre_mask(self, genre: str | None) -> np.ndarray:
        if genre is None:
            return np.ones(self.n_movies, bool)
        wanted = genre.strip().lower()
        mask = np.array([wanted in g for g in self._genre_sets], bool)
        if not mask.any():
            known = sorted({g for s in self.genres for g in split_genres(s)})
            raise UnknownGenreError(f"genre: {genre!r} matches no movie; known genres are {known}.")
        return mask

    def _items(
        self, total: np.ndarray, z: Mapping[str, np.ndarray], allowed: np.ndarray, k: int
    ) -> list[RecommendedItem]:
        scores = np.where(allowed, total, -np.inf)
        top = top_k_indices(scores, k)
        return [
            RecommendedItem(
                movie_id=int(self.movie_ids[j]),
                score=float(scores[j]),
                components={n: float(v[j]) for n, v in z.items()},
            )
            for j in top
        ]

    def recommend_items(
        self, user_id: int, k: int = 10, exclude_seen: bool = True, genre: str | None = None
    ) -> Recommendations:
        """Top-k for a user; an unknown user gets the cold-start list (see `fallback`)."""
        self._check_fitted()
        allowed = self.genre_mask(genre)
        if not self.knows_user(user_id):
            return Recommendations(self._cold_start(k, allowed), fallback=COLD_START)
        uidx = self.user_index(user_id)
        candidates = np.ones(self.n_movies, bool)
        candidates[self.seen(uidx)[0]] = False
        total, z = self._blend(self._raw_component_scores(user_id, ranking=True), candidates)
        if exclude_seen:
            allowed = allowed & candidates
        return Recommendations(self._items(total, z, allowed, k), fallback=None)

    def similar_movies(self, movie_id: int, k: int = 10) -> list[tuple[int, float]]:
        """Movies similar to one movie: what someone who loved it would be recommended
        (item-item co-occurrence + content, blended like any user); content cosine alone
        for a movie that no component saw rated. Raises `UnknownMovieError` otherwise."""
        self._check_fitted()
        if self.movie_positions([movie_id])[0] >= 0:
            top = self.rating_scale[1] if self.rating_scale else 5.0
            recs = self.recommend_from_ratings({int(movie_id): top}, k=k)
            if recs.fallback != COLD_START:
                return [(it.movie_id, it.score) for it in recs.items]
        content = self.components.get("content")
        if content is None:
            raise UnknownMovieError(f"movie {movie_id} is not known to the model")
        row = int(content.movie_index([movie_id])[0])  # raises UnknownMovieError
        sims = np.asarray((content.item_matrix @ content.item_matrix[row].T).todense()).ravel()
        sims[row] = -np.inf
        order = np.lexsort((content.movie_ids, -sims))[:k]
        return [(int(content.movie_ids[j]), float(sims[j])) for j in order if sims[j] > -np.inf]

    def recommend_from_ratings(
        self, ratings: Mapping[int, float], k: int = 10, genre: str | None = None
    ) -> Recommendations:
        """Top-k for a newcomer's few ratings {movie_id: rating}, folded in without refitting.

        The rated movies are excluded. `fallback` is `Fallback.FOLD_IN` (`used`: the components
        that scored the ratings), or `Fallback.COLD_START` when none of the rated movies is known.
        """
        self._check_fitted()
        allowed = self.genre_mask(genre)
        rated = self.movie_positions(np.fromiter(ratings.keys(), np.int64, len(ratings)))
        allowed = allowed.copy()
        allowed[rated[rated >= 0]] = False
        known = {m: float(r) for m, r in ratings.items() if self.movie_positions([m])[0] >= 0}
        if not known:
            return Recommendations(self._cold_start(k, allowed), fallback=COLD_START)
        candidates = np.ones(self.n_movies, bool)
        candidates[rated[rated >= 0]] = False
        raw = self._profile_component_scores(known, ranking=True)
        total, z = self._blend(raw, candidates, fold_in=True)
        used = [n for n in z if n != "popularity"] or list(z)
        return Recommendations(
            self._items(total, z, allowed, k), fallback=Fallback.FOLD_IN, used=tuple(used)
        )

    def cold_start_scores(self) -> np.ndarray:
        """Popularity (log count) mixed with Bayesian-shrunk mean rating, both z-scored."""
        pop = self.components.get("popularity")
        if isinstance(pop, PopularityRecommender):
            counts = self._aligned("popularity", pop.counts)
            quality = np.full(self.n_movies, np.nan)
            ok = self._pos["popularity"] >= 0
            quality[ok] = pop.shrunk_mean[self._pos["popularity"][ok]]
        else:
            counts = np.log1p(np.bincount(self._ui_indices, minlength=self.n_movies).astype(float))
            quality = self.global_mean + self.bi
        everything = np.ones(self.n_movies, bool)
        return 0.5 * _zscore(counts, everything) + 0.5 * _zscore(quality, everything)

    def _cold_start(self, k: int, allowed: np.ndarray) -> list[RecommendedItem]:
        """Greedy genre-diversified pick from the best cold-start scores."""
        base = np.where(allowed, self.cold_start_scores(), -np.inf)
        pool = top_k_indices(base, max(20 * k, 50))
        chosen: list[int] = []
        genre_counts: dict[str, int] = {}
        remaining = list(pool)
        while remaining and len(chosen) < k:
            best, best_value = None, -np.inf
            for j in remaining:
                gs = self._genre_sets[j]
                penalty = sum(genre_counts.get(g, 0) for g in gs) / max(len(gs), 1)
                value = base[j] - self.diversity * penalty
                if value > best_value:
                    best, best_value = j, value
            assert best is not None
            remaining.remove(best)
            chosen.append(best)
            for g in self._genre_sets[best]:
                genre_counts[g] = genre_counts.get(g, 0) + 1
        return [
            RecommendedItem(int(self.movie_ids[j]), float(base[j]), {"cold_start": float(base[j])})
            for j in chosen
        ]

    # ------------------------------------------------------------------ ratings
    def _rating_features(self, user_id: int, movie_ids: np.ndarray) -> dict[str, np.ndarray]:
        """Per-feature values for the rating stack (see the module docstring); components that
        cannot predict give the baseline, z-scores of unknown movies are 0."""
        pos = self.movie_positions(movie_ids)
        known_user = self.knows_user(user_id)
        uidx = self.user_index(user_id) if known_user else -1
        bu = self.bu[uidx] if known_user else 0.0
        bi = np.where(pos >= 0, self.bi[np.maximum(pos, 0)], 0.0)
        baseline = self.global_mean + bu + bi
        feats = {BASELINE: baseline}
        feats["user_activity"] = np.full(len(pos), self._user_activity[uidx] if known_user else 0.0)
        feats["movie_activity"] = np.where(pos >= 0, self._movie_activity[np.maximum(pos, 0)], 0.0)
        wanted = self._stack_parts()
        for name in sorted(wanted):
            if name in feats or name == INTERCEPT:
                continue
            if name.startswith(Z_PREFIX):
                feats[name] = self._z_feature(name[len(Z_PREFIX) :], user_id, pos)
                continue
            comp = self.components[name]
            values = baseline.copy()
            if comp.knows_user(user_id):
                cpos = comp.movie_positions(movie_ids)
                ok = cpos >= 0
                if ok.any():
                    values[ok] = comp.clip(
                        comp._predict_ratings(comp.user_index(user_id), cpos[ok])
                    )
            feats[name] = values
        return feats

    def _z_feature(self, name: str, user_id: int, pos: np.ndarray) -> np.ndarray:
        """A ranking component's z-score (over the user's candidate movies) at `pos`.

        The user's mean, spread and floor over all candidates are computed once per (component,
        user) and kept (`_z_stats`); then only the movies at `pos` are scored. A single `predict`
        scored all ~10k movies with each z component before (3 ms of its 4 on ml-latest-small).
        """
        out = np.zeros(len(pos))
        comp = self.components[name]
        if not comp.knows_user(user_id) or not self.knows_user(user_id):
            return out
        stats = self._z_stats(name, user_id)
        ok = pos >= 0
        if stats is None or not ok.any():
            return out
        mean, std, floor = stats
        cpos = self._pos[name][pos[ok]]
        known = cpos >= 0
        raw = np.full(len(cpos), np.nan)
        if known.any():
            raw[known] = comp._score_at(comp.user_index(user_id), cpos[known])
        z = (_scaled(name, raw) - mean) / std
        out[ok] = np.where(np.isfinite(z), z, floor)
        return out

    def _z_stats(self, name: str, user_id: int) -> tuple[float, float, float] | None:
        """`_zstats` of a component's scores over the user's unseen movies, kept per (component,
        user): a fitted model's scores never change; `_prepare` empties the memo on a (re)fit."""
        key = (name, user_id)
        if key in self._z_memo:
            return self._z_memo[key]
        comp = self.components[name]
        candidates = np.ones(self.n_movies, bool)
        candidates[self.seen(self.user_index(user_id))[0]] = False
        stats = _zstats(self._aligned(name, comp._score_all(comp.user_index(user_id))), candidates)
        if len(self._z_memo) >= Z_MEMO_SIZE:  # oldest first out; ~100 bytes an entry
            del self._z_memo[next(iter(self._z_memo))]
        self._z_memo[key] = stats
        return stats

    def prepare_user(self, user_id: int) -> None:
        """Compute what `predict_rating` keeps per user (the z statistics), e.g. at start-up.
        Like the rest of the model, not for concurrent use: the server serializes computations."""
        if not self.knows_user(user_id):
            return
        for part in sorted(self._stack_parts()):
            name = part[len(Z_PREFIX) :]
            if part.startswith(Z_PREFIX) and self.components[name].knows_user(user_id):
                self._z_stats(name, user_id)

    def _stack_parts(self) -> set[str]:
        """The features the rating stack uses ("svd*user_activity" uses "svd" and
        "user_activity")."""
        return {part for key in self.rating_coefs for part in key.split("*")}

    def _stack(self, feats: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        pred = np.full(n, self.rating_coefs.get(INTERCEPT, 0.0))
        for key in sorted(self.rating_coefs):  # fixed order: identical sums after a reload
            if key == INTERCEPT:
                continue
            value = np.ones(n)
            for part in key.split("*"):
                value = value * feats[part]
            pred += self.rating_coefs[key] * value
        return pred

    def predict_rating(self, user_id: int, movie_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Stacked prediction, clipped. Unknown users/movies fall back to baselines (which one:
        `predict`)."""
        self._check_fitted()
        ids = np.asarray(list(movie_ids) if not isinstance(movie_ids, np.ndarray) else movie_ids)
        ids = ids.astype(np.int64).reshape(-1)
        pos = self.movie_positions(ids)
        if not self.knows_user(user_id):
            bi = np.where(pos >= 0, self.bi[np.maximum(pos, 0)], 0.0)
            return self.clip(self.global_mean + bi)
        feats = self._rating_features(user_id, ids)
        pred = self._stack(feats, len(ids))
        unknown_movie = pos < 0
        if unknown_movie.any():
            pred[unknown_movie] = feats[BASELINE][unknown_movie]
        return self.clip(pred)

    def predict(self, user_id: int, movie_id: int) -> RatingPrediction:
        """One rating with the fallback `predict_rating` used for it: `UNKNOWN_USER` (global mean
        plus the movie's bias), `UNKNOWN_MOVIE` (the user's baseline) or None (the stack)."""
        value = float(self.predict_rating(user_id, np.array([movie_id]))[0])
        if not self.knows_user(user_id):
            fallback: Fallback | None = Fallback.UNKNOWN_USER
        elif self.movie_positions([movie_id])[0] < 0:
            fallback = Fallback.UNKNOWN_MOVIE
        else:
            fallback = None
        return RatingPrediction(int(user_id), int(movie_id), value, fallback)

    def _predict_ratings(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        return self.predict_rating(int(self.user_ids[user_idx]), self.movie_ids[movie_idx])

    # ------------------------------------------------------------------ tuning
    def tune(
        self,
        valid: pd.DataFrame,
        k: int = 10,
        threshold: float = 4.0,
        max_users: int | None = None,
        ranking: bool = True,
    ) -> dict[str, Any]:
        """Choose blend weights (NDCG@k) and the rating stack (least squares) on `valid`.

        `ranking=False` fits the rating stack only (the weights stay as they are); the rating
        stack does not depend on the blend weights."""
        self._check_fitted()
        valid = check_ratings(valid)
        info: dict[str, Any] = {}
        if ranking:
            start = time.perf_counter()
            info.update(self._tune_weights(valid, k, threshold, max_users))
            info["weight_search_seconds"] = round(time.perf_counter() - start, 3)
        start = time.perf_counter()
        info.update(self._fit_rating_stack(valid))
        info["rating_stack_seconds"] = round(time.perf_counter() - start, 3)
        self.fit_info.update(info)
        return info

    def _tune_weights(
        self, valid: pd.DataFrame, k: int, threshold: float, max_users: int | None
    ) -> dict[str, Any]:
        rel = valid[valid[C.RATING] >= threshold]
        rel = rel[
            rel[C.USER_ID].map(self.knows_user) & (self.movie_positions(rel[C.MOVIE_ID]) >= 0)
        ]
        users = np.unique(rel[C.USER_ID].to_numpy())
        if max_users is not None and len(users) > max_users:
            users = np.random.default_rng(0).choice(users, max_users, replace=False)
            users.sort()
        if len(users) == 0:
            return {"valid_users": 0}
        names = list(self.components)
        Z = np.zeros((len(names), len(users), self.n_movies), np.float32)
        relevant = np.zeros((len(users), self.n_movies), bool)
        seen_mask = np.zeros((len(users), self.n_movies), bool)
        by_user = rel.groupby(C.USER_ID)[C.MOVIE_ID].apply(np.asarray)
        for row, uid in enumerate(users):
            uidx = self.user_index(uid)
            candidates = np.ones(self.n_movies, bool)
            candidates[self.seen(uidx)[0]] = False
            seen_mask[row] = ~candidates
            relevant[row, self.movie_positions(by_user[uid])] = True
            raw = self._raw_component_scores(int(uid))
            for c, name in enumerate(names):
                if name in raw:
                    Z[c, row] = _zscore(raw[name], candidates)
        relevant &= ~seen_mask
        n_rel = relevant.sum(axis=1)
        keep = n_rel > 0
        Z, relevant, seen_mask, n_rel = Z[:, keep], relevant[keep], seen_mask[keep], n_rel[keep]
        self.top_z = {
            name: float(np.median(np.where(seen_mask, -np.inf, Z[c]).max(axis=1)))
            for c, name in enumerate(names)
        }
        Z, relevant, seen_mask = _shortlist(Z, relevant, seen_mask, SEARCH_POOL)

        def evaluate(w: np.ndarray) -> float:
            s = np.tensordot(w.astype(np.float32), Z, axes=1)
            s[seen_mask] = -np.inf
            return _ndcg_matrix(s, relevant, n_rel, k)

        single = {}
        for c, name in enumerate(names):
            w = np.zeros(len(names))
            w[c] = 1.0
            single[name] = evaluate(w)
        best_name = max(single, key=lambda n: single[n])
        w = np.zeros(len(names))
        w[names.index(best_name)] = 1.0
        best = single[best_name]
        for _ in range(3):
            improved = False
            for c in range(len(names)):
                for value in WEIGHT_GRID:
                    if value == w[c]:
                        continue
                    trial = w.copy()
                    trial[c] = value
                    if not trial.any():
                        continue
                    score = evaluate(trial)
                    if score > best + 1e-6:
                        best, w, improved = score, trial, True
            if not improved:
                break
        self.weights = {name: float(w[c]) for c, name in enumerate(names)}
        return {
            "valid_users": int(keep.sum()),
            f"valid_ndcg@{k}": best,
            **{f"valid_ndcg@{k}_{n}": v for n, v in single.items()},
            "weights": dict(self.weights),
            "top_z": dict(self.top_z),
        }

    def _fit_rating_stack(self, valid: pd.DataFrame) -> dict[str, Any]:
        raters = [n for n, c in self.components.items() if c.predicts_ratings]
        rankers = [
            Z_PREFIX + n
            for n, c in self.components.items()
            if not c.predicts_ratings and n != "popularity"
        ]
        base = [BASELINE, *raters, *rankers]
        names = [*base, *ACTIVITY, *(f"{b}*{a}" for a in ACTIVITY for b in base)]
        self.rating_coefs = {INTERCEPT: 0.0, **{n: 0.0 for n in names}}  # feature set for lookup
        rows, targets = [], []
        for uid, group in valid.groupby(C.USER_ID):
            if not self.knows_user(int(uid)):
                continue
            ids = group[C.MOVIE_ID].to_numpy()
            ok = self.movie_positions(ids) >= 0
            if not ok.any():
                continue
            feats = self._rating_features(int(uid), ids[ok])
            for key in names:
                if "*" in key:
                    left, right = key.split("*")
                    feats[key] = feats[left] * feats[right]
            rows.append(np.column_stack([feats[n] for n in names]))
            targets.append(group[C.RATING].to_numpy()[ok])
        if not rows:
            self.rating_coefs = {INTERCEPT: 0.0, BASELINE: 1.0}
            return {"rating_stack": "baseline only (no validation ratings)"}
        X = np.vstack(rows)
        y = np.concatenate(targets)
        design = np.column_stack([np.ones(len(X)), X])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        self.rating_coefs = {INTERCEPT: float(coef[0])}
        self.rating_coefs.update({n: float(c) for n, c in zip(names, coef[1:], strict=True)})
        fitted = np.clip(design @ coef, *(self.rating_scale or (-np.inf, np.inf)))
        per_feature = {
            f"valid_rmse_{n}": float(
                np.sqrt(np.mean((np.clip(X[:, j], *self.rating_scale) - y) ** 2))
            )
            for j, n in enumerate(names)
            if n in (BASELINE, *raters)
        }
        return {
            "valid_rmse_stack": float(np.sqrt(np.mean((fitted - y) ** 2))),
            **per_feature,
            "rating_coefs": dict(self.rating_coefs),
        }

    # ------------------------------------------------------------------ state
    def _get_extra_meta(self) -> dict[str, Any]:
        comps = {}
        for name, comp in self.components.items():
            meta, _ = comp.get_state()
            comps[name] = meta
        return {
            "global_mean": self.global_mean,
            "components": comps,
            "component_order": list(self.components),
            "fit_info": self.fit_info,
        }

    def _get_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"bu": self.bu, "bi": self.bi, "genres": np.asarray(self.genres, dtype=str)}
        for name, comp in self.components.items():
            _, comp_arrays = comp.get_state()
            arrays.update({f"components/{name}/{key}": value for key, value in comp_arrays.items()})
        return arrays

    @classmethod
    def from_state(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> HybridRecommender:
        components = {}
        comp_metas = meta["extra"]["components"]
        for name in meta["extra"].get("component_order", list(comp_metas)):
            comp_meta = comp_metas[name]
            prefix = f"components/{name}/"
            comp_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            components[name] = model_from_state(comp_meta, comp_arrays)
        params = dict(meta["params"])
        scale = params.pop("rating_scale", None)
        if meta.get("class") != cls.__name__:
            raise ValueError(f"state is for {meta.get('class')!r}, not {cls.__name__}.")
        obj = cls(components=components, **params, rating_scale=tuple(scale) if scale else None)
        obj.user_ids = np.asarray(arrays["user_ids"], np.int64)
        obj.movie_ids = np.asarray(arrays["movie_ids"], np.int64)
        obj._ui_indptr = np.asarray(arrays["ui_indptr"], np.int64)
        obj._ui_indices = np.asarray(arrays["ui_indices"], np.int32)
        obj._ui_ratings = np.asarray(arrays["ui_ratings"], np.float32)
        extra = meta["extra"]
        obj.global_mean = float(extra["global_mean"])
        obj.fit_info = dict(extra.get("fit_info", {}))
        obj.bu = np.asarray(arrays["bu"], np.float64)
        obj.bi = np.asarray(arrays["bi"], np.float64)
        obj.genres = np.asarray(arrays["genres"], dtype=str)
        obj._prepare()
        obj._fitted = True
        return obj


def train_hybrid(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    catalogue: pd.DataFrame | None,
    cfg: ModelConfig,
    seed: int,
    k: int = 10,
    threshold: float = 4.0,
    use_sentiment: bool | None = None,
    sentiment_prior: float = 5.0,
    tune_ranking: bool = True,
) -> HybridRecommender:
    """Fit the components on train, tune blend weights and rating stack on valid, then (if
    cfg.refit_on_train_and_valid) refit the components on train + valid keeping the weights.
    `tune_ranking=False` skips the blend-weight search (for rating-only evaluations).

    `use_sentiment` adds the review-sentiment component (None: when the catalogue carries
    scored reviews; see models.review_sentiment). Timings and validation scores are in
    `model.fit_info`.
    """
    start = time.perf_counter()
    components = add_sentiment_component(
        make_components(cfg, seed), catalogue, use_sentiment, sentiment_prior
    )
    model = HybridRecommender(components)
    model.progress = progress = Progress("train_hybrid")
    model.fit(train, catalogue)
    if len(valid):
        with progress.phase("tuning the blend on the validation split"):
            model.tune(valid, k=k, threshold=threshold, ranking=tune_ranking)
    if cfg.refit_on_train_and_valid and len(valid):
        cols = [C.USER_ID, C.MOVIE_ID, C.RATING]
        with progress.phase("refitting every component on train + valid"):
            model.refit(pd.concat([train[cols], valid[cols]], ignore_index=True), catalogue)
    model.progress = None
    model.fit_info["total_fit_seconds"] = round(time.perf_counter() - start, 3)
    progress.done(f"{len(components)} components")
    return model


__all__ = [
    "COLD_START",
    "HybridRecommender",
    "RecommendedItem",
    "Recommendations",
    "UnknownUserError",
    "make_components",
    "train_hybrid",
]
