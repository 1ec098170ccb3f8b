"""A newcomer's few ratings, scored by each component without refitting (fold-in).

Disliked ratings (`taste.disliked_mask`) are negative evidence: a component that reads every
rating as "watched" (`profile_reads_values` False: EASE, item-kNN, content) scores the rest of
the profile minus `DISLIKE_WEIGHT` times what it scores for the disliked movies alone, so movies
like them go down. Components that read the values themselves (SVD's fold-in) get the profile as
is; components that are not personal (popularity) score the same whatever the profile."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from movie_roulette.models.base import Recommender
from movie_roulette.models.component_api import UserRows
from movie_roulette.taste import disliked_mask

# fold-in: a disliked movie's similarity scores are subtracted at this weight. Any negative
# weight costs newcomer NDCG@10 on ml-latest-small (benchmarks/fold_in.py, 300 users, 10-rating
# profiles: 0.1752 when low ratings counted as likes; 0.1695 ignoring them; 0.1656 at 0.25;
# 0.1619 at 0.5; 0.1549 at 1.0): 0.25 pushes movies like a disliked one down at the least cost.
DISLIKE_WEIGHT = 0.25


def _score(comp: Recommender, positions: np.ndarray, values: np.ndarray) -> np.ndarray:
    order = np.argsort(positions, kind="stable")
    rows = UserRows.from_profiles([(positions[order], values[order])])
    return comp.score_rows(rows)[0]


def profile_scores(
    components: Mapping[str, Recommender], ratings: Mapping[int, float], top_rating: float
) -> dict[str, np.ndarray]:
    """Each component's scores over its own movies for a profile {movie_id: rating}; components
    that know none of the movies (unless not personal) or cannot score profiles are left out."""
    ids = np.fromiter(ratings.keys(), np.int64, len(ratings))
    values = np.fromiter(ratings.values(), np.float64, len(ratings))
    out = {}
    for name, comp in components.items():
        pos = comp.movie_positions(ids)
        known = pos >= 0
        if not known.any() and comp.personal:
            continue
        pos, vals = pos[known], values[known]
        try:
            if comp.profile_reads_values:
                out[name] = _score(comp, pos, vals)
                continue
            bad = disliked_mask(vals)
            scores = np.asarray(_score(comp, pos[~bad], vals[~bad]), np.float64)
            if bad.any():
                disliked = _score(comp, pos[bad], np.full(int(bad.sum()), top_rating))
                scores = scores - DISLIKE_WEIGHT * np.asarray(disliked, np.float64)
            out[name] = scores
        except NotImplementedError:
            continue
    return out
