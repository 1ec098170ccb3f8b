"""Which of a person's ratings say "I liked it", and which say "I did not".

One definition for the newcomer fold-in (`HybridRecommender.recommend_from_ratings`) and for the
reasons (`explain.Explainer`), so that "because you rated X highly" is only ever said of a movie
the model also treated as liked:

* liked: rated at or above the relevance threshold (4 stars), or at least `LIKE_FLOOR` (3 stars)
  and clearly (`MEAN_MARGIN`, one star) above the person's own mean rating;
* disliked: rated at most `DISLIKE_MAX` (2.5 stars, the lower half of the 0.5..5 scale). In the
  fold-in these are negative evidence: movies like them are pushed down, not up;
* everything else is neutral (watched, not loved): positive for "would watch" models (they are
  trained on every rating as "watched"), never a reason.
"""

from __future__ import annotations

import numpy as np

LIKE_THRESHOLD = 4.0  # evaluation.relevance_threshold's default
MEAN_MARGIN = 1.0
LIKE_FLOOR = 3.0
DISLIKE_MAX = 2.5


def liked_mask(ratings: np.ndarray, threshold: float = LIKE_THRESHOLD) -> np.ndarray:
    """True for the ratings that say "liked" (see module docstring)."""
    values = np.asarray(ratings, np.float64)
    if values.size == 0:
        return np.zeros(0, bool)
    above_mean = (values >= LIKE_FLOOR) & (values >= values.mean() + MEAN_MARGIN)
    return (values >= threshold) | above_mean


def disliked_mask(ratings: np.ndarray, threshold: float = LIKE_THRESHOLD) -> np.ndarray:
    """True for the ratings that say "did not like" (never a liked one)."""
    values = np.asarray(ratings, np.float64)
    return (values <= DISLIKE_MAX) & ~liked_mask(values, threshold)
