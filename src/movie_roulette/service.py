"""Request handling for the served model: one request shape for every kind.

A request is a mapping with `kind` in {recommend, similar, predict, spin} plus the fields that
kind needs. Malformed requests raise `RequestError` naming the field (the server answers 400);
unknown movies or titles produce an `error` entry naming them, with close title matches.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.bundle import ModelBundle

KINDS = ("recommend", "similar", "predict", "spin")
MAX_K = 100
_YEAR_SUFFIX = re.compile(r"\s*\((\d{4})\)\s*$")


class RequestError(ValueError):
    """A request is malformed; the message names the field and what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _int_field(request: Mapping[str, Any], field: str, default: int | None = None) -> int | None:
    value = request.get(field)
    if _missing(value):
        return default
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float | np.floating):
        raise RequestError(field, f"expected an integer, got {value!r}")
    if float(value) != int(value):
        raise RequestError(field, f"expected an integer, got {value!r}")
    return int(value)


def _normalise_title(title: str) -> str:
    return re.sub(r"\s+", " ", _YEAR_SUFFIX.sub("", title)).strip().casefold()


class RecommenderService:
    """Answers requests from a loaded bundle; stateless between requests."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.model = bundle.model
        self.catalogue = bundle.catalogue.set_index(C.MOVIE_ID, drop=False)
        self._titles: dict[str, list[int]] = {}
        for movie_id, title in zip(
            self.catalogue[C.MOVIE_ID].to_numpy(), self.catalogue[C.TITLE].astype(str), strict=True
        ):
            self._titles.setdefault(_normalise_title(title), []).append(int(movie_id))

    # ---- request plumbing -------------------------------------------------------------------
    def handle_frame(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        if "kind" not in frame.columns:
            raise RequestError("kind", f"is required; one of {list(KINDS)}")
        return [self.handle(row) for row in frame.to_dict(orient="records")]

    def handle(self, request: Mapping[str, Any]) -> dict[str, Any]:
        kind = request.get("kind")
        if kind not in KINDS:
            raise RequestError("kind", f"{kind!r} is not one of {list(KINDS)}")
        k = _int_field(request, "k", 10)
        assert k is not None
        if not 1 <= k <= MAX_K:
            raise RequestError("k", f"{k} is outside 1..{MAX_K}")
        return getattr(self, f"_{kind}")(request, k)

    def movie_info(self, movie_id: int) -> dict[str, Any]:
        row = self.catalogue.loc[movie_id]
        year = row[C.YEAR]
        return {
            "movie_id": int(movie_id),
            "title": str(row[C.TITLE]),
            "year": None if _missing(year) else int(year),
            "genres": [g for g in str(row[C.GENRES]).split("|") if g],
        }

    def resolve_title(self, title: str) -> list[int]:
        """Movie ids for a title, case-insensitive, with or without the year."""
        wanted_year = _YEAR_SUFFIX.search(title)
        ids = self._titles.get(_normalise_title(title), [])
        if wanted_year and len(ids) > 1:
            year = int(wanted_year.group(1))
            ids = [m for m in ids if self.movie_info(m)["year"] == year] or ids
        return ids

    def close_titles(self, title: str, n: int = 5) -> list[str]:
        matches = difflib.get_close_matches(
            _normalise_title(title), list(self._titles), n=n, cutoff=0.6
        )
        return [self.movie_info(self._titles[m][0])["title"] for m in matches]

    def _items(self, pairs: list[tuple[int, float]]) -> list[dict[str, Any]]:
        return [{**self.movie_info(m), "score": round(float(s), 6)} for m, s in pairs]

    # ---- kinds ------------------------------------------------------------------------------
    def _user(self, request: Mapping[str, Any]) -> int:
        user_id = _int_field(request, "user_id")
        if user_id is None:
            raise RequestError("user_id", "is required for this kind")
        return user_id

    def _recommend(self, request: Mapping[str, Any], k: int) -> dict[str, Any]:
        user_id = self._user(request)
        genre = request.get("genre")
        genre = None if _missing(genre) or genre == "" else str(genre)
        exclude = request.get("exclude_seen")
        exclude_seen = True if _missing(exclude) else bool(exclude)
        recs = self.model.recommend_items(user_id, k=k, exclude_seen=exclude_seen, genre=genre)
        return {
            "kind": "recommend",
            "user_id": user_id,
            "fallback": recs.fallback,
            "items": self._items([(it.movie_id, it.score) for it in recs.items]),
        }

    def _predict(self, request: Mapping[str, Any], k: int) -> dict[str, Any]:
        user_id = self._user(request)
        movie_id = _int_field(request, "movie_id")
        if movie_id is None:
            raise RequestError("movie_id", "is required for kind 'predict'")
        if movie_id not in self.catalogue.index:
            return {"kind": "predict", "error": f"unknown movie_id {movie_id}"}
        rating = float(self.model.predict_rating(user_id, np.array([movie_id]))[0])
        return {
            "kind": "predict",
            "user_id": user_id,
            **self.movie_info(movie_id),
            "prediction": round(rating, 4),
            "fallback": None if self.model.knows_user(user_id) else "unknown_user:baseline",
        }

    def _similar(self, request: Mapping[str, Any], k: int) -> dict[str, Any]:
        movie_id = _int_field(request, "movie_id")
        title = request.get("title")
        if movie_id is None:
            if _missing(title) or not str(title).strip():
                raise RequestError("movie_id", "give a movie_id or a title for kind 'similar'")
            ids = self.resolve_title(str(title))
            if not ids:
                return {
                    "kind": "similar",
                    "error": f"unknown title {title!r}",
                    "did_you_mean": self.close_titles(str(title)),
                }
            movie_id = ids[0]
        if movie_id not in self.catalogue.index:
            return {"kind": "similar", "error": f"unknown movie_id {movie_id}"}
        pairs = self.model.similar_movies(movie_id, k=k)
        return {"kind": "similar", "movie": self.movie_info(movie_id), "items": self._items(pairs)}

    def _spin(self, request: Mapping[str, Any], k: int) -> dict[str, Any]:
        user_id = self._user(request)
        temperature = request.get("temperature")
        temperature = 1.0 if _missing(temperature) else float(temperature)
        if not math.isfinite(temperature) or temperature <= 0:
            raise RequestError("temperature", f"{temperature} must be a positive number")
        seed = _int_field(request, "seed")
        pool = max(k, 20)
        recs = self.model.recommend_items(user_id, k=pool, exclude_seen=True)
        scores = np.array([it.score for it in recs.items], dtype=np.float64)
        logits = (scores - scores.max()) / (temperature * (scores.std() or 1.0))
        probs = np.exp(logits) / np.exp(logits).sum()
        pick = int(np.random.default_rng(seed).choice(len(scores), p=probs))
        chosen = recs.items[pick]
        return {
            "kind": "spin",
            "user_id": user_id,
            "fallback": recs.fallback,
            "pool_size": len(scores),
            "seed": seed,
            "item": {**self.movie_info(chosen.movie_id), "score": round(float(chosen.score), 6)},
        }
