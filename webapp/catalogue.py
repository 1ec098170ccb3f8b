"""What the web app shows without the model server: the catalogue, reviews and known users.

Read from a model bundle folder. The optional columns (runtime, vote_average, vote_count,
poster_path, release_date, per-movie sentiment) and the optional reviews table are shown when
present; pages degrade gracefully when they are absent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import bundle
from movie_roulette import columns as C
from movie_roulette.exceptions import BundleError

REVIEWS_FILE = "reviews.parquet"
POSITIVE_THRESHOLD = 0.5


def _clean(value: Any) -> Any:
    """None for NaN/NA/empty strings; plain Python scalars otherwise."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _split(value: Any) -> list[str]:
    text = _clean(value)
    return [part.strip() for part in str(text).split("|") if part.strip()] if text else []


def _float(value: Any) -> float | None:
    value = _clean(value)
    try:
        number = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


@dataclass(frozen=True)
class Review:
    review_id: str
    author: str | None
    title: str | None
    text: str
    rating: float | None
    sentiment: float | None  # probability that the review is positive
    label: str | None  # "positive" | "negative" | None when the review was not scored


@dataclass(frozen=True)
class SentimentSummary:
    positive_share: float  # 0..1
    count: int
    confidence: float | None

    @property
    def percent_positive(self) -> int:
        return round(100 * self.positive_share)


def _label(label: Any, sentiment: float | None) -> str | None:
    text = _clean(label)
    if text is not None:
        text = str(text).lower()
        if text in {"positive", "pos", "1", "true"}:
            return "positive"
        if text in {"negative", "neg", "0", "false"}:
            return "negative"
    if sentiment is not None:
        return "positive" if sentiment >= POSITIVE_THRESHOLD else "negative"
    return None


class CatalogueStore:
    """Movies by id, reviews by movie, the known users and the genres of one bundle."""

    def __init__(
        self,
        catalogue: pd.DataFrame,
        user_ids: np.ndarray | list[int],
        reviews: pd.DataFrame | None = None,
    ) -> None:
        missing = [c for c in (C.MOVIE_ID, C.TITLE) if c not in catalogue.columns]
        if missing:
            raise BundleError(f"catalogue: missing column(s) {missing}; rebuild the bundle.")
        frame = catalogue.drop_duplicates(C.MOVIE_ID).reset_index(drop=True)
        if C.POPULARITY not in frame.columns:
            frame[C.POPULARITY] = 0.0
        frame[C.POPULARITY] = pd.to_numeric(frame[C.POPULARITY], errors="coerce").fillna(0.0)
        self.frame = frame
        self._rows: dict[int, dict[str, Any]] = {
            int(row[C.MOVIE_ID]): row for row in frame.to_dict(orient="records")
        }
        self.user_ids = [int(u) for u in np.sort(np.asarray(user_ids, np.int64))]
        genres = sorted({g for value in frame.get(C.GENRES, []) for g in _split(value)})
        self.genres = [g for g in genres if not g.startswith("(")]  # "(no genres listed)"
        self._reviews: dict[int, list[Review]] = {}
        if reviews is not None and not reviews.empty and C.MOVIE_ID in reviews.columns:
            self._index_reviews(reviews)

    # ---- loading ----------------------------------------------------------------------------
    @classmethod
    def from_bundle(cls, path: str | Path) -> CatalogueStore:
        path = Path(path)
        catalogue = bundle.load_catalogue(path)
        user_ids = bundle.load_user_ids(path)
        reviews = None
        if (path / REVIEWS_FILE).is_file():
            try:
                reviews = pd.read_parquet(path / REVIEWS_FILE)
            except Exception as err:  # pyarrow raises several error types for broken files
                raise BundleError(
                    f"bundle file {path / REVIEWS_FILE} cannot be read ({err}); rebuild the bundle."
                ) from err
        return cls(catalogue, user_ids, reviews)

    def _index_reviews(self, reviews: pd.DataFrame) -> None:
        text_col = C.REVIEW_TEXT if C.REVIEW_TEXT in reviews.columns else None
        if text_col is None:
            return
        for n, row in enumerate(reviews.to_dict(orient="records")):
            text = _clean(row.get(text_col))
            movie_id = _int(row.get(C.MOVIE_ID))
            if text is None or movie_id is None:
                continue
            sentiment = _float(row.get("sentiment"))
            review = Review(
                review_id=str(_clean(row.get(C.REVIEW_ID)) or n),
                author=_clean(row.get("author")),
                title=_clean(row.get("title")),
                text=str(text),
                rating=_float(row.get(C.RATING)),
                sentiment=sentiment,
                label=_label(row.get("sentiment_label"), sentiment),
            )
            self._reviews.setdefault(movie_id, []).append(review)

    # ---- lookups ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, movie_id: object) -> bool:
        return movie_id in self._rows

    def index_rows(self) -> list[tuple[int, str, int | None, float]]:
        """(movie_id, title, year, popularity) for the title search."""
        return [
            (m, str(row[C.TITLE]), _int(row.get(C.YEAR)), float(row[C.POPULARITY]))
            for m, row in self._rows.items()
        ]

    def knows_user(self, user_id: int) -> bool:
        i = int(np.searchsorted(self.user_ids, user_id))
        return i < len(self.user_ids) and self.user_ids[i] == user_id

    def card(self, movie_id: int) -> dict[str, Any] | None:
        """The short form shown in lists: id, title, year, genres, poster flag."""
        row = self._rows.get(movie_id)
        if row is None:
            return None
        return {
            "movie_id": movie_id,
            "title": str(row[C.TITLE]),
            "year": _int(row.get(C.YEAR)),
            "genres": _split(row.get(C.GENRES)),
        }

    def movie(self, movie_id: int) -> dict[str, Any] | None:
        """Everything the movie page shows; absent optional fields are None or []."""
        row = self._rows.get(movie_id)
        if row is None:
            return None
        card = self.card(movie_id)
        assert card is not None
        imdb_id = _clean(row.get(C.IMDB_ID))
        release = _clean(row.get("release_date"))
        return {
            **card,
            "director": _clean(row.get(C.DIRECTOR)),
            "cast": _split(row.get(C.CAST)),
            "keywords": _split(row.get(C.KEYWORDS)),
            "overview": _clean(row.get(C.OVERVIEW)),
            "runtime": _int(row.get("runtime")) or None,
            "vote_average": _float(row.get("vote_average")),
            "vote_count": _int(row.get("vote_count")),
            "release_date": str(release)[:10] if release is not None else None,
            "poster_path": _clean(row.get("poster_path")),
            "imdb_id": str(imdb_id) if imdb_id else None,
            "tmdb_id": _int(row.get(C.TMDB_ID)),
        }

    def title_of(self, movie_id: int) -> str | None:
        row = self._rows.get(movie_id)
        return None if row is None else str(row[C.TITLE])

    def poster_path(self, movie_id: int) -> str | None:
        row = self._rows.get(movie_id)
        return None if row is None else _clean(row.get("poster_path"))

    def reviews(self, movie_id: int) -> list[Review]:
        return self._reviews.get(movie_id, [])

    def sentiment(self, movie_id: int) -> SentimentSummary | None:
        """The movie's review sentiment: the bundle's per-movie columns when present,
        else computed from its scored reviews; None when nothing is known."""
        row = self._rows.get(movie_id)
        if row is None:
            return None
        share = _float(row.get("sentiment_positive_share"))
        count = _int(row.get("sentiment_count"))
        if share is not None and count:
            return SentimentSummary(
                positive_share=min(max(share, 0.0), 1.0),
                count=count,
                confidence=_float(row.get("sentiment_confidence")),
            )
        labels = [r.label for r in self.reviews(movie_id) if r.label is not None]
        if not labels:
            return None
        positive = sum(label == "positive" for label in labels)
        return SentimentSummary(positive / len(labels), len(labels), None)

    def starter_movies(self, n: int = 12, page: int = 0) -> list[dict[str, Any]]:
        """Well-known movies for a newcomer to rate: the most popular, at most two per
        leading genre so that tastes can show; `page` moves on to the next set."""
        if n < 1:
            raise ValueError(f"n: {n} must be >= 1")
        ordered = self.frame.sort_values(
            [C.POPULARITY, C.MOVIE_ID], ascending=[False, True], kind="mergesort"
        )
        picked: list[int] = []
        per_genre: dict[str, int] = {}
        for movie_id, genres in zip(
            ordered[C.MOVIE_ID].to_numpy(), ordered.get(C.GENRES, [""] * len(ordered)), strict=True
        ):
            lead = (_split(genres) or ["?"])[0]
            if per_genre.get(lead, 0) >= 2 * (page + 1):
                continue
            per_genre[lead] = per_genre.get(lead, 0) + 1
            picked.append(int(movie_id))
            if len(picked) >= n * (page + 1):
                break
        chosen = picked[n * page : n * (page + 1)] or picked[:n]
        return [card for m in chosen if (card := self.card(m)) is not None]
