"""Which arm serves a user: sticky hashing (A/B) or Thompson sampling (bandit)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

from movie_roulette.experiments.record import CHALLENGER, PRODUCTION, Experiment


def hash_share(experiment_id: str, user_key: str | int) -> float:
    """A uniform number in [0, 1) fixed for (experiment, user): the same user always lands on
    the same side, and a new experiment reshuffles users."""
    digest = hashlib.sha256(f"{experiment_id}:{user_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_ab(experiment_id: str, user_key: str | int, traffic: float) -> str:
    """The user's arm in an A/B test: the challenger for a `traffic` share of users."""
    return CHALLENGER if hash_share(experiment_id, user_key) < traffic else PRODUCTION


def thompson_arm(posteriors: Mapping[str, tuple[float, float]], rng: np.random.Generator) -> str:
    """Draw one success rate from each arm's Beta(alpha, beta) posterior; the highest wins."""
    draws = {arm: rng.beta(a, b) for arm, (a, b) in posteriors.items()}
    return max(draws, key=lambda arm: draws[arm])


def assign(
    experiment: Experiment,
    user_key: str | int,
    posteriors: Mapping[str, tuple[float, float]] | None = None,
    rng: np.random.Generator | None = None,
) -> str:
    """The arm for one request. A/B: sticky hashing. Thompson: a draw from the posteriors
    (from the event log, see outcomes.py); before any outcome both arms are Beta(1, 1)."""
    if experiment.policy == "ab":
        return assign_ab(experiment.experiment_id, user_key, experiment.traffic)
    priors = posteriors or {PRODUCTION: (1.0, 1.0), CHALLENGER: (1.0, 1.0)}
    return thompson_arm(priors, rng or np.random.default_rng())
