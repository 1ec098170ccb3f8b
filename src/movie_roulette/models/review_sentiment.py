"""Per-movie review sentiment: scoring reviews, aggregating them, and the hybrid's signal.

* `score_reviews(reviews, model)` adds `sentiment` (probability positive) and `sentiment_label`.
* `aggregate_sentiment(scored, exclude_pairs=...)` gives one row per reviewed movie:
  `sentiment_positive_share` (share of reviews labelled positive), `sentiment_count` and
  `sentiment_confidence` = 1 - width of the 95 % Wilson interval of that share (0 with no
  reviews, towards 1 with many reviews that agree). Reviews written by a user about a movie
  whose rating is held out (valid/test pairs) are excluded, so the signal cannot leak the
  answer; scraped reviews have no MovieLens user and are always kept.
* `add_sentiment_columns(catalogue, aggregates)` puts those three columns on the catalogue
  (NaN / 0 / 0.0 for movies without reviews).
* `ReviewSentimentRecommender` is the hybrid component "sentiment": the same score for every
  user, the Bayesian-shrunk positive share (pos + m * global share) / (n + m), so a movie with
  two glowing reviews does not beat one with 200 mostly positive ones, and an unreviewed movie
  sits at the global share. The hybrid z-scores it like any component and chooses its weight on
  the validation split (0 when it does not help).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.data._frames import coerce_reviews
from movie_roulette.models.base import Interactions, Recommender
from movie_roulette.ratings_source import Part, as_sources, rows_where

SENTIMENT_COMPONENT = "sentiment"
POSITIVE, NEGATIVE = "positive", "negative"
Z95 = 1.959963984540054


def score_reviews(reviews: pd.DataFrame, model: Any) -> pd.DataFrame:
    """The review frame (REVIEW_COLUMNS, missing optional ones filled) with `sentiment` and
    `sentiment_label` from `model.predict_proba`. Empty texts are dropped."""
    frame = normalise_reviews(reviews)
    frame = frame[frame[C.REVIEW_TEXT].str.strip() != ""].reset_index(drop=True)
    proba = model.predict_proba(frame[C.REVIEW_TEXT].tolist()) if len(frame) else np.empty(0)
    frame[C.SENTIMENT] = np.asarray(proba, dtype="float64")
    frame[C.SENTIMENT_LABEL] = np.where(frame[C.SENTIMENT] >= 0.5, POSITIVE, NEGATIVE)
    frame[C.SENTIMENT_LABEL] = frame[C.SENTIMENT_LABEL].astype(str)
    return frame[C.SCORED_REVIEW_COLUMNS]


def normalise_reviews(reviews: pd.DataFrame) -> pd.DataFrame:
    """REVIEW_COLUMNS with contract dtypes; optional text columns default to ""."""
    missing = [c for c in (C.REVIEW_ID, C.MOVIE_ID, C.REVIEW_TEXT) if c not in reviews.columns]
    if missing:
        raise ValueError(
            f"reviews: missing column(s) {missing}; a review frame needs review_id, movie_id "
            "and review (see movie_roulette.columns.REVIEW_COLUMNS)."
        )
    out = coerce_reviews(reviews.reindex(columns=C.REVIEW_COLUMNS).copy())
    return out.reset_index(drop=True)


def wilson_interval(positive: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson score interval of positive/n (n > 0)."""
    n = np.asarray(n, dtype=np.float64)
    p = np.asarray(positive, dtype=np.float64) / n
    z2 = Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


def aggregate_sentiment(
    scored: pd.DataFrame, exclude_pairs: Part | Sequence[Part] | None = None
) -> pd.DataFrame:
    """movie_id, sentiment_positive_share, sentiment_count, sentiment_confidence per reviewed
    movie. Reviews whose (user_id, movie_id) is in `exclude_pairs` (a frame or `RatingsSource`,
    or several: the held-out valid and test parts) are left out; the parts are read a batch at
    a time, keeping only the rows of reviewing users (at 25M ratings, valid and test are 10M
    rows)."""
    frame = scored
    if exclude_pairs is not None and frame[C.USER_ID].notna().any():
        has_user = frame[C.USER_ID].notna().to_numpy()
        users = frame[C.USER_ID].fillna(-1).astype("int64").to_numpy()
        pairs = pd.MultiIndex.from_arrays([users, frame[C.MOVIE_ID].astype("int64").to_numpy()])
        pair_columns = [C.USER_ID, C.MOVIE_ID]  # (the reviewers' held-out rows only are kept)
        held = rows_where(as_sources(exclude_pairs), C.USER_ID, users[has_user], pair_columns)
        held_pairs = pd.MultiIndex.from_frame(held.astype("int64"))
        frame = frame[~(has_user & pairs.isin(held_pairs))]
    if frame.empty:
        return pd.DataFrame(
            {
                C.MOVIE_ID: pd.Series(dtype="int64"),
                C.SENTIMENT_SHARE: pd.Series(dtype="float64"),
                C.SENTIMENT_COUNT: pd.Series(dtype="int64"),
                C.SENTIMENT_CONFIDENCE: pd.Series(dtype="float64"),
            }
        )
    positive = (frame[C.SENTIMENT_LABEL] == POSITIVE).astype("int64")
    grouped = positive.groupby(frame[C.MOVIE_ID].astype("int64"))
    pos, n = grouped.sum(), grouped.count()
    low, high = wilson_interval(pos.to_numpy(), n.to_numpy())
    return pd.DataFrame(
        {
            C.MOVIE_ID: n.index.to_numpy(dtype="int64"),
            C.SENTIMENT_SHARE: (pos / n).to_numpy(dtype="float64"),
            C.SENTIMENT_COUNT: n.to_numpy(dtype="int64"),
            C.SENTIMENT_CONFIDENCE: np.clip(1.0 - (high - low), 0.0, 1.0),
        }
    )


def add_sentiment_columns(catalogue: pd.DataFrame, aggregates: pd.DataFrame) -> pd.DataFrame:
    """The catalogue with SENTIMENT_COLUMNS (replacing any it had)."""
    out = catalogue.drop(columns=[c for c in C.SENTIMENT_COLUMNS if c in catalogue.columns])
    table = aggregates.set_index(C.MOVIE_ID)
    ids = out[C.MOVIE_ID].astype("int64")
    out[C.SENTIMENT_SHARE] = ids.map(table[C.SENTIMENT_SHARE]).astype("float64").to_numpy()
    out[C.SENTIMENT_COUNT] = ids.map(table[C.SENTIMENT_COUNT]).fillna(0).astype("int64").to_numpy()
    conf = ids.map(table[C.SENTIMENT_CONFIDENCE]).fillna(0.0)
    out[C.SENTIMENT_CONFIDENCE] = conf.astype("float64").to_numpy()
    return out


def sentiment_summary(catalogue_row: Mapping[str, Any]) -> dict[str, Any] | None:
    """{"positive_share", "count", "confidence", "reason"} for a catalogue row, None when the
    movie has no scored reviews (or the catalogue predates sentiment). For the web app/service:
    reason is e.g. "reviews 82% positive (41 reviews)"."""
    count = catalogue_row.get(C.SENTIMENT_COUNT)
    share = catalogue_row.get(C.SENTIMENT_SHARE)
    if count is None or pd.isna(count) or int(count) == 0 or share is None or pd.isna(share):
        return None
    count = int(count)
    return {
        "positive_share": round(float(share), 4),
        "count": count,
        "confidence": round(float(catalogue_row.get(C.SENTIMENT_CONFIDENCE) or 0.0), 4),
        "reason": f"reviews {round(100 * float(share))}% positive "
        f"({count} review{'s' if count != 1 else ''})",
    }


class ReviewSentimentRecommender(Recommender):
    """Ranks movies by their shrunk share of positive reviews (same for every user)."""

    name: ClassVar[str] = SENTIMENT_COMPONENT
    knows_catalogue: ClassVar[bool] = True
    profile_reads_values: ClassVar[bool] = True  # a profile changes nothing
    _params: ClassVar[tuple[str, ...]] = ("prior_strength",)

    def __init__(
        self, prior_strength: float = 5.0, rating_scale: tuple[float, float] | None = None
    ) -> None:
        super().__init__(rating_scale)
        if prior_strength < 0:
            raise ValueError(f"prior_strength: must be >= 0, got {prior_strength}.")
        self.prior_strength = float(prior_strength)
        self.shares = np.empty(0)
        self.global_share = 0.5

    def _fit(self, data: Interactions, catalogue: pd.DataFrame | None) -> None:
        n = np.zeros(self.n_movies)
        pos = np.zeros(self.n_movies)
        if catalogue is not None and C.SENTIMENT_SHARE in catalogue.columns:
            table = catalogue.drop_duplicates(C.MOVIE_ID).set_index(C.MOVIE_ID)
            counts = pd.to_numeric(table[C.SENTIMENT_COUNT], errors="coerce").fillna(0)
            shares = pd.to_numeric(table[C.SENTIMENT_SHARE], errors="coerce").fillna(0.0)
            n = counts.reindex(self.movie_ids).fillna(0).to_numpy(np.float64)
            pos = (shares * counts).reindex(self.movie_ids).fillna(0).to_numpy(np.float64)
        self.global_share = float(pos.sum() / n.sum()) if n.sum() > 0 else 0.5
        m = self.prior_strength
        self.shares = (pos + m * self.global_share) / np.maximum(n + m, 1e-12)

    def _score_all(self, user_idx: int) -> np.ndarray:
        return self.shares

    def _score_profile(self, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        return self.shares

    def score_ratings(self, ratings: Mapping[int, float]) -> np.ndarray:
        self._check_fitted()
        return self.shares.copy()

    def _get_extra_meta(self) -> dict[str, Any]:
        return {"global_share": self.global_share}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {"shares": self.shares}

    def _set_state(self, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.shares = np.asarray(arrays["shares"], np.float64)
        self.global_share = float(meta.get("extra", {}).get("global_share", 0.5))


def has_sentiment(catalogue: pd.DataFrame | None) -> bool:
    """True when the catalogue carries at least one movie with scored reviews."""
    return (
        catalogue is not None
        and C.SENTIMENT_COUNT in catalogue.columns
        and bool((pd.to_numeric(catalogue[C.SENTIMENT_COUNT], errors="coerce") > 0).any())
    )


def add_sentiment_component(
    components: Mapping[str, Recommender],
    catalogue: pd.DataFrame | None,
    use_sentiment: bool | None = None,
    prior_strength: float = 5.0,
) -> dict[str, Recommender]:
    """The hybrid's components plus "sentiment" when `use_sentiment` is True, or when it is
    None (auto) and the catalogue has scored reviews."""
    out = dict(components)
    if use_sentiment is None:
        use_sentiment = has_sentiment(catalogue)
    if use_sentiment:
        out[SENTIMENT_COMPONENT] = ReviewSentimentRecommender(prior_strength=prior_strength)
    return out
