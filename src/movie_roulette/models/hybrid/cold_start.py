"""Cold start: what a user nobody knows is shown (popularity mixed with a shrunk mean rating,
picked greedily for genre diversity), genre filters, and movie-to-movie similarity from a
component that describes movies (content) when no rating links a movie to others."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from movie_roulette.exceptions import UnknownGenreError, UnknownMovieError
from movie_roulette.features.text import split_genres
from movie_roulette.models.base import Recommender, top_k_indices
from movie_roulette.models.hybrid.blend import zscore


def genre_sets(genres: Sequence[str]) -> list[frozenset[str]]:
    return [frozenset(g.lower() for g in split_genres(s)) for s in genres]


def genre_mask(
    genre: str | None, sets: Sequence[frozenset[str]], genres: Sequence[str]
) -> np.ndarray:
    """Movies of a genre (case-insensitive); every movie for None; UnknownGenreError naming the
    known genres when none matches."""
    if genre is None:
        return np.ones(len(sets), bool)
    wanted = genre.strip().lower()
    mask = np.array([wanted in g for g in sets], bool)
    if not mask.any():
        known = sorted({g for s in genres for g in split_genres(s)})
        raise UnknownGenreError(f"genre: {genre!r} matches no movie; known genres are {known}.")
    return mask


def cold_start_scores(
    components: Mapping[str, Recommender],
    positions: Mapping[str, np.ndarray],
    rating_counts: np.ndarray,
    mean_ratings: np.ndarray,
) -> np.ndarray:
    """Popularity (log count) mixed with a Bayesian-shrunk mean rating, both z-scored. The
    counts and means come from the first component with a `movie_prior` (popularity), else from
    the hybrid's own training counts and baseline (`rating_counts`, `mean_ratings`)."""
    n = len(rating_counts)
    counts, quality = np.log1p(rating_counts.astype(np.float64)), mean_ratings
    for name, comp in components.items():
        prior = comp.movie_prior()
        if prior is None:
            continue
        pos = positions[name]
        ok = pos >= 0
        counts, quality = np.full(n, np.nan), np.full(n, np.nan)
        counts[ok] = np.log1p(np.clip(prior[0][pos[ok]], 0, None))
        quality[ok] = prior[1][pos[ok]]
        break
    everything = np.ones(n, bool)
    return 0.5 * zscore(counts, everything) + 0.5 * zscore(quality, everything)


def diverse_pick(
    base: np.ndarray, sets: Sequence[frozenset[str]], diversity: float, k: int
) -> list[int]:
    """Greedy genre-diversified pick of k positions from the best `base` scores (-inf = not
    allowed): each pick's score is lowered by `diversity` x how often its genres were picked."""
    pool = top_k_indices(base, max(20 * k, 50))
    chosen: list[int] = []
    genre_counts: dict[str, int] = {}
    remaining = list(pool)
    while remaining and len(chosen) < k:
        best, best_value = None, -np.inf
        for j in remaining:
            gs = sets[j]
            penalty = sum(genre_counts.get(g, 0) for g in gs) / max(len(gs), 1)
            value = base[j] - diversity * penalty
            if value > best_value:
                best, best_value = j, value
        assert best is not None
        remaining.remove(best)
        chosen.append(int(best))
        for g in sets[best]:
            genre_counts[g] = genre_counts.get(g, 0) + 1
    return chosen


def described_similar(
    components: Mapping[str, Recommender], movie_id: int, k: int
) -> list[tuple[int, float]]:
    """The k movies most similar to `movie_id` by the first component offering
    `movie_similarities` (content cosine), ties by lower id; UnknownMovieError if none knows it."""
    for comp in components.values():
        pos = comp.movie_positions([movie_id])[0]
        if pos < 0:
            continue
        sims = comp.movie_similarities(int(pos))
        if sims is None:
            continue
        sims = np.array(sims, np.float64)
        sims[pos] = -np.inf
        order = np.lexsort((comp.movie_ids, -sims))[:k]
        return [(int(comp.movie_ids[j]), float(sims[j])) for j in order if sims[j] > -np.inf]
    raise UnknownMovieError(f"movie {movie_id} is not known to the model")
