"""HybridRecommender: a tuned blend of component models, with cold-start and fold-in fallbacks.

Ranking: every component scores the movies (the public component API: `score_users` for fitted
users, `score_rows` for a newcomer's profile); each component's scores are read on its
`score_scale` and z-scored per user over the candidate movies (`blend`); the ranking score is
the weighted sum (a served request: `fused`, the same sum without materialising each z).
Weights are chosen on a sample of validation users by coordinate search maximising
`evaluation.metrics` NDCG@k on candidate sets (`tuning`). A folded-in profile of a few ratings
gives much more peaked score distributions than a full user history (one rated movie: EASE's top
z ~18), so for fold-in each component's z-scores are scaled down until its top candidate's z is
no larger than the median top z of the validation users (`top_z`).

Ratings: the linear stack of `rating_stack`, clipped to the rating scale. A component that does
not know the user or movie contributes the baseline (or z = 0) instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.models.base import (
    Interactions,
    Recommender,
    check_ratings,
    fit_baselines,
    model_from_state,
    top_k_indices,
)
from movie_roulette.models.hybrid import (
    blend,
    cold_start,
    fold_in,
    fused,
    pool,
    rating_stack,
    tuning,
)
from movie_roulette.models.hybrid.rating_stack import BASELINE, INTERCEPT, Z_PREFIX
from movie_roulette.progress import Progress
from movie_roulette.ratings_source import Part, RatingsSource, as_source, as_sources
from movie_roulette.results import Fallback, RatingPrediction, Recommendations, RecommendedItem

log = logging.getLogger(__name__)

Z_MEMO_SIZE = 300_000  # (component, user) z statistics kept by a fitted hybrid


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, np.int64)


class HybridRecommender(Recommender):
    """Weighted blend of component recommenders (see module docstring).

    `components` maps a name ("ease", "itemknn", "svd", "content", "popularity", "als", ...) to a
    recommender; `weights` maps component names to blend weights; `rating_coefs` maps
    "intercept", "baseline" and stack features to coefficients.
    """

    name: ClassVar[str] = "hybrid"
    predicts_ratings: ClassVar[bool] = True
    _params: ClassVar[tuple[str, ...]] = (
        "weights", "rating_coefs", "diversity", "top_z", "serve_pool",
    )  # fmt: skip

    def __init__(
        self,
        components: Mapping[str, Recommender] | None = None,
        weights: Mapping[str, float] | None = None,
        rating_coefs: Mapping[str, float] | None = None,
        diversity: float = 0.3,
        top_z: Mapping[str, float] | None = None,
        rating_scale: tuple[float, float] | None = None,
        serve_pool: int | None = None,
    ) -> None:
        super().__init__(rating_scale)
        if serve_pool is not None and int(serve_pool) < 1:
            raise ValueError(f"serve_pool: at least 1 movie, or None for all; got {serve_pool}.")
        # known users' recommendations scored over the N most-rated movies (models/hybrid/pool.py)
        self.serve_pool = None if serve_pool is None else int(serve_pool)
        self._pool: pool.HeadPool | None = None
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
        self._alignments: dict[str, fused.Alignment] = {}
        self._genre_masks: dict[str, np.ndarray] = {}
        self._fixed_scores: dict[str, np.ndarray] = {}
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
        ui = (self._ui_indptr, self._ui_indices, self._ui_ratings)
        timings = {}
        for name, comp in self.components.items():
            start = time.perf_counter()
            comp.rating_scale = comp.rating_scale or self.rating_scale
            with self.progress.phase(f"fitting {name}") if self.progress else nullcontext():
                # the blend's indices: shared as they are by a component that keeps every row
                comp.fit_indexed(data, self.user_ids, self.movie_ids, ui, catalogue)
            timings[name] = round(time.perf_counter() - start, 3)
            log.debug("fitted component %s in %.1f s", name, timings[name])
        self.fit_info["component_fit_seconds"] = timings
        # one line per fit, whatever the timings (a line per component, deduplicated by the
        # console when two read alike, made the output's length depend on the machine's load)
        log.info(
            "fitted %d components in %.1f s: %s",
            len(timings),
            sum(timings.values()),
            ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()),
        )
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
        # per request: where each component's movies sit among the blend's, worked out once
        self._alignments = {
            n: fused.Alignment.of(pos, self.components[n].score_scale)
            for n, pos in self._pos.items()
        }
        self._genre_masks = {}
        self._fixed_scores = {}
        self._pool = None
        self._z_memo: dict[tuple[str, int], tuple[float, float, float] | None] = {}
        self._genre_sets = cold_start.genre_sets(self.genres)
        # centred on the data the model is fitted on now, so a refit on more data keeps the scale
        user_log = np.log1p(np.diff(self._ui_indptr).astype(np.float64))
        movie_log = np.log1p(np.bincount(self._ui_indices, minlength=self.n_movies).astype(float))
        self._user_activity = user_log - (user_log.mean() if len(user_log) else 0.0)
        self._movie_activity = movie_log - (movie_log.mean() if len(movie_log) else 0.0)

    def refit(
        self,
        ratings: Part | Sequence[Part],
        catalogue: pd.DataFrame | None = None,
    ) -> HybridRecommender:
        """Refit every component on new data, keeping the blend weights and rating stack.
        Several parts (frames, or sources such as Parquet files read a batch at a time) are
        fitted as their concatenation, without building it (`fit_frames`)."""
        weights, coefs, info = dict(self.weights), dict(self.rating_coefs), dict(self.fit_info)
        top_z = dict(self.top_z)
        self.fit_frames(as_sources(ratings), catalogue)
        self.weights, self.rating_coefs, self.top_z = weights, coefs, top_z
        self.fit_info = {
            **info,
            "refit_component_fit_seconds": self.fit_info["component_fit_seconds"],
        }
        return self

    # ------------------------------------------------------------------ component scores
    def _aligned(self, name: str, values: np.ndarray) -> np.ndarray:
        """A component's scores re-indexed to the hybrid's movies (NaN where it does not know
        one), on the blend's scale; one row (1-D) or one row per user (2-D)."""
        values = np.asarray(values)
        if values.ndim != 1:
            return blend.aligned(values, self._pos[name], self.components[name].score_scale)
        al = self._alignments[name]
        if al.identity:
            return al.values(values)
        out = np.full(self.n_movies, np.nan)
        out[al.known] = al.values(values)
        return out

    def _ranking(self, name: str, ranking: bool) -> bool:
        """False for a component that a ranking request would score for nothing (weight 0)."""
        return not ranking or self.weights.get(name, 0.0) != 0.0

    def _own_scores(
        self, user_id: int, ranking: bool = False, skip: set[str] | frozenset[str] = frozenset()
    ) -> dict[str, np.ndarray]:
        """Each component's scores for a known user over its own movies; `ranking`: only the
        weighted ones; none for the components in `skip`."""
        out = {}
        for name, comp in self.components.items():
            if name in skip or not self._ranking(name, ranking) or not comp.knows_user(user_id):
                continue
            if not comp.personal and name in self._fixed_scores:
                out[name] = self._fixed_scores[name]  # the same for everyone: scored once
                continue
            out[name] = comp.score_users([comp.user_index(user_id)])[0]
            if not comp.personal:
                out[name].flags.writeable = False
                self._fixed_scores[name] = out[name]
                self._alignments[name].remember(out[name])
        return out

    def _profile_own_scores(
        self, ratings: Mapping[int, float], ranking: bool = False
    ) -> dict[str, np.ndarray]:
        """Each component's scores for a newcomer's ratings (`fold_in`) over its own movies;
        `ranking`: only the weighted components."""
        top = self.rating_scale[1] if self.rating_scale else 5.0
        comps = {n: c for n, c in self.components.items() if self._ranking(n, ranking)}
        return fold_in.profile_scores(comps, ratings, top)

    def _fused(
        self, own: Mapping[str, np.ndarray], excluded: np.ndarray, fold_in: bool = False
    ) -> fused.Blend:
        """The blend of one request: z-scored over every movie but `excluded` (`fused`)."""
        return fused.fused_blend(
            dict(own),
            self.weights,
            self._alignments,
            self.n_movies,
            np.asarray(excluded, np.int64),
            self.top_z if fold_in else None,
        )

    def _score_all(self, user_idx: int) -> np.ndarray:
        own = self._own_scores(int(self.user_ids[user_idx]), ranking=True)
        return self._fused(own, self.seen(user_idx)[0]).scores()

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        profile = dict(
            zip(self.movie_ids[movie_idx].tolist(), np.asarray(ratings).tolist(), strict=True)
        )
        own = self._profile_own_scores(profile, True)
        return self._fused(own, np.unique(movie_idx), fold_in=True).scores()

    def _z_rows(self, user_ids: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """For a batch of fitted users: each component's z-scores over the hybrid's movies (users
        x movies; zeros for users a component does not know) and the candidate mask (unseen)."""
        uidx = np.array([self.user_index(int(u)) for u in user_ids], np.int64)
        candidates = np.ones((len(uidx), self.n_movies), bool)
        for r, u in enumerate(uidx):
            candidates[r, self.seen(int(u))[0]] = False
        out = {}
        for name, comp in self.components.items():
            z = np.zeros((len(uidx), self.n_movies))
            known = [r for r, u in enumerate(user_ids) if comp.knows_user(int(u))]
            if known:
                cu = [comp.user_index(int(user_ids[r])) for r in known]
                scores = self._aligned(name, comp.score_users(np.asarray(cu, np.int64)))
                for row, r in enumerate(known):
                    z[r] = blend.zscore(scores[row], candidates[r])
            out[name] = z
        return out, candidates

    # ------------------------------------------------------------------ recommendations
    def genre_mask(self, genre: str | None) -> np.ndarray:
        """Movies of a genre (every movie for None); worked out once per genre (read only)."""
        key = "" if genre is None else genre.strip().lower()
        mask = self._genre_masks.get(key)
        if mask is None:
            mask = cold_start.genre_mask(genre, self._genre_sets, self.genres)
            mask.flags.writeable = False
            if len(self._genre_masks) < 256:
                self._genre_masks[key] = mask
        return mask

    def _items(
        self, mixed: fused.Blend, excluded: np.ndarray, genre: np.ndarray | None, k: int
    ) -> list[RecommendedItem]:
        """The top-k of a blend, leaving out `excluded` positions and movies outside `genre`
        (a mask; None = every genre); each pick with its score and components' z-scores."""
        scores = mixed.total  # the request's own array
        scores[excluded] = -np.inf
        if genre is not None:
            np.copyto(scores, -np.inf, where=~genre)
        top = top_k_indices(scores, k, finite=True)
        return self._picked(top, scores[top] + mixed.offset, mixed.z_at(self._alignments, top))

    def _picked(
        self, positions: np.ndarray, scores: np.ndarray, z: Mapping[str, np.ndarray]
    ) -> list[RecommendedItem]:
        """The picks at blend `positions`, each with its blended score and each component's
        z-score (`z`, in the order the answer lists them)."""
        return [
            RecommendedItem(
                movie_id=int(self.movie_ids[j]),
                score=float(scores[i]),
                components={n: float(v[i]) for n, v in z.items()},
            )
            for i, j in enumerate(positions)
        ]

    def pool_in_use(self) -> bool:
        """Whether known users are served from the head pool (`serve_pool`, when it leaves out
        enough movies to pay: models/hybrid/pool.py)."""
        return pool.pays(self.serve_pool, self.n_movies)

    def recommend_items(
        self, user_id: int, k: int = 10, exclude_seen: bool = True, genre: str | None = None
    ) -> Recommendations:
        """Top-k for a user; an unknown user gets the cold-start list (see `fallback`)."""
        self._check_fitted()
        allowed = self.genre_mask(genre)
        if not self.knows_user(user_id):
            return Recommendations(self._cold_start(k, allowed), fallback=Fallback.COLD_START)
        seen = self.seen(self.user_index(user_id))[0]
        mask = None if genre is None else allowed
        if self.pool_in_use():
            if self._pool is None:
                self._pool = pool.HeadPool(self, self.serve_pool)
            items = self._pool.recommend(self, user_id, seen, k, exclude_seen, mask)
            if items is not None:
                return Recommendations(items, fallback=None)
        mixed = self._fused(self._own_scores(user_id, ranking=True), seen)
        excluded = seen if exclude_seen else np.empty(0, np.int64)
        return Recommendations(self._items(mixed, excluded, mask, k), fallback=None)

    def similar_movies(self, movie_id: int, k: int = 10) -> list[tuple[int, float]]:
        """Movies similar to one movie: what someone who loved it would be recommended
        (item-item co-occurrence + content, blended like any user); a describing component's
        similarity alone (content cosine) for a movie that no component saw rated. Raises
        `UnknownMovieError` otherwise."""
        self._check_fitted()
        if self.movie_positions([movie_id])[0] >= 0:
            top = self.rating_scale[1] if self.rating_scale else 5.0
            recs = self.recommend_from_ratings({int(movie_id): top}, k=k)
            if recs.fallback != Fallback.COLD_START:
                return [(it.movie_id, it.score) for it in recs.items]
        return cold_start.described_similar(self.components, int(movie_id), k)

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
        rated = np.unique(rated[rated >= 0])
        known = {m: float(r) for m, r in ratings.items() if self.movie_positions([m])[0] >= 0}
        if not known:
            allowed = allowed.copy()
            allowed[rated] = False
            return Recommendations(self._cold_start(k, allowed), fallback=Fallback.COLD_START)
        mixed = self._fused(self._profile_own_scores(known, ranking=True), rated, fold_in=True)
        used = [n for n in mixed.maps if self.components[n].personal] or list(mixed.maps)
        mask = None if genre is None else allowed
        return Recommendations(
            self._items(mixed, rated, mask, k), fallback=Fallback.FOLD_IN, used=tuple(used)
        )

    def cold_start_scores(self) -> np.ndarray:
        """Popularity (log count) mixed with Bayesian-shrunk mean rating, both z-scored."""
        counts = np.bincount(self._ui_indices, minlength=self.n_movies)
        return cold_start.cold_start_scores(
            self.components, self._pos, counts, self.global_mean + self.bi
        )

    def _cold_start(self, k: int, allowed: np.ndarray) -> list[RecommendedItem]:
        """Greedy genre-diversified pick from the best cold-start scores."""
        base = np.where(allowed, self.cold_start_scores(), -np.inf)
        chosen = cold_start.diverse_pick(base, self._genre_sets, self.diversity, k)
        return [
            RecommendedItem(int(self.movie_ids[j]), float(base[j]), {"cold_start": float(base[j])})
            for j in chosen
        ]

    # ------------------------------------------------------------------ ratings
    def _rating_features(self, user_id: int, movie_ids: np.ndarray) -> dict[str, np.ndarray]:
        """Per-feature values for the rating stack (see `rating_stack`); components that
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
                    values[ok] = comp.predict_rows([comp.user_index(user_id)], cpos[ok])[0]
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
            raw[known] = comp.score_users([comp.user_index(user_id)], cpos[known])[0]
        z = (blend.scaled(comp.score_scale, raw) - mean) / std
        out[ok] = np.where(np.isfinite(z), z, floor)
        return out

    def _z_stats(self, name: str, user_id: int) -> tuple[float, float, float] | None:
        """`blend.zstats` of a component's scores over the user's unseen movies, kept per
        (component, user): a fitted model's scores never change; `_prepare` empties the memo."""
        key = (name, user_id)
        if key in self._z_memo:
            return self._z_memo[key]
        comp = self.components[name]
        candidates = np.ones(self.n_movies, bool)
        candidates[self.seen(self.user_index(user_id))[0]] = False
        scores = comp.score_users([comp.user_index(user_id)])[0]
        stats = blend.zstats(self._aligned(name, scores), candidates)
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
        return rating_stack.parts(self.rating_coefs)

    def _stack(self, feats: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        return rating_stack.predict(self.rating_coefs, feats, n)

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
        valid: Part,
        k: int = 10,
        threshold: float = 4.0,
        max_users: int | None = None,
        ranking: bool = True,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Choose blend weights (NDCG@k, `tuning`) and the rating stack (least squares,
        `rating_stack`) on `valid`, each on a seeded sample of at most `max_users` validation
        users (None: all). `ranking=False` fits the rating stack only (the weights stay as they
        are); the rating stack does not depend on the blend weights. `valid` may be a
        `RatingsSource` (Parquet files): only the sampled users' rows are then held
        (`_tuning_rows`)."""
        self._check_fitted()
        rows, ranked, stacked = self._tuning_rows(as_source(valid), threshold, max_users, seed)
        info: dict[str, Any] = {}
        if ranking:
            start = time.perf_counter()
            picked = rows[rows[C.USER_ID].isin(ranked)]
            info.update(self._tune_weights(picked, k, threshold, max_users, seed))
            info["weight_search_seconds"] = round(time.perf_counter() - start, 3)
            log.info("weight search in %.1f s", info["weight_search_seconds"])
        start = time.perf_counter()
        picked = rows[rows[C.USER_ID].isin(stacked)]
        info.update(self._fit_rating_stack(picked, max_users, seed))
        info["rating_stack_seconds"] = round(time.perf_counter() - start, 3)
        log.info("rating stack in %.1f s", info["rating_stack_seconds"])
        self.fit_info.update(info)
        return info

    def _tuning_rows(
        self, valid: RatingsSource, threshold: float, max_users: int | None, seed: int
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """(the rows of the sampled users, the weight search's users, the rating stack's
        users), read from `valid` a batch at a time in two passes, so the split is never held
        whole (at 25M ratings it is 4M rows, and the search samples 2,000 users). The samples
        are the ones drawn from the whole split: the search's among the known users with a
        rating >= `threshold`, the stack's among the known users with a known movie."""
        if not valid.rows:
            check_ratings(valid.frame())  # (raises: the frame is empty)
        ranked: list[np.ndarray] = []
        stacked: list[np.ndarray] = []
        for batch in self._known_user_rows(valid):
            users = batch[C.USER_ID].to_numpy()
            ranked.append(np.unique(users[batch[C.RATING].to_numpy() >= threshold]))
            stacked.append(np.unique(users[self.movie_positions(batch[C.MOVIE_ID]) >= 0]))
        search = tuning.sample_users(_joined(ranked), max_users, seed)
        stack = tuning.sample_users(_joined(stacked), max_users, seed)
        chosen = np.union1d(search, stack)
        picked = [b[b[C.USER_ID].isin(chosen)] for b in self._known_user_rows(valid)]
        return pd.concat(picked, ignore_index=True), search, stack  # (a batch at least: rows > 0)

    def _known_user_rows(self, valid: RatingsSource) -> Iterator[pd.DataFrame]:
        """`valid`'s batches (checked: user_id, movie_id, rating) with the users the model knows."""
        for batch in valid.batches():
            if not len(batch):
                continue
            checked = check_ratings(batch)
            yield checked[self.user_positions(checked[C.USER_ID].to_numpy()) >= 0]

    def _tune_weights(
        self, valid: pd.DataFrame, k: int, threshold: float, max_users: int | None, seed: int
    ) -> dict[str, Any]:
        rel = valid[valid[C.RATING] >= threshold]
        relevant = {
            int(uid): set(group.tolist()) for uid, group in rel.groupby(C.USER_ID)[C.MOVIE_ID]
        }
        names = list(self.components)
        weights, top_z, info = tuning.search_weights(
            names, self._z_rows, relevant, self.movie_positions, k, max_users, seed
        )
        if weights:
            self.weights, self.top_z = weights, top_z
        return info

    def _fit_rating_stack(
        self, valid: pd.DataFrame, max_users: int | None, seed: int
    ) -> dict[str, Any]:
        raters = [n for n, c in self.components.items() if c.predicts_ratings]
        rankers = [n for n, c in self.components.items() if not c.predicts_ratings and c.personal]
        names = rating_stack.feature_names(raters, rankers)
        self.rating_coefs = {INTERCEPT: 0.0, **{n: 0.0 for n in names}}  # feature set for lookup
        valid = valid[self.movie_positions(valid[C.MOVIE_ID].to_numpy()) >= 0]
        users = tuning.sample_users(valid[C.USER_ID].to_numpy(), max_users, seed)
        valid = valid[valid[C.USER_ID].isin(users)]
        self.rating_coefs, info = rating_stack.fit(
            valid, names, self._rating_features, self.rating_scale, raters
        )
        return info

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
