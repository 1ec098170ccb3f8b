"""The hybrid recommender package (issue 13): one module per job.

* `model`: `HybridRecommender` (fit, serve: recommend, fold-in, similar movies, ratings; state);
* `blend`: score scales, per-user z-scores, fold-in calibration;
* `fused`: the served blend (z-scores as affine maps, one pass per component);
* `tuning`: blend-weight search on a user sample and candidate sets, `evaluation.metrics` NDCG;
* `rating_stack`: the feature-weighted linear rating stack;
* `cold_start`: cold-start list, genre filter, content similarity;
* `fold_in`: a newcomer's profile scored by each component;
* `components`: the dense and scalable component sets, the up-front memory-budget check;
* `training`: `train_hybrid`, what the pipeline runs.
"""

from movie_roulette.exceptions import UnknownUserError
from movie_roulette.models.hybrid.components import check_memory_budget, make_components
from movie_roulette.models.hybrid.model import HybridRecommender
from movie_roulette.models.hybrid.training import train_hybrid
from movie_roulette.results import Fallback, Recommendations, RecommendedItem

COLD_START = Fallback.COLD_START

__all__ = [
    "COLD_START",
    "HybridRecommender",
    "RecommendedItem",
    "Recommendations",
    "UnknownUserError",
    "check_memory_budget",
    "make_components",
    "train_hybrid",
]
