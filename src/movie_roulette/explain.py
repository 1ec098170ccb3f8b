"""Short, honest reasons for each returned movie.

Reasons are computed from what the model actually knows about the person (the movies they liked,
as `taste.liked_mask` defines it: at or above 4 stars, or clearly above their own mean) and the
movie's metadata; each one can be checked against the data (tests/unit/test_reasons.py does):

* "because you rated Heat highly": the liked movie whose content vector (genres, director, cast,
  keywords, overview) is closest to the recommended one, when that cosine is meaningful. Never a
  movie the person rated low: someone who only rated movies low gets no such reason;
* "matches your favourite genres: Crime, Drama": overlap with the (at most three) genres that at
  least a quarter of the liked movies have;
* "liked by people with similar taste": only when the collaborative components (EASE, item-kNN,
  SVD) carry the movie: their weighted blend contribution is positive and at least
  `COLLABORATIVE_SHARE` of the movie's positive contributions, and the person liked something;
* "reviews 82% positive (41 reviews)": the per-movie review sentiment, when the catalogue has it;
* otherwise, and for the cold-start list: "popular and well rated (329 ratings)" when the movie's
  mean rating is at least the mean of all ratings, else "rated by 329 people" (the model's
  ratings); "no ratings yet" for a movie nobody rated.

Everything is precomputed per movie at start-up so a request costs a few small array operations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.features.text import split_genres
from movie_roulette.models.rows import row_entries
from movie_roulette.taste import LIKE_THRESHOLD, liked_mask

MAX_REASONS = 3
MAX_ANCHORS = 50  # liked movies considered for "because you rated X highly"
MIN_ANCHOR_COSINE = 0.15
MIN_REVIEWS = 3
COLLABORATIVE = ("ease", "itemknn", "svd")  # and every "ease_*" variant
COLLABORATIVE_SHARE = 0.5
SENTIMENT_SHARE = "sentiment_positive_share"
SENTIMENT_COUNT = "sentiment_count"


@dataclass(frozen=True)
class Profile:
    """What a person likes: their liked movies (`taste.liked_mask`, best first) and favourite
    genres; both empty for someone who liked nothing they rated."""

    liked: list[int]
    favourite_genres: list[str]


def is_collaborative(component: str) -> bool:
    return component in COLLABORATIVE or component.startswith("ease_")


def collaborative_share(components: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """The collaborative components' share of a movie's positive weighted blend contributions
    (0 when their summed contribution is not positive)."""
    collab = positive = 0  # one pass, summing in the same order as two sums did
    for name, z in components.items():
        value = weights.get(name, 0.0) * z
        if is_collaborative(name):
            collab += value
        if value > 0:
            positive += value
    if collab <= 0 or positive <= 0:
        return 0.0
    return collab / positive


def _names(value: object) -> list[str]:
    if not isinstance(value, str) or not value:
        return []
    return [v.strip() for v in value.split("|") if v.strip()]


class Explainer:
    def __init__(
        self, model: Any, catalogue: pd.DataFrame, like_threshold: float = LIKE_THRESHOLD
    ) -> None:
        self.model = model
        self.like_threshold = like_threshold
        self.weights: dict[str, float] = dict(getattr(model, "weights", {}) or {})
        cat = catalogue.drop_duplicates(C.MOVIE_ID).set_index(C.MOVIE_ID)
        self._title = {int(m): str(t) for m, t in cat[C.TITLE].items()}
        self._genres = {int(m): split_genres(g) for m, g in cat[C.GENRES].items()}
        self._director = {
            int(m): _names(d) for m, d in cat.get(C.DIRECTOR, pd.Series(dtype=str)).items()
        }
        self._cast = {
            int(m): _names(c)[:5] for m, c in cat.get(C.CAST, pd.Series(dtype=str)).items()
        }
        self._counts, self._means, self._overall_mean = _rating_stats(model)
        self._sentiment: dict[int, tuple[float, int]] = {}
        if SENTIMENT_SHARE in cat.columns and SENTIMENT_COUNT in cat.columns:
            for m, share, count in zip(
                cat.index, cat[SENTIMENT_SHARE], cat[SENTIMENT_COUNT], strict=True
            ):
                if pd.notna(share) and pd.notna(count) and int(count) >= MIN_REVIEWS:
                    self._sentiment[int(m)] = (float(share), int(count))
        content = getattr(model, "components", {}).get("content")
        matrix = getattr(content, "item_matrix", None)
        if matrix is not None and matrix.shape[0]:
            self._matrix = matrix.tocsr()
            self._row = {int(m): i for i, m in enumerate(content.movie_ids)}
        else:
            self._matrix, self._row = None, {}

    # ---- profiles ---------------------------------------------------------------------------
    def profile_from_ratings(self, ratings: Mapping[int, float]) -> Profile:
        ids = np.fromiter(ratings.keys(), np.int64, len(ratings))
        return self._profile(ids, np.fromiter(ratings.values(), np.float64, len(ratings)))

    def _profile(self, ids: np.ndarray, values: np.ndarray) -> Profile:
        """The profile of ratings `values` of movies `ids`: the liked ones, best rated first
        (ties in the given order), and their favourite genres."""
        mask = liked_mask(values, self.like_threshold)
        order = np.argsort(-values[mask], kind="stable")[:MAX_ANCHORS]
        liked = ids[mask][order].tolist()
        counts = Counter(g for m in liked for g in self._genres.get(m, []))
        total = max(len(liked), 1)
        favourite = [g for g, n in counts.most_common(3) if n / total >= 0.25]
        return Profile(liked=liked, favourite_genres=favourite)

    def user_profile(self, user_id: int) -> Profile | None:
        if not self.model.knows_user(user_id):
            return None
        idx, ratings = self.model.seen(self.model.user_index(user_id))
        return self._profile(self.model.movie_ids[idx], np.asarray(ratings, np.float64))

    # ---- reasons ----------------------------------------------------------------------------
    def _anchors(self, movie_ids: list[int], profile: Profile) -> dict[int, int]:
        """For each movie, the liked movie closest in content (when close enough)."""
        if self._matrix is None or not profile.liked:
            return {}
        liked = [m for m in profile.liked if m in self._row]
        targets = [m for m in movie_ids if m in self._row]
        if not liked or not targets:
            return {}
        sims = self._cosines([self._row[m] for m in liked], [self._row[m] for m in targets])
        out = {}
        for j, movie in enumerate(targets):
            best = int(np.argmax(sims[:, j]))
            if sims[best, j] >= MIN_ANCHOR_COSINE and liked[best] != movie:
                out[movie] = liked[best]
        return out

    def _entries(self, rows: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position in `rows`, feature, value) of every stored entry of those content rows."""
        matrix = self._matrix
        take, lengths = row_entries(matrix.indptr, np.asarray(rows, np.int64))
        owner = np.repeat(np.arange(len(rows)), lengths)
        return owner, matrix.indices[take], matrix.data[take].astype(np.float64)

    def _cosines(self, left_rows: list[int], right_rows: list[int]) -> np.ndarray:
        """Dot products (cosines: the rows are unit vectors) of every left row with every right
        row, as a small dense product over the right rows' features only: a request compares
        at most 50 liked movies with 20 picks, and three sparse products with their fancy
        indexing cost ~10x more. float64 sums of the float32 values."""
        right_owner, right_feature, right_value = self._entries(right_rows)
        features, right_col = np.unique(right_feature, return_inverse=True)
        right = np.zeros((len(right_rows), len(features)))
        np.add.at(right, (right_owner, right_col), right_value)
        left_owner, left_feature, left_value = self._entries(left_rows)
        left = np.zeros((len(left_rows), len(features)))
        if len(features):
            col = np.minimum(np.searchsorted(features, left_feature), len(features) - 1)
            shared = features[col] == left_feature
            np.add.at(left, (left_owner[shared], col[shared]), left_value[shared])
        return left @ right.T

    def cited_movies(self, movie_ids: list[int], profile: Profile) -> dict[int, int]:
        """{recommended movie: the liked movie of its "because you rated X highly" reason}."""
        return self._anchors(movie_ids, profile)

    def _sentiment_reason(self, movie_id: int) -> str | None:
        found = self._sentiment.get(movie_id)
        if found is None:
            return None
        share, count = found
        return f"reviews {round(100 * share)}% positive ({count} reviews)"

    def for_people(
        self,
        movie_ids: list[int],
        profile: Profile | None,
        components: list[Mapping[str, float]] | None = None,
    ) -> list[list[str]]:
        """Reasons for movies recommended to (or predicted for) a person; None = unknown person."""
        anchors = self._anchors(movie_ids, profile) if profile else {}
        out = []
        for j, movie in enumerate(movie_ids):
            reasons = []
            if movie in anchors:
                reasons.append(f"because you rated {self._title[anchors[movie]]} highly")
            if profile and profile.favourite_genres:
                shared = [g for g in profile.favourite_genres if g in self._genres.get(movie, [])]
                if shared:
                    reasons.append("matches your favourite genres: " + ", ".join(shared))
            comp = components[j] if components else {}
            if (
                profile is not None
                and profile.liked
                and collaborative_share(comp, self.weights) >= COLLABORATIVE_SHARE
            ):
                reasons.append("liked by people with similar taste")
            sentiment = self._sentiment_reason(movie)
            if sentiment:
                reasons.append(sentiment)
            if not reasons or (profile is None and "cold_start" in comp):
                reasons.append(self.popularity_reason(movie))
            out.append(reasons[:MAX_REASONS])
        return out

    def popularity_reason(self, movie_id: int) -> str:
        """How many people rated the movie (the model's ratings), and whether its mean rating is
        at least the mean of all ratings."""
        count = self._counts.get(movie_id, 0)
        if not count:
            return "no ratings yet"
        if self._means[movie_id] >= self._overall_mean:
            return f"popular and well rated ({count} ratings)"
        return f"rated by {count} people"

    def for_similar(self, movie_ids: list[int], anchor: int) -> list[list[str]]:
        """Reasons a movie is similar to `anchor`: shared director, cast, genres, reviews."""
        a_genres = set(self._genres.get(anchor, []))
        a_director = set(self._director.get(anchor, []))
        a_cast = set(self._cast.get(anchor, []))
        out = []
        for movie in movie_ids:
            reasons = []
            director = [d for d in self._director.get(movie, []) if d in a_director]
            if director:
                reasons.append("same director: " + ", ".join(director))
            cast = [c for c in self._cast.get(movie, []) if c in a_cast][:2]
            if cast:
                reasons.append("also starring " + " and ".join(cast))
            genres = [g for g in self._genres.get(movie, []) if g in a_genres]
            if genres:
                reasons.append("shares genres: " + ", ".join(genres))
            sentiment = self._sentiment_reason(movie)
            if sentiment:
                reasons.append(sentiment)
            if not reasons:
                reasons.append(f"often liked by fans of {self._title.get(anchor, 'this movie')}")
            out.append(reasons[:MAX_REASONS])
        return out


def _rating_stats(model: Any) -> tuple[dict[int, int], dict[int, float], float]:
    """Per movie: how many ratings the model was fitted on and their mean; the overall mean."""
    indices = getattr(model, "_ui_indices", None)
    values = getattr(model, "_ui_ratings", None)
    movie_ids = getattr(model, "movie_ids", None)
    if indices is None or values is None or movie_ids is None or len(indices) == 0:
        return {}, {}, 0.0
    n = len(movie_ids)
    counts = np.bincount(indices, minlength=n)
    sums = np.bincount(indices, weights=np.asarray(values, np.float64), minlength=n)
    ids = np.asarray(movie_ids).tolist()
    rated = counts > 0
    means = np.divide(sums, counts, out=np.zeros(n), where=rated)
    return (
        {m: int(c) for m, c, ok in zip(ids, counts, rated, strict=True) if ok},
        {m: float(v) for m, v, ok in zip(ids, means, rated, strict=True) if ok},
        float(np.mean(values)),
    )
