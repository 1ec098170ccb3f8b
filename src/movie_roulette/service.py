"""Request handling for the served model: one request shape for every kind.

A request is a `Request` (movie_roulette.request, the one validation of its fields) or a mapping
validated into one, with `kind` in {recommend, similar, predict, spin} plus the fields that kind
needs. Malformed requests raise `RequestError` naming the field (the server answers 400);
unknown movies or titles, and a request with nothing left to answer (every movie of the genre
seen), produce an `error` entry naming them, with close title matches.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette import roulette
from movie_roulette.bundle import ModelBundle
from movie_roulette.evaluation.audit import contributions
from movie_roulette.exceptions import UnknownGenreError
from movie_roulette.explain import Explainer
from movie_roulette.logged_feedback import LoggedFeedback
from movie_roulette.request import KINDS, MAX_ID, MAX_K, Request, RequestError, parse_request
from movie_roulette.results import fallback_json
from movie_roulette.search import Resolution, TitleIndex

__all__ = ["KINDS", "MAX_K", "RecommenderService", "RequestError"]

MAX_PROFILE_RATINGS = 500
# Ranked answers are cached per (user, exclude_seen, genre) as the top 20 (the roulette's pool);
# any k <= 20 (the default 10 too) is the first k of it. 10,000 entries of 20 movies with
# reasons are at most ~80 MB. 0 turns the cache off.
ANSWER_CACHE_ENV = "MOVIE_ROULETTE_ANSWER_CACHE"
ANSWER_CACHE_SIZE = 10_000
ANSWER_CACHE_MAX_K = 20
SPIN_POOL = 20
# entries of the answer cache the start-up warm-up leaves free for what the traffic asks for
WARM_RESERVE = 1_000
COLD_START_KEY = "<unknown user>"
_SPACES = re.compile(r"\s+")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _year_suffix(title: str) -> tuple[str, int | None]:
    r"""("Heat", 1995) for "Heat (1995) ", else (title, None); linear in the title's length
    (the regex `\s*\((\d{4})\)\s*$` it replaces was quadratic in a run of spaces)."""
    text = title.rstrip()
    year = text[-5:-1]
    if len(text) >= 6 and text[-6] == "(" and text[-1] == ")" and year.isascii() and year.isdigit():
        return text[:-6].rstrip(), int(year)
    return title, None


def _labelled(title: str, year: int | None) -> str:
    return f"{title} ({year})" if year else title


def _normalise_title(title: str) -> str:
    return _SPACES.sub(" ", _year_suffix(title)[0]).strip().casefold()


class AnswerCache:
    """A bounded LRU of ranked answers. A loaded model never changes, so a user's top-20 (with
    its reasons) is computed once per (user, exclude_seen, genre) and process."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> dict[str, Any] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple, answer: dict[str, Any]) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class RecommenderService:
    """Answers requests from a loaded bundle; stateless between requests."""

    def __init__(self, bundle: ModelBundle, feedback_log: str | Path | None = None) -> None:
        """`feedback_log`: the event log the web app writes a known user's ratings and accepted
        spins to; they are left out of that user's answers until the next training."""
        self.model = bundle.model
        self.feedback = LoggedFeedback(feedback_log)
        self.catalogue = bundle.catalogue.set_index(C.MOVIE_ID, drop=False)
        self.explainer = Explainer(self.model, bundle.catalogue)
        self._info: dict[int, dict[str, Any]] = {}
        self._titles: dict[str, list[int]] = {}
        popularity = (
            pd.to_numeric(self.catalogue[C.POPULARITY], errors="coerce").fillna(0.0)
            if C.POPULARITY in self.catalogue.columns
            else pd.Series(0.0, index=self.catalogue.index)
        )
        rows = []
        for movie_id, title, year, genres, pop in zip(
            self.catalogue[C.MOVIE_ID].to_numpy(),
            self.catalogue[C.TITLE].astype(str),
            self.catalogue[C.YEAR],
            self.catalogue[C.GENRES].astype(str),
            popularity.to_numpy(np.float64),
            strict=True,
        ):
            self._info[int(movie_id)] = {
                "movie_id": int(movie_id),
                "title": title,
                "year": None if _missing(year) else int(year),
                "genres": [g for g in genres.split("|") if g],
            }
            self._titles.setdefault(_normalise_title(title), []).append(int(movie_id))
            rows.append((int(movie_id), title, self._info[int(movie_id)]["year"], float(pop)))
        # the web autocomplete's typo-tolerant matcher, for `similar` by title and `search`
        self.titles = TitleIndex(rows)
        scale = getattr(self.model, "rating_scale", None) or (0.5, 5.0)
        self.rating_scale = (float(scale[0]), float(scale[1]))
        size = os.environ.get(ANSWER_CACHE_ENV, str(ANSWER_CACHE_SIZE))
        self._answers = AnswerCache(int(size) if size.strip().isdigit() else ANSWER_CACHE_SIZE)
        # One computation at a time: a server answers each request in its own thread, and
        # CPU-bound numpy work from 8 threads at once thrashes the GIL (each request paying for
        # the others' switches). Cached answers and bad requests do not wait for it.
        self._compute = threading.Lock()

    # ---- request plumbing -------------------------------------------------------------------
    def handle(self, request: Request | Mapping[str, Any]) -> dict[str, Any]:
        """The answer to one request; `RequestError` naming the field if it is malformed."""
        row = parse_request(request)  # the one validation of the fields (a no-op on a Request)
        k = 10 if row.k is None else row.k
        return getattr(self, f"_{row.kind}")(row, k)

    def movie_info(self, movie_id: int) -> dict[str, Any]:
        return dict(self._info[int(movie_id)])

    def knows_movie(self, movie_id: int) -> bool:
        return int(movie_id) in self._info

    def resolve_title(self, title: str) -> Resolution:
        """The movie a typed title names (case-, accent- and typo-tolerant, the year optional),
        or the candidates when several match (`search.TitleIndex.resolve`)."""
        exact = self._titles.get(_normalise_title(title), [])
        _, wanted_year = _year_suffix(title)
        if wanted_year is not None and len(exact) > 1:
            exact = [m for m in exact if self._info[m]["year"] == wanted_year]
        if len(exact) == 1:  # the catalogue's own title, as the web app shows it
            return Resolution(exact[0], [])
        return self.titles.resolve(title)

    def close_titles(self, title: str, n: int = 5) -> list[str]:
        """Titles (with their year) close to `title`, best first."""
        return [_labelled(m.title, m.year) for m in self.titles.suggest(title, limit=n)]

    def _title_error(self, kind: str, title: str, found: Resolution) -> dict[str, Any]:
        """An error entry for a title that names no movie or several (with the candidates)."""
        labels = [_labelled(m.title, m.year) for m in found.candidates]
        if not found.candidates:
            return {"kind": kind, "error": f"unknown title {title!r}", "did_you_mean": labels}
        return {
            "kind": kind,
            "error": f"ambiguous title {title!r}: {len(labels)} movies match; "
            "give one of their movie_ids (or the full title with its year)",
            "did_you_mean": labels,
            "candidates": [
                {"movie_id": m.movie_id, "title": m.title, "year": m.year} for m in found.candidates
            ],
        }

    def _movies(
        self, pairs: list[tuple[int, float]], reasons: list[list[str]]
    ) -> list[dict[str, Any]]:
        return [
            {**self._info[m], "score": round(float(s), 6), "reasons": r}
            for (m, s), r in zip(pairs, reasons, strict=True)
        ]

    # ---- who is asking ----------------------------------------------------------------------
    def _ratings(self, request: Request) -> dict[int, float] | None:
        """The newcomer profile from `ratings`: a JSON object {"movie_id": rating, ...}."""
        if not request.ratings:
            return None
        try:
            value = json.loads(request.ratings)
        except json.JSONDecodeError as err:
            raise RequestError("ratings", f"is not valid JSON ({err.msg})") from err
        except RecursionError:
            raise RequestError("ratings", "is nested too deeply to be a ratings object") from None
        except ValueError as err:  # e.g. an integer of more than 4300 digits
            raise RequestError("ratings", f"is not valid JSON ({err})") from None
        if not isinstance(value, Mapping) or not value:
            raise RequestError("ratings", 'expected a non-empty object {"movie_id": rating}')
        if len(value) > MAX_PROFILE_RATINGS:
            raise RequestError(
                "ratings", f"has {len(value)} entries; at most {MAX_PROFILE_RATINGS}"
            )
        low, high = self.rating_scale
        out: dict[int, float] = {}
        for key, rating in value.items():
            shown = key if len(key) <= 20 else key[:20] + "..."
            digits = key.isascii() and key.isdigit() and len(key) <= 19
            movie_id = int(key) if digits else -1
            if not 0 <= movie_id <= MAX_ID:
                raise RequestError("ratings", f"key {shown!r} is not a movie id") from None
            if isinstance(rating, bool) or not isinstance(rating, int | float):
                raise RequestError("ratings", f"rating of movie {shown} is not a number")
            if not low <= rating <= high:  # also NaN; an int too large for a float compares exactly
                raise RequestError(
                    "ratings",
                    f"rating {str(rating)[:20]} of movie {shown} is outside {low}..{high}",
                )
            out[movie_id] = float(rating)
        return out

    def _person(self, request: Request, kind: str) -> tuple[int | None, dict | None]:
        user_id = request.user_id
        ratings = self._ratings(request) if kind in ("recommend", "spin") else None
        if user_id is None and ratings is None:
            extra = " (or `ratings` for a newcomer)" if kind in ("recommend", "spin") else ""
            raise RequestError("user_id", f"is required for kind {kind!r}{extra}")
        if user_id is not None and ratings is not None:
            raise RequestError("ratings", "give either user_id or ratings, not both")
        return user_id, ratings

    def _unknown_movies(self, kind: str, ids: list[int]) -> dict[str, Any] | None:
        unknown = [m for m in ids if not self.knows_movie(m)]
        if not unknown:
            return None
        return {"kind": kind, "error": f"unknown movie_id(s) {unknown}", "unknown": unknown}

    def _ranked(self, request: Request, kind: str, k: int, exclude_seen: bool) -> dict[str, Any]:
        """Top-k for a user or a newcomer profile, with reasons; or an error entry.

        A known user's answer is the first k of a cached top-20 when k <= 20: the ranking is a
        total order (ties by movie index) and each movie's reasons are its own, so the first k
        of the top 20 is exactly the top k. Every unknown user gets the same cold-start list,
        cached once per (k, genre) (its genre-diversified pick is not a prefix order).
        """
        user_id, ratings = self._person(request, kind)
        genre = _text(request.genre)
        if ratings is not None:
            error = self._unknown_movies(kind, list(ratings))
            if error:
                return error
        key, depth = None, k
        if ratings is None and self._caches(k):
            folded = genre.casefold() if genre else None
            if self.model.knows_user(user_id):
                key, depth = (user_id, exclude_seen, folded), ANSWER_CACHE_MAX_K
            else:
                key = (COLD_START_KEY, k, folded)

        def compute(depth: int) -> dict[str, Any]:
            try:
                with self._compute:
                    if ratings is not None:
                        recs = self.model.recommend_from_ratings(ratings, k=depth, genre=genre)
                        profile = self.explainer.profile_from_ratings(ratings)
                    else:
                        assert user_id is not None
                        recs = self.model.recommend_items(
                            user_id, k=depth, exclude_seen=exclude_seen, genre=genre
                        )
                        profile = self.explainer.user_profile(user_id)
                    ids = [it.movie_id for it in recs.items]
                    components = [it.components for it in recs.items]
                    reasons = self.explainer.for_people(ids, profile, components)
            except UnknownGenreError as err:  # an answer naming it, not a crash
                return {"kind": kind, "error": str(err)}
            if not recs.items:  # every movie (of the genre) seen: say so, not an empty list
                where = f"in {genre}" if genre else "left"
                unseen = "unseen " if exclude_seen or ratings is not None else ""
                return {"kind": kind, "user_id": user_id, "error": f"no {unseen}movies {where}"}
            answer: dict[str, Any] = {
                "kind": kind,
                "user_id": user_id,
                "fallback": fallback_json(recs.fallback),
            }
            if ratings is not None:
                answer["profile_size"] = len(ratings)
            answer["items"] = self._movies([(it.movie_id, it.score) for it in recs.items], reasons)
            return answer

        overlay = {"kind": kind, "user_id": user_id}
        logged = (
            self.feedback.movies(user_id)
            if exclude_seen and ratings is None and user_id is not None
            else frozenset()
        )
        if not logged:
            return self._through_cache(key, k, depth, compute, overlay)
        # leave out what the user rated or accepted since the model was trained: the cached
        # top 20, or a list deep enough to keep k after dropping every logged movie
        depth = max(depth, k + len(logged)) if key is None else depth
        answer = self._through_cache(key, depth, depth, compute, overlay)
        if "error" in answer:
            return answer
        items = [it for it in answer["items"] if it["movie_id"] not in logged]
        if len(items) < k and len(answer["items"]) == depth < k + len(logged):
            deeper = compute(k + len(logged))
            items = [it for it in deeper["items"] if it["movie_id"] not in logged]
        return {**answer, "items": items[:k]}

    def _caches(self, k: int) -> bool:
        return k <= ANSWER_CACHE_MAX_K and self._answers.max_entries > 0

    def _through_cache(
        self,
        key: tuple | None,
        k: int,
        depth: int,
        compute: Callable[[int], dict[str, Any]],
        overlay: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The answer for `key` with its first k items: from the cache (with `overlay`'s fields,
        which differ between requests sharing the entry), else `compute(depth)`, cached unless
        it is an error entry. key None = not cached."""
        if key is not None:
            cached = self._answers.get(key)
            if cached is not None:
                return {**cached, **(overlay or {}), "items": cached["items"][:k]}
        answer = compute(depth)
        if key is None or "error" in answer:
            return answer
        self._answers.put(key, answer)
        return {**answer, "items": answer["items"][:k]}

    def warm(
        self, budget_seconds: float, max_users: int | None = None, max_movies: int | None = 0
    ) -> dict[str, Any]:
        """Fill the answer cache with the default answer (unseen movies, any genre) of the most
        active known users first, until `max_users`, the cache's size or `budget_seconds`; and
        for each, what the model keeps to answer their `predict` (`prepare_user`). Then, with
        the time left, the `similar` top 20 of the most-rated movies, until `max_movies` (None:
        no limit; 0, the default: none) or the cache's size less `WARM_RESERVE` entries kept
        free for the traffic's own answers.

        The server calls it once at load, before it answers: a known user's first request is
        then served from the cache instead of costing a full scoring (~5 ms on ml-latest-small).
        """
        started = time.perf_counter()
        limit = self._answers.max_entries if max_users is None else max_users
        limit = min(limit, self._answers.max_entries)
        users = self.model.user_ids
        if limit <= 0 or users.size == 0 or budget_seconds <= 0:
            return {"users": 0, "movies": 0, "seconds": 0.0, "complete": users.size == 0}
        counts = self.model.user_rating_counts()
        order = np.argsort(-counts, kind="stable")[:limit]
        done = 0
        for idx in order:
            if time.perf_counter() - started >= budget_seconds:
                break
            request = Request(kind="recommend", user_id=int(users[idx]))
            self._ranked(request, "recommend", ANSWER_CACHE_MAX_K, exclude_seen=True)
            with self._compute:
                self.model.prepare_user(int(users[idx]))
            done += 1
        movies = self._warm_similar(started + budget_seconds, max_movies)
        return {
            "users": done,
            "movies": movies,
            "seconds": round(time.perf_counter() - started, 3),
            "complete": done == users.size,
        }

    def _warm_similar(self, deadline: float, max_movies: int | None) -> int:
        """`similar` answers of the most-rated movies into the cache until `deadline`; how many."""
        room = self._answers.max_entries - len(self._answers) - WARM_RESERVE
        limit = room if max_movies is None else min(room, max_movies)
        if limit <= 0 or time.perf_counter() >= deadline:
            return 0
        counts = self.model.movie_rating_counts()
        order = np.argsort(-counts, kind="stable")
        done = 0
        for movie_id in self.model.movie_ids[order][:limit].tolist():
            if time.perf_counter() >= deadline:
                break
            if self.knows_movie(movie_id):
                self._similar(Request(kind="similar", movie_id=movie_id), ANSWER_CACHE_MAX_K)
                done += 1
        return done

    # ---- kinds ------------------------------------------------------------------------------
    def _recommend(self, request: Request, k: int) -> dict[str, Any]:
        exclude_seen = True if request.exclude_seen is None else request.exclude_seen
        return self._ranked(request, "recommend", k, exclude_seen)

    def _explain(self, request: Request, k: int) -> dict[str, Any]:
        """Why these picks: a known user's top-k with each movie's blend score split by component
        (weight x z-score, `evaluation.audit.contributions`: the parts sum to the score), the
        blend weights and the reasons. Not cached; movies rated through the app since training
        are not left out (the model's own ranking)."""
        user_id, _ = self._person(request, "explain")
        assert user_id is not None
        weights = dict(getattr(self.model, "weights", {}) or {})
        if not self.model.knows_user(user_id):
            return {"kind": "explain", "user_id": user_id, "error": f"unknown user {user_id}"}
        if not weights or not hasattr(self.model, "recommend_items"):
            return {"kind": "explain", "user_id": user_id, "error": "the model is not a blend"}
        with self._compute:
            recs = self.model.recommend_items(user_id, k=k)
            ids = [it.movie_id for it in recs.items]
            components = [it.components for it in recs.items]
            reasons = self.explainer.for_people(
                ids, self.explainer.user_profile(user_id), components
            )
        items = self._movies([(it.movie_id, it.score) for it in recs.items], reasons)
        for item, rec in zip(items, recs.items, strict=True):
            item["contributions"] = {
                n: round(v, 6) for n, v in contributions(rec.components, weights).items()
            }
        return {
            "kind": "explain",
            "user_id": user_id,
            "weights": {n: w for n, w in weights.items() if w != 0.0},
            "items": items,
        }

    def _predict(self, request: Request, k: int) -> dict[str, Any]:
        user_id, _ = self._person(request, "predict")
        assert user_id is not None
        movie_id = request.movie_id
        if movie_id is None:
            raise RequestError("movie_id", "is required for kind 'predict'")
        error = self._unknown_movies("predict", [movie_id])
        if error:
            error["error"] = f"unknown movie_id {movie_id}"
            return error
        with self._compute:
            rating = self.model.predict(user_id, movie_id)
            reasons = self.explainer.for_people([movie_id], self.explainer.user_profile(user_id))
        return {
            "kind": "predict",
            "user_id": user_id,
            **self._info[movie_id],
            "prediction": round(rating.value, 4),
            "reasons": reasons[0],
            "fallback": fallback_json(rating.fallback),
        }

    def _similar(self, request: Request, k: int) -> dict[str, Any]:
        movie_id = request.movie_id
        title = _text(request.title)
        if movie_id is None:
            if title is None:
                raise RequestError("movie_id", "give a movie_id or a title for kind 'similar'")
            found = self.resolve_title(title)
            if found.movie_id is None:
                return self._title_error("similar", title, found)
            movie_id = found.movie_id
        if not self.knows_movie(movie_id):
            return {"kind": "similar", "error": f"unknown movie_id {movie_id}"}

        def compute(depth: int) -> dict[str, Any]:
            with self._compute:
                pairs = self.model.similar_movies(movie_id, k=depth)
                reasons = self.explainer.for_similar([m for m, _ in pairs], movie_id)
            return {
                "kind": "similar",
                "movie": self.movie_info(movie_id),
                "items": self._movies(pairs, reasons),
            }

        # a movie's top 20 (a total order, reasons per movie) answers every k <= 20
        if self._caches(k):
            return self._through_cache(("similar", movie_id), k, ANSWER_CACHE_MAX_K, compute)
        return compute(k)

    def _spin(self, request: Request, k: int) -> dict[str, Any]:
        temperature = 1.0 if request.temperature is None else request.temperature
        seed = request.seed
        pool_size = SPIN_POOL if request.k is None else k  # k = size of the draw pool
        if seed is None:  # drawn here and answered, so that any spin can be repeated
            seed = int(np.random.SeedSequence().entropy % 2**31)
        pool = self._ranked(request, "spin", pool_size, exclude_seen=True)
        if "error" in pool:
            return pool
        items = pool.pop("items")
        scores = np.array([it["score"] for it in items], dtype=np.float64)
        pick = roulette.draw(scores, temperature, seed)
        return {
            **pool,
            "pool_size": len(items),
            "seed": seed,
            "temperature": temperature,
            "item": items[pick],
        }

    def _search(self, request: Request, k: int) -> dict[str, Any]:
        """Movies whose title matches `title` (the web autocomplete's matcher), best first: the
        ids for `predict` and a newcomer's `ratings`."""
        title = _text(request.title)
        if title is None:
            raise RequestError("title", "is required for kind 'search'")
        found = self.titles.suggest(title, limit=k)
        return {
            "kind": "search",
            "query": title,
            "items": [self.movie_info(m.movie_id) for m in found if self.knows_movie(m.movie_id)],
        }
