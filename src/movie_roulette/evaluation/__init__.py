"""Rating, ranking and beyond-accuracy metrics, offline evaluation and behavioural checks."""

from movie_roulette.evaluation.behaviour import (
    BehaviourReport,
    raise_for_failure,
    run_behavioural_checks,
)
from movie_roulette.evaluation.offline import evaluate, evaluate_many

__all__ = [
    "BehaviourReport",
    "evaluate",
    "evaluate_many",
    "raise_for_failure",
    "run_behavioural_checks",
]
