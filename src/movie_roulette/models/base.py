"""The recommender contract, in the scikit-surprise style.

The base class owns everything that is the same for every algorithm: checking the ratings frame,
mapping raw ids to dense indices (sorted, so index order equals id order), remembering each user's
training ratings, unknown-id errors, clipping rating predictions to the fitted scale, top-k ranking
with a deterministic tie-break, and plain-format state (a JSON-able dict plus numpy arrays,
no pickle).

An algorithm implements `_fit` and `_score_all(user_idx)` (scores over all fitted movies, higher is
better) and, if it predicts ratings, `_predict_ratings(user_idx, movie_idx)`. Algorithms that can
score an ad-hoc profile (a newcomer's few ratings) implement `_score_profile`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.exceptions import UnknownMovieError, UnknownUserError
from movie_roulette.models.component_api import RowScoring
from movie_roulette.models.indexing import IndexedRows, index_rows, index_streamed
from movie_roulette.ratings_source import FrameRatings, Part, RatingsSource, as_source

STATE_FORMAT = 1


@dataclass(frozen=True)
class Interactions:
    """Ratings as dense indices into the fitted users/movies (what `_fit` receives)."""

    user_idx: np.ndarray  # int64
    movie_idx: np.ndarray  # int64
    rating: np.ndarray  # float64
    n_users: int
    n_movies: int

    def binary_matrix(self, min_rating: float | None = None) -> Any:
        """Users x movies CSR matrix of ones (only ratings >= min_rating when given)."""
        from scipy import sparse

        keep = np.ones(len(self.rating), bool) if min_rating is None else self.rating >= min_rating
        return sparse.csr_matrix(
            (np.ones(int(keep.sum()), np.float32), (self.user_idx[keep], self.movie_idx[keep])),
            shape=(self.n_users, self.n_movies),
        )


def check_ratings(
    ratings: pd.DataFrame,
    user_col: str = C.USER_ID,
    movie_col: str = C.MOVIE_ID,
    rating_col: str = C.RATING,
) -> pd.DataFrame:
    """Validate a ratings frame and return (user_id, movie_id, rating) with canonical dtypes.
    Columns that have them already are shared with `ratings`, not copied (24 bytes a rating:
    600 MB at 25M): read-only use, like every array a fit is given."""
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(f"ratings: expected a pandas DataFrame, got {type(ratings).__name__}.")
    missing = [c for c in (user_col, movie_col, rating_col) if c not in ratings.columns]
    if missing:
        raise ValueError(
            f"ratings: missing column(s) {missing}; expected {user_col!r}, {movie_col!r}, "
            f"{rating_col!r} (see movie_roulette.columns)."
        )
    if ratings.empty:
        raise ValueError("ratings: the frame is empty; fit needs at least one rating.")
    out = pd.DataFrame(
        {
            C.USER_ID: ratings[user_col].to_numpy(np.int64),
            C.MOVIE_ID: ratings[movie_col].to_numpy(np.int64),
            C.RATING: ratings[rating_col].to_numpy(np.float64),
        },
        copy=False,
    )
    if not np.isfinite(out[C.RATING].to_numpy()).all():
        raise ValueError("ratings: column 'rating' has NaN or infinite values; drop them first.")
    return out


FIT_COLUMNS = (C.USER_ID, C.MOVIE_ID, C.RATING)


def index_parts(parts: Sequence[RatingsSource]) -> IndexedRows:
    """The parts' rows checked (`check_ratings`) and indexed as their concatenation would be.
    Frames in memory share their columns where they can (`index_rows`); other sources (Parquet
    files) are read a batch at a time, twice, and their frames are never held
    (`index_streamed`): at 25M ratings the frames of train + valid + test are ~600 MB."""
    if all(isinstance(p, FrameRatings) for p in parts):
        checked = [check_ratings(p.data) for p in parts]  # (raises on an empty frame)
        return index_rows(
            [f[C.USER_ID].to_numpy() for f in checked],
            [f[C.MOVIE_ID].to_numpy() for f in checked],
            [f[C.RATING].to_numpy() for f in checked],
        )
    for part in parts:
        missing = [c for c in FIT_COLUMNS if c not in part.columns]
        if missing:
            where = getattr(part, "path", type(part).__name__)
            raise ValueError(
                f"ratings ({where}): missing column(s) {missing}; expected {list(FIT_COLUMNS)} "
                "(see movie_roulette.columns)."
            )
    total = sum(p.rows for p in parts)
    if total == 0:
        raise ValueError("ratings: the parts are empty; fit needs at least one rating.")

    def ids() -> Iterable[tuple[np.ndarray, np.ndarray]]:
        for part in parts:
            for batch in part.batches(list(FIT_COLUMNS[:2])):
                if len(batch):
                    yield batch[C.USER_ID].to_numpy(np.int64), batch[C.MOVIE_ID].to_numpy(np.int64)

    def rows() -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for part in parts:
            for batch in part.batches(list(FIT_COLUMNS)):
                if len(batch):
                    checked = check_ratings(batch)
                    yield tuple(checked[c].to_numpy() for c in FIT_COLUMNS)  # type: ignore[misc]

    return index_streamed(ids, rows, total)


def _counted(source: RatingsSource) -> bool:
    """Whether `source.rows` may be asked (not of a FrameRatings around something that is not
    a frame, which is kept for `check_ratings` to name)."""
    return not isinstance(source, FrameRatings) or isinstance(source.data, pd.DataFrame)


def _positions_in(known: np.ndarray, values: Iterable[int] | np.ndarray) -> np.ndarray:
    """Each value's index in the sorted `known` ids, -1 where it is not there."""
    ids = np.asarray(list(values) if not isinstance(values, np.ndarray) else values)
    ids = ids.astype(np.int64, copy=False).reshape(-1)
    if len(known) == 0:
        return np.full(len(ids), -1, np.int64)
    pos = np.minimum(np.searchsorted(known, ids), len(known) - 1)
    return np.where(known[pos] == ids, pos, -1).astype(np.int64)


SAMPLED_TOP_K_ABOVE = 8192  # catalogues larger than this find the k-th score from a sample


def _at_or_above_kth(scores: np.ndarray, k: int) -> np.ndarray | None:
    """Positions of every finite score at or above the k-th highest (at least k of them, all
    ties included), or None when fewer than k are finite. A large array is first cut with a
    threshold taken from a strided sample of ~1,000 scores (expected ~4k above it): one
    comparison pass instead of a partition of a copy; exact, since every score of the top k is
    at or above any threshold that at least k scores reach (else the full partition)."""
    n = len(scores)
    if n > SAMPLED_TOP_K_ABOVE:
        stride = n // 1024
        sample = scores[::stride]
        j = min(len(sample), -(-4 * k // stride) + 1)
        guess = np.partition(sample, len(sample) - j)[len(sample) - j]
        if guess > -np.inf:
            cand = np.flatnonzero(scores >= guess)
            if len(cand) >= k:
                return cand
    threshold = np.partition(scores, n - k)[n - k]
    if threshold == -np.inf:
        return None
    return np.flatnonzero(scores >= threshold)


def top_k_indices(scores: np.ndarray, k: int, finite: bool = False) -> np.ndarray:
    """Indices of the k highest finite scores, best first; ties broken by the lower index.

    Uses a partition (O(n)) and only sorts the few candidates at or above the k-th score.
    `finite=True`: the caller guarantees no NaN (-inf marks left-out movies), which saves four
    passes over the scores (a served request's catalogue is 62,000 movies at 25M ratings).
    """
    if k < 1:
        raise ValueError(f"k: must be at least 1, got {k}.")
    if finite and 0 < k < len(scores):
        cand = _at_or_above_kth(scores, k)
        if cand is not None:
            order = np.lexsort((cand, -scores[cand]))
            return cand[order[:k]].astype(np.int64)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    finite = np.isfinite(scores)
    n_ok = int(finite.sum())
    if n_ok == 0:
        return np.empty(0, np.int64)
    k = min(k, n_ok)
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
        threshold = scores[part].min()
        cand = np.flatnonzero(scores >= threshold)
    else:
        cand = np.arange(len(scores))
    cand = cand[np.isfinite(scores[cand])]
    order = np.lexsort((cand, -scores[cand]))
    return cand[order[:k]].astype(np.int64)


# Every Recommender subclass by class name, filled as each is defined (`__init_subclass__`):
# the lookup for plain-format state (meta["class"]), with no module importing its users.
_CLASSES: dict[str, type[Recommender]] = {}


def model_from_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Recommender:
    """The recommender that `meta["class"]` names, restored from its state. The class's module
    must have been imported (`models.registry` imports every model module)."""
    name = meta.get("class")
    if name not in _CLASSES:
        raise ValueError(
            f"state class {name!r} is unknown; known classes are {sorted(_CLASSES)}. "
            "Was the bundle written by a newer version?"
        )
    return _CLASSES[name].from_state(meta, arrays)


class Recommender(RowScoring):
    """Base class of every recommender. Subclasses list their constructor params in `_params`.
    The public component API a blend uses (`score_users`, `score_rows`, `predict_rows`,
    `score_scale`, ...) comes from `component_api.RowScoring`."""

    name: ClassVar[str] = "recommender"
    predicts_ratings: ClassVar[bool] = False
    # True: the model knows every catalogue movie, rated or not (content, genre taste, review
    # sentiment score a movie from what the catalogue says of it)
    knows_catalogue: ClassVar[bool] = False
    _params: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _CLASSES[cls.__name__] = cls

    def __init__(self, rating_scale: tuple[float, float] | None = None) -> None:
        self.rating_scale = tuple(rating_scale) if rating_scale is not None else None
        self.user_ids: np.ndarray = np.empty(0, np.int64)
        self.movie_ids: np.ndarray = np.empty(0, np.int64)
        self._ui_indptr: np.ndarray = np.zeros(1, np.int64)
        self._ui_indices: np.ndarray = np.empty(0, np.int32)
        self._ui_ratings: np.ndarray = np.empty(0, np.float32)
        self._fitted = False

    # ----------------------------------------------------------------- params / repr
    def get_params(self) -> dict[str, Any]:
        params = {p: getattr(self, p) for p in self._params}
        params["rating_scale"] = list(self.rating_scale) if self.rating_scale else None
        return params

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ----------------------------------------------------------------- fitting
    def fit(self, ratings: Part, catalogue: pd.DataFrame | None = None) -> Self:
        """Fit on ratings (user_id, movie_id, rating): a frame, or a `RatingsSource` read a
        batch at a time; the catalogue is optional."""
        return self.fit_frames([ratings], catalogue)

    def fit_frames(self, frames: Sequence[Part], catalogue: pd.DataFrame | None = None) -> Self:
        """`fit` on the concatenation of `frames` (rows in frame order; empty frames are
        skipped), without building it: the pipeline refits on train + valid + test so. A
        part may be a `RatingsSource` (the Spark engine's part files): `index_parts`."""
        sources = [as_source(f) for f in frames]
        parts = [s for s in sources if not _counted(s) or s.rows]
        parts = parts or sources[:1]
        if not parts:
            raise ValueError("ratings: no frame given; fit needs at least one rating.")
        rows = index_parts(parts)
        data = Interactions(
            rows.user_idx, rows.movie_idx, rows.rating, len(rows.user_ids), len(rows.movie_ids)
        )
        return self.fit_indexed(data, rows.user_ids, rows.movie_ids, None, catalogue)

    def _keep_rows(self, data: Interactions) -> np.ndarray | None:
        """Hook: which rows this algorithm models (a boolean mask over `data`'s rows, whose
        movie indices rank like the movie ids), or None for every row (the default)."""
        return None

    def fit_indexed(
        self,
        data: Interactions,
        user_ids: np.ndarray,
        movie_ids: np.ndarray,
        ui: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        catalogue: pd.DataFrame | None = None,
    ) -> Self:
        """`fit` on rows indexed already (what `fit` does after checking and indexing, and
        what the hybrid calls with its own indices): `data` sorted by (user, movie) over
        `user_ids` x `movie_ids`, every user with a row, and optionally their histories
        `ui` = (indptr, int32 indices, float32 ratings). The rows `_keep_rows` drops are left
        out here, then users without a row. Where nothing is dropped and the movie ids agree,
        the index and history arrays are shared, not copied (at 25M ratings a copy is ~60
        bytes a rating per component)."""
        if len(data.rating) == 0:
            raise ValueError("ratings: the frame is empty; fit needs at least one rating.")
        keep = self._keep_rows(data)
        if keep is not None and not keep.all():
            if not keep.any():
                raise ValueError(
                    f"ratings: nothing left to fit {type(self).__name__} on after its filters "
                    f"({self.get_params()}); lower min_item_ratings or pass more ratings."
                )
            u, rated = data.user_idx[keep], data.rating[keep]
            movie_idx = data.movie_idx[keep]
            del keep
            present = np.bincount(u, minlength=len(user_ids)) > 0
            if not present.all():  # (monotone: the rows stay sorted)
                user_ids, u = user_ids[present], (np.cumsum(present) - 1)[u]
            data, ui = Interactions(u, movie_idx, rated, len(user_ids), len(movie_ids)), None
            del u, movie_idx, rated
        seen = np.bincount(data.movie_idx, minlength=len(movie_ids)) > 0
        rated_movies = movie_ids if seen.all() else movie_ids[seen]
        self.user_ids = np.asarray(user_ids, np.int64)
        self.movie_ids = np.unique(np.concatenate([rated_movies, self._extra_movies(catalogue)]))
        same = len(self.movie_ids) == len(movie_ids) and np.array_equal(self.movie_ids, movie_ids)
        movie_idx = data.movie_idx
        if not same:  # (monotone: the rows stay sorted)
            lookup = np.searchsorted(self.movie_ids, movie_ids)
            movie_idx = lookup[movie_idx]
            if ui is not None:
                ui = (ui[0], lookup[ui[1]].astype(np.int32), ui[2])
        if ui is None:
            counts = np.bincount(data.user_idx, minlength=len(self.user_ids))
            indptr = np.concatenate([[0], np.cumsum(counts)])
            ui = (indptr, movie_idx.astype(np.int32), data.rating.astype(np.float32))
        if self.rating_scale is None:
            self.rating_scale = (float(data.rating.min()), float(data.rating.max()))
        self._ui_indptr, self._ui_indices, self._ui_ratings = ui
        own = Interactions(
            data.user_idx, movie_idx, data.rating, len(self.user_ids), len(self.movie_ids)
        )
        self._fit(own, catalogue)
        self._fitted = True
        return self

    def _extra_movies(self, catalogue: pd.DataFrame | None) -> np.ndarray:
        """Movies known without ratings: the catalogue's, when `knows_catalogue`."""
        if not self.knows_catalogue or catalogue is None or C.MOVIE_ID not in catalogue.columns:
            return np.empty(0, np.int64)
        return catalogue[C.MOVIE_ID].to_numpy(np.int64)

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- id mapping
    def _check_fitted(self) -> None:
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit(ratings) first.")

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_movies(self) -> int:
        return len(self.movie_ids)

    def knows_user(self, user_id: int) -> bool:
        i = np.searchsorted(self.user_ids, user_id)
        return bool(i < len(self.user_ids) and self.user_ids[i] == user_id)

    def user_index(self, user_id: int) -> int:
        self._check_fitted()
        i = int(np.searchsorted(self.user_ids, user_id))
        if i >= len(self.user_ids) or self.user_ids[i] != user_id:
            raise UnknownUserError(
                f"user {user_id} was not in the ratings {type(self).__name__} was fitted on; "
                "use HybridRecommender (it falls back) or refit with this user's ratings."
            )
        return i

    def movie_positions(self, movie_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Dense indices of movie ids, -1 where the movie is unknown (never raises)."""
        return _positions_in(self.movie_ids, movie_ids)

    def user_positions(self, user_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Dense indices of user ids, -1 where the user is unknown (never raises)."""
        return _positions_in(self.user_ids, user_ids)

    def movie_index(self, movie_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        self._check_fitted()
        ids = np.asarray(list(movie_ids) if not isinstance(movie_ids, np.ndarray) else movie_ids)
        pos = self.movie_positions(ids)
        if (pos < 0).any():
            bad = ids.reshape(-1)[pos < 0][:5].tolist()
            raise UnknownMovieError(
                f"movie(s) {bad} were not in the data {type(self).__name__} was fitted on; "
                "check the ids or refit with them."
            )
        return pos

    def seen(self, user_idx: int) -> tuple[np.ndarray, np.ndarray]:
        """(movie indices, ratings) of a user's training ratings."""
        a, b = self._ui_indptr[user_idx], self._ui_indptr[user_idx + 1]
        return self._ui_indices[a:b], self._ui_ratings[a:b]

    def user_rating_counts(self) -> np.ndarray:
        """Training ratings per user, aligned with `user_ids`."""
        return np.diff(self._ui_indptr)

    def movie_rating_counts(self) -> np.ndarray:
        """Training ratings per movie, aligned with `movie_ids`."""
        return np.bincount(self._ui_indices, minlength=self.n_movies)

    def seen_movie_ids(self, user_id: int) -> np.ndarray:
        return self.movie_ids[self.seen(self.user_index(user_id))[0]]

    # ----------------------------------------------------------------- scoring
    def _score_all(self, user_idx: int) -> np.ndarray:
        idx, r = self.seen(user_idx)
        return self._score_profile(idx, r)

    def prepare_user(self, user_id: int) -> None:
        """Hook: compute ahead what this model keeps per user to answer faster (the server's
        start-up warm-up calls it); most models keep nothing."""

    def _score_at(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        """Scores of a few movies (positions in `self.movie_ids`); models that can score a movie
        without scoring them all override it (the served `predict` scores one movie)."""
        return np.asarray(self._score_all(user_idx))[movie_idx]

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} cannot score an ad-hoc rating profile.")

    def score_all(self, user_id: int) -> np.ndarray:
        """Scores over `self.movie_ids` (higher is better)."""
        return np.asarray(self._score_all(self.user_index(user_id)), np.float64)

    def score(self, user_id: int, movie_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        uidx = self.user_index(user_id)
        midx = self.movie_index(movie_ids)
        return np.asarray(self._score_all(uidx), np.float64)[midx]

    def score_ratings(self, ratings: Mapping[int, float]) -> np.ndarray:
        """Scores over `self.movie_ids` for an ad-hoc profile {movie_id: rating} (no refit).

        Unknown movies in the profile are ignored.
        """
        self._check_fitted()
        ids = np.fromiter(ratings.keys(), np.int64, len(ratings))
        vals = np.fromiter(ratings.values(), np.float64, len(ratings))
        pos = self.movie_positions(ids)
        keep = pos >= 0
        order = np.argsort(pos[keep])
        return np.asarray(
            self._score_profile(pos[keep][order].astype(np.int32), vals[keep][order]), np.float64
        )

    def recommend(
        self, user_id: int, k: int = 10, exclude_seen: bool = True
    ) -> list[tuple[int, float]]:
        """Top-k (movie_id, score), best first; ties broken by the lower movie id."""
        uidx = self.user_index(user_id)
        scores = np.array(self._score_all(uidx), np.float64)
        if exclude_seen:
            scores[self.seen(uidx)[0]] = -np.inf
        top = top_k_indices(scores, k)
        return [(int(self.movie_ids[j]), float(scores[j])) for j in top]

    # ----------------------------------------------------------------- ratings
    def clip(self, values: np.ndarray) -> np.ndarray:
        lo, hi = self.rating_scale or (-np.inf, np.inf)
        return np.clip(values, lo, hi)

    def predict_rating(self, user_id: int, movie_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        if not self.predicts_ratings:
            raise NotImplementedError(
                f"{type(self).__name__} ranks movies; it does not predict ratings."
            )
        uidx = self.user_index(user_id)
        midx = self.movie_index(movie_ids)
        return self.clip(np.asarray(self._predict_ratings(uidx, midx), np.float64))

    def _predict_ratings(self, user_idx: int, movie_idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ----------------------------------------------------------------- state
    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _get_extra_meta(self) -> dict[str, Any]:
        return {}

    def _set_state(self, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Hook: restore subclass arrays (and scalars kept in meta['extra'])."""

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able meta, numpy arrays): everything needed to rebuild the fitted model."""
        self._check_fitted()
        meta = {
            "class": type(self).__name__,
            "format": STATE_FORMAT,
            "params": self.get_params(),
            "extra": self._get_extra_meta(),
        }
        arrays = {
            "user_ids": self.user_ids,
            "movie_ids": self.movie_ids,
            "ui_indptr": self._ui_indptr,
            "ui_indices": self._ui_indices,
            "ui_ratings": self._ui_ratings,
            **self._get_arrays(),
        }
        return meta, arrays

    @classmethod
    def from_state(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Self:
        if meta.get("class") != cls.__name__:
            raise ValueError(
                f"state is for {meta.get('class')!r}, not {cls.__name__}; "
                "use models.registry.model_from_state to pick the class."
            )
        if meta.get("format") != STATE_FORMAT:
            raise ValueError(f"state format {meta.get('format')} is not {STATE_FORMAT}; refit.")
        params = dict(meta["params"])
        scale = params.pop("rating_scale", None)
        obj = cls(**params, rating_scale=tuple(scale) if scale else None)
        obj.user_ids = np.asarray(arrays["user_ids"], np.int64)
        obj.movie_ids = np.asarray(arrays["movie_ids"], np.int64)
        obj._ui_indptr = np.asarray(arrays["ui_indptr"], np.int64)
        obj._ui_indices = np.asarray(arrays["ui_indices"], np.int32)
        obj._ui_ratings = np.asarray(arrays["ui_ratings"], np.float32)
        obj._set_state(dict(meta), arrays)
        obj._fitted = True
        return obj


def fit_baselines(
    data: Interactions,
    reg_u: float = 15.0,
    reg_i: float = 10.0,
    n_iter: int = 10,
    chunk: int = 1 << 20,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Global mean and user/item biases by alternating least squares (as surprise BaselineOnly)."""
    mu = float(data.rating.mean())
    bu = np.zeros(data.n_users)
    bi = np.zeros(data.n_movies)
    cnt_u = np.bincount(data.user_idx, minlength=data.n_users)
    cnt_i = np.bincount(data.movie_idx, minlength=data.n_movies)
    res = np.empty(len(data.rating))  # one residual buffer, filled a chunk at a time
    for _ in range(n_iter):
        _residuals(data.rating, mu, bu, data.user_idx, res, chunk)
        bi = np.bincount(data.movie_idx, res, data.n_movies) / (reg_i + cnt_i)
        _residuals(data.rating, mu, bi, data.movie_idx, res, chunk)
        bu = np.bincount(data.user_idx, res, data.n_users) / (reg_u + cnt_u)
    return mu, bu, bi


def _residuals(
    rating: np.ndarray,
    mu: float,
    bias: np.ndarray,
    idx: np.ndarray,
    out: np.ndarray,
    chunk: int,
) -> None:
    """out = rating - mu - bias[idx], the same arithmetic as the whole-array expression, in
    chunks: its temporaries are a chunk's, not three arrays of 8 bytes a rating (600 MB at
    25M ratings)."""
    for start in range(0, len(rating), chunk):
        part = slice(start, start + chunk)
        out[part] = rating[part] - mu - bias[idx[part]]
